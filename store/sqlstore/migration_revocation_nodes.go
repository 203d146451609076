package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// revocationNodeV7 is table revocation_nodes as migration
// 202611300001_revocation_nodes created it: the roster of nodes holding
// the revocation set (see store.RevocationRoster). LeaseUntil is in Unix
// microseconds by the database's clock on PostgreSQL, by the process's
// on SQLite (which one host opens). A new table only: expand, nothing to
// contract.
type revocationNodeV7 struct {
	Node       string `gorm:"column:node;primaryKey;size:255"`
	Seq        int64  `gorm:"column:seq;not null"`
	LeaseUntil int64  `gorm:"column:lease_until;not null"`
}

func (revocationNodeV7) TableName() string { return "revocation_nodes" }

func migrationRevocationNodes() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202611300001_revocation_nodes",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(&revocationNodeV7{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&revocationNodeV7{})
		},
	}
}
