package sqlstore

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// revocationV1 is table revocations as migration 202611270001_revocations
// created it. Seq is bigserial on PostgreSQL and INTEGER PRIMARY KEY
// AUTOINCREMENT on SQLite: AUTOINCREMENT, unlike a plain rowid, never
// hands out a Seq again after the highest rows are purged, so a reader's
// cursor stays valid.
type revocationV1 struct {
	Seq       int64     `gorm:"column:seq;primaryKey;autoIncrement"`
	Kind      string    `gorm:"column:kind;not null"`
	Key       string    `gorm:"column:key;not null"`
	RevokedAt time.Time `gorm:"column:revoked_at;not null"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index:revocations_expires_at_idx"`
}

func (revocationV1) TableName() string { return "revocations" }

func migrationRevocations() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202611270001_revocations",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(&revocationV1{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&revocationV1{})
		},
	}
}
