package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// migrationRevocationsKey indexes revocations by (kind, key), so that
// Revoke finds an entry that already covers a new one in one lookup
// instead of recording a duplicate. An index only: expand, nothing to
// contract; older binaries ignore it.
func migrationRevocationsKey() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612050001_revocations_kind_key",
		Migrate: func(tx *gorm.DB) error {
			return tx.Exec(`CREATE INDEX IF NOT EXISTS revocations_kind_key_idx ON revocations (kind, "key")`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec(`DROP INDEX IF EXISTS revocations_kind_key_idx`).Error
		},
	}
}
