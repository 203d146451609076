package sqlstore

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// changeLogV12 is table change_log as migration 202612020002_change_log
// creates it: one row per committed client or API-key change (see
// store.ChangeFeed), written in the change's own transaction.
type changeLogV12 struct {
	Seq       int64     `gorm:"column:seq;primaryKey;autoIncrement:false"`
	Kind      string    `gorm:"column:kind;size:16;not null"`
	EntityID  string    `gorm:"column:entity_id;size:255;not null"`
	ChangedAt time.Time `gorm:"column:changed_at;not null"`
}

func (changeLogV12) TableName() string { return "change_log" }

// changeSeqV12 is table change_seq: one row holding the last Seq given
// out. Taking the next Seq updates that row, which on PostgreSQL locks it
// until commit, so Seqs are given out in commit order and without gaps
// (a rolled-back transaction rolls its Seq back too).
type changeSeqV12 struct {
	ID  int   `gorm:"column:id;primaryKey;autoIncrement:false"`
	Seq int64 `gorm:"column:seq;not null"`
}

func (changeSeqV12) TableName() string { return "change_seq" }

// migrationChangeLog adds the change log. New tables only: expand, nothing
// to contract; binaries that predate it neither read nor write it (their
// writes reach a newer server's cache only through its TTL).
func migrationChangeLog() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612020002_change_log",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(&changeLogV12{}, &changeSeqV12{}); err != nil {
				return err
			}
			return tx.Exec("INSERT INTO change_seq (id, seq) VALUES (1, 0)").Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&changeLogV12{}, &changeSeqV12{})
		},
	}
}
