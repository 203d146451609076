package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Table subject_api_keys as migration 202612020001_apikey_subjects creates
// it: API keys an application client issued for its own users (owner_type
// "subject"). They live in a table of their own rather than in api_keys,
// whose CHECK demands a user or client owner: a binary that predates this
// migration never sees them, so it can neither list nor exchange them as
// the app's own keys (expand only, fail closed). Deleting the app client
// deletes its subjects' keys (ON DELETE CASCADE). roles and claims are
// JSON text; claims "" means none.
var (
	subjectKeysPostgresV8 = []string{
		`CREATE TABLE subject_api_keys (
			id text COLLATE "C" NOT NULL PRIMARY KEY,
			client_id text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
			subject text COLLATE "C" NOT NULL,
			name text NOT NULL,
			scopes text NOT NULL,
			roles text NOT NULL,
			claims text NOT NULL,
			hash bytea NOT NULL,
			prefix text NOT NULL,
			last4 text NOT NULL,
			expires_at timestamptz,
			created_at timestamptz NOT NULL,
			last_used_at timestamptz,
			revoked_at timestamptz
		)`,
		`CREATE UNIQUE INDEX subject_api_keys_hash_key ON subject_api_keys (hash)`,
		`CREATE INDEX subject_api_keys_owner_idx ON subject_api_keys (client_id, subject, id)`,
	}
	subjectKeysSQLiteV8 = []string{
		"CREATE TABLE `subject_api_keys` (" +
			"`id` text NOT NULL PRIMARY KEY," +
			"`client_id` text NOT NULL REFERENCES `clients` (`id`) ON DELETE CASCADE," +
			"`subject` text NOT NULL," +
			"`name` text NOT NULL," +
			"`scopes` text NOT NULL," +
			"`roles` text NOT NULL," +
			"`claims` text NOT NULL," +
			"`hash` blob NOT NULL," +
			"`prefix` text NOT NULL," +
			"`last4` text NOT NULL," +
			"`expires_at` datetime," +
			"`created_at` datetime NOT NULL," +
			"`last_used_at` datetime," +
			"`revoked_at` datetime)",
		"CREATE UNIQUE INDEX `subject_api_keys_hash_key` ON `subject_api_keys` (`hash`)",
		"CREATE INDEX `subject_api_keys_owner_idx` ON `subject_api_keys` (`client_id`, `subject`, `id`)",
	}
)

func migrationAPIKeySubjects() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612020001_apikey_subjects",
		Migrate: func(tx *gorm.DB) error {
			stmts := subjectKeysSQLiteV8
			if tx.Dialector.Name() == DialectPostgres {
				stmts = subjectKeysPostgresV8
			}
			return execAll(tx, stmts)
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec("DROP TABLE subject_api_keys").Error
		},
	}
}
