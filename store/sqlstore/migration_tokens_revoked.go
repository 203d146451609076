package sqlstore

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// clientTokensRevokedV3 and userTokensRevokedV3 are the column migration
// 202611270002_tokens_revoked_at adds: when a revoke-all last ran for the
// client or user. It is nullable, so binaries that predate it keep working
// (expand first; nothing is contracted).
type clientTokensRevokedV3 struct {
	TokensRevokedAt *time.Time `gorm:"column:tokens_revoked_at"`
}

func (clientTokensRevokedV3) TableName() string { return "clients" }

type userTokensRevokedV3 struct {
	TokensRevokedAt *time.Time `gorm:"column:tokens_revoked_at"`
}

func (userTokensRevokedV3) TableName() string { return "users" }

func migrationTokensRevokedAt() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202611270002_tokens_revoked_at",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().AddColumn(&clientTokensRevokedV3{}, "TokensRevokedAt"); err != nil {
				return err
			}
			return tx.Migrator().AddColumn(&userTokensRevokedV3{}, "TokensRevokedAt")
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropColumn(&clientTokensRevokedV3{}, "TokensRevokedAt"); err != nil {
				return err
			}
			return tx.Migrator().DropColumn(&userTokensRevokedV3{}, "TokensRevokedAt")
		},
	}
}
