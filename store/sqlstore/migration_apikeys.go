package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Table api_keys as migration 202611280001_api_keys creates it, written
// out per dialect because the owner foreign keys and their CHECK must be
// part of CREATE TABLE on SQLite. A key has exactly one owner column set;
// deleting that user or client deletes its keys in the same transaction
// (ON DELETE CASCADE; SQLite enforces it because Open turns foreign_keys
// on for every connection). The owner indexes serve both per-owner
// listing and the cascade's lookup.
//
// Caution for later migrations: on SQLite, GORM's AlterColumn and
// DropColumn rebuild a table by dropping it, and dropping users or clients
// with foreign keys on deletes every API key through the cascade.
var (
	apiKeysPostgresV4 = []string{
		`CREATE TABLE api_keys (
			id text COLLATE "C" NOT NULL PRIMARY KEY,
			owner_user_id text COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
			owner_client_id text COLLATE "C" REFERENCES clients (id) ON DELETE CASCADE,
			name text NOT NULL,
			scopes text NOT NULL,
			hash bytea NOT NULL,
			prefix text NOT NULL,
			last4 text NOT NULL,
			expires_at timestamptz,
			created_at timestamptz NOT NULL,
			last_used_at timestamptz,
			revoked_at timestamptz,
			CONSTRAINT api_keys_one_owner CHECK ((owner_user_id IS NULL) <> (owner_client_id IS NULL))
		)`,
		`CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (hash)`,
		`CREATE INDEX api_keys_owner_user_idx ON api_keys (owner_user_id, id)`,
		`CREATE INDEX api_keys_owner_client_idx ON api_keys (owner_client_id, id)`,
	}
	apiKeysSQLiteV4 = []string{
		"CREATE TABLE `api_keys` (" +
			"`id` text NOT NULL PRIMARY KEY," +
			"`owner_user_id` text REFERENCES `users` (`id`) ON DELETE CASCADE," +
			"`owner_client_id` text REFERENCES `clients` (`id`) ON DELETE CASCADE," +
			"`name` text NOT NULL," +
			"`scopes` text NOT NULL," +
			"`hash` blob NOT NULL," +
			"`prefix` text NOT NULL," +
			"`last4` text NOT NULL," +
			"`expires_at` datetime," +
			"`created_at` datetime NOT NULL," +
			"`last_used_at` datetime," +
			"`revoked_at` datetime," +
			"CONSTRAINT `api_keys_one_owner` CHECK ((`owner_user_id` IS NULL) <> (`owner_client_id` IS NULL)))",
		"CREATE UNIQUE INDEX `api_keys_hash_key` ON `api_keys` (`hash`)",
		"CREATE INDEX `api_keys_owner_user_idx` ON `api_keys` (`owner_user_id`, `id`)",
		"CREATE INDEX `api_keys_owner_client_idx` ON `api_keys` (`owner_client_id`, `id`)",
	}
)

func migrationAPIKeys() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202611280001_api_keys",
		Migrate: func(tx *gorm.DB) error {
			stmts := apiKeysSQLiteV4
			if tx.Dialector.Name() == DialectPostgres {
				stmts = apiKeysPostgresV4
			}
			return execAll(tx, stmts)
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec("DROP TABLE api_keys").Error
		},
	}
}

// execAll runs stmts in order and stops at the first error.
func execAll(tx *gorm.DB, stmts []string) error {
	for _, stmt := range stmts {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
