package sqlstore

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// clientKeysV15 holds the columns migration 202612070001_client_keys adds:
// how a client authenticates (RFC 7591 token_endpoint_auth_method) and its
// public keys for private_key_jwt (RFC 7523 §2.2). They default to empty,
// which reads as client_secret_basic without keys, so binaries that
// predate them keep inserting secret clients (expand only). A
// private_key_jwt client stores an empty secret hash, which never
// matches: such a binary refuses it any secret.
type clientKeysV15 struct {
	AuthMethod string `gorm:"column:token_endpoint_auth_method;not null;default:''"`
	JWKS       string `gorm:"column:jwks;not null;default:''"`
	JWKSURI    string `gorm:"column:jwks_uri;not null;default:''"`
}

func (clientKeysV15) TableName() string { return "clients" }

func migrationClientKeys() *gormigrate.Migration {
	fields := []string{"AuthMethod", "JWKS", "JWKSURI"}
	return &gormigrate.Migration{
		ID: "202612070001_client_keys",
		Migrate: func(tx *gorm.DB) error {
			for _, f := range fields {
				if err := tx.Migrator().AddColumn(&clientKeysV15{}, f); err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, f := range fields {
				if err := tx.Migrator().DropColumn(&clientKeysV15{}, f); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// assertionReplayV16 is table assertion_replays as migration
// 202612070002_assertion_replay created it: the single-use IDs of client
// assertions (RFC 7523 §3), each kept until it expires.
type assertionReplayV16 struct {
	ID        string    `gorm:"column:id;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index:assertion_replays_expires_at_idx"`
}

func (assertionReplayV16) TableName() string { return "assertion_replays" }

func migrationAssertionReplay() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612070002_assertion_replay",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(&assertionReplayV16{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&assertionReplayV16{})
		},
	}
}
