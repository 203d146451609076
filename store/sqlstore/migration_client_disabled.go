package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// clientDisabledV12 is the column migration 202612020003_client_disabled
// adds: an admin may disable a client without deleting it. It defaults to
// false, so binaries that predate it keep inserting enabled clients
// (expand only). ADD COLUMN never rebuilds the table on SQLite, so the API
// keys' cascade is untouched.
type clientDisabledV12 struct {
	Disabled bool `gorm:"column:disabled;not null;default:false"`
}

func (clientDisabledV12) TableName() string { return "clients" }

func migrationClientDisabled() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612020003_client_disabled",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().AddColumn(&clientDisabledV12{}, "Disabled")
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropColumn(&clientDisabledV12{}, "Disabled")
		},
	}
}
