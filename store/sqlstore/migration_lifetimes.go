package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// clientMaxAccessTTLV8 is the column migration 202612010001_lifetimes adds
// to clients: the longest access-token lifetime the client ever had. It
// has a default, so binaries that predate it keep inserting and updating
// clients (expand only).
type clientMaxAccessTTLV8 struct {
	MaxAccessTokenTTLNs int64 `gorm:"column:max_access_token_ttl_ns;not null;default:0"`
}

func (clientMaxAccessTTLV8) TableName() string { return "clients" }

// tokenLifetimeV8 is table token_lifetimes as that migration creates it:
// one row per server-wide lifetime mark (see store.LifetimeMarks).
type tokenLifetimeV8 struct {
	Name  string `gorm:"column:name;primaryKey;size:32"`
	TTLNs int64  `gorm:"column:ttl_ns;not null"`
}

func (tokenLifetimeV8) TableName() string { return "token_lifetimes" }

// migrationLifetimes adds the lifetime marks and starts them from what is
// known: each client's current lifetime. Earlier lifetimes, and the server
// defaults of earlier starts, were never recorded; the next start raises
// the default mark to its configured default.
func migrationLifetimes() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612010001_lifetimes",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().AddColumn(&clientMaxAccessTTLV8{}, "MaxAccessTokenTTLNs"); err != nil {
				return err
			}
			if err := tx.Exec("UPDATE clients SET max_access_token_ttl_ns = access_token_ttl_ns").Error; err != nil {
				return err
			}
			if err := tx.Migrator().CreateTable(&tokenLifetimeV8{}); err != nil {
				return err
			}
			return tx.Exec("INSERT INTO token_lifetimes (name, ttl_ns) " +
				"SELECT 'longest', COALESCE(MAX(access_token_ttl_ns), 0) FROM clients " +
				"UNION ALL SELECT 'default', 0").Error
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable(&tokenLifetimeV8{}); err != nil {
				return err
			}
			return tx.Migrator().DropColumn(&clientMaxAccessTTLV8{}, "MaxAccessTokenTTLNs")
		},
	}
}
