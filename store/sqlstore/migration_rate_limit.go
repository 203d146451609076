package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// clientRateLimitV6 is the column migration 202611290001_client_rate_limit
// adds: a client's own request-rate limit. It has a default, so binaries
// that predate it keep inserting clients (expand only). ADD COLUMN never
// rebuilds the table on SQLite, so the API keys' cascade is untouched.
type clientRateLimitV6 struct {
	RateLimit int `gorm:"column:rate_limit;not null;default:0"`
}

func (clientRateLimitV6) TableName() string { return "clients" }

func migrationClientRateLimit() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202611290001_client_rate_limit",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().AddColumn(&clientRateLimitV6{}, "RateLimit")
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropColumn(&clientRateLimitV6{}, "RateLimit")
		},
	}
}
