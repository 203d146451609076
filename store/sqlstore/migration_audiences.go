package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Tables audiences and audience_keys as migration 202612080001_audiences
// creates them: the APIs that receive encrypted access tokens (RFC 7519
// §5.2 nested JWTs) and their encryption key pairs. Names and key IDs sort
// in byte order ("C" collation on PostgreSQL, as SQLite does), which
// ListAudiences and ListAudienceKeys rely on. Deleting an audience deletes
// its keys (ON DELETE CASCADE; DeleteAudience also deletes them itself).
// private_key holds the sealed PKCS #8 key, public_key the PKIX DER.
var (
	audiencesPostgresV19 = []string{
		`CREATE TABLE audiences (
			name text COLLATE "C" NOT NULL PRIMARY KEY,
			encrypted boolean NOT NULL,
			key_algorithm text NOT NULL,
			created_at timestamptz NOT NULL,
			updated_at timestamptz NOT NULL
		)`,
		`CREATE TABLE audience_keys (
			id text COLLATE "C" NOT NULL PRIMARY KEY,
			audience text COLLATE "C" NOT NULL REFERENCES audiences (name) ON DELETE CASCADE,
			algorithm text NOT NULL,
			private_key bytea NOT NULL,
			public_key bytea NOT NULL,
			created_at timestamptz NOT NULL,
			active_at timestamptz NOT NULL,
			retired_at timestamptz
		)`,
		`CREATE INDEX audience_keys_audience_idx ON audience_keys (audience)`,
		`CREATE INDEX audience_keys_created_at_idx ON audience_keys (created_at, id)`,
	}
	audiencesSQLiteV19 = []string{
		"CREATE TABLE `audiences` (" +
			"`name` text NOT NULL PRIMARY KEY," +
			"`encrypted` numeric NOT NULL," +
			"`key_algorithm` text NOT NULL," +
			"`created_at` datetime NOT NULL," +
			"`updated_at` datetime NOT NULL)",
		"CREATE TABLE `audience_keys` (" +
			"`id` text NOT NULL PRIMARY KEY," +
			"`audience` text NOT NULL REFERENCES `audiences` (`name`) ON DELETE CASCADE," +
			"`algorithm` text NOT NULL," +
			"`private_key` blob NOT NULL," +
			"`public_key` blob NOT NULL," +
			"`created_at` datetime NOT NULL," +
			"`active_at` datetime NOT NULL," +
			"`retired_at` datetime)",
		"CREATE INDEX `audience_keys_audience_idx` ON `audience_keys` (`audience`)",
		"CREATE INDEX `audience_keys_created_at_idx` ON `audience_keys` (`created_at`, `id`)",
	}
)

func migrationAudiences() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612080001_audiences",
		Migrate: func(tx *gorm.DB) error {
			stmts := audiencesSQLiteV19
			if tx.Dialector.Name() == DialectPostgres {
				stmts = audiencesPostgresV19
			}
			return execAll(tx, stmts)
		},
		Rollback: func(tx *gorm.DB) error {
			return execAll(tx, []string{"DROP TABLE audience_keys", "DROP TABLE audiences"})
		},
	}
}

// clientClaimsV20 holds the columns migration 202612080002_subject_claims
// adds to clients and users: extra claims of the subject's tokens, public
// and private (only in encrypted tokens), as JSON object text like
// subject_api_keys.claims; "" means none. They default to "", so binaries
// that predate them keep inserting subjects without claims (expand only).
type clientClaimsV20 struct {
	Claims        string `gorm:"column:claims;not null;default:''"`
	PrivateClaims string `gorm:"column:private_claims;not null;default:''"`
}

func (clientClaimsV20) TableName() string { return "clients" }

// userClaimsV20 is clientClaimsV20 on table users.
type userClaimsV20 struct {
	Claims        string `gorm:"column:claims;not null;default:''"`
	PrivateClaims string `gorm:"column:private_claims;not null;default:''"`
}

func (userClaimsV20) TableName() string { return "users" }

func migrationSubjectClaims() *gormigrate.Migration {
	models := []any{&clientClaimsV20{}, &userClaimsV20{}}
	fields := []string{"Claims", "PrivateClaims"}
	return &gormigrate.Migration{
		ID: "202612080002_subject_claims",
		Migrate: func(tx *gorm.DB) error {
			for _, m := range models {
				for _, f := range fields {
					if err := tx.Migrator().AddColumn(m, f); err != nil {
						return err
					}
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, m := range models {
				for _, f := range fields {
					if err := tx.Migrator().DropColumn(m, f); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}
