package sqlstore

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// The tables of migration 202611260001_initial, frozen as they were
// created. GORM picks the column types per dialect: text, bytea/blob,
// bigint/integer, boolean/numeric, timestamptz/datetime. List columns hold
// JSON arrays; durations hold nanoseconds; times are UTC.

type clientV1 struct {
	ID                  string     `gorm:"column:id;primaryKey"`
	Name                string     `gorm:"column:name;not null;uniqueIndex:clients_name_key"`
	SecretHash          []byte     `gorm:"column:secret_hash;not null"`
	PrevSecretHash      []byte     `gorm:"column:prev_secret_hash"`
	PrevSecretExpiresAt *time.Time `gorm:"column:prev_secret_expires_at"`
	GrantTypes          string     `gorm:"column:grant_types;not null"`
	Scopes              string     `gorm:"column:scopes;not null"`
	DefaultScopes       string     `gorm:"column:default_scopes;not null"`
	Audience            string     `gorm:"column:audience;not null"`
	Roles               string     `gorm:"column:roles;not null"`
	AccessTokenTTLNs    int64      `gorm:"column:access_token_ttl_ns;not null"`
	RefreshTokenTTLNs   int64      `gorm:"column:refresh_token_ttl_ns;not null"`
	CreatedAt           time.Time  `gorm:"column:created_at;not null;autoCreateTime:false"`
	UpdatedAt           time.Time  `gorm:"column:updated_at;not null;autoUpdateTime:false"`
}

func (clientV1) TableName() string { return "clients" }

type userV1 struct {
	ID           string    `gorm:"column:id;primaryKey"`
	Username     string    `gorm:"column:username;not null;uniqueIndex:users_username_key"`
	PasswordHash string    `gorm:"column:password_hash;not null"`
	Roles        string    `gorm:"column:roles;not null"`
	Disabled     bool      `gorm:"column:disabled;not null"`
	CreatedAt    time.Time `gorm:"column:created_at;not null;autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"column:updated_at;not null;autoUpdateTime:false"`
}

func (userV1) TableName() string { return "users" }

type signingKeyV1 struct {
	ID         string     `gorm:"column:id;primaryKey"`
	Algorithm  string     `gorm:"column:algorithm;not null"`
	PrivateKey []byte     `gorm:"column:private_key;not null"`
	PublicKey  []byte     `gorm:"column:public_key;not null"`
	CreatedAt  time.Time  `gorm:"column:created_at;not null;index:signing_keys_created_at_idx;autoCreateTime:false"`
	ActiveAt   time.Time  `gorm:"column:active_at;not null"`
	RetiredAt  *time.Time `gorm:"column:retired_at"`
}

func (signingKeyV1) TableName() string { return "signing_keys" }

type refreshTokenV1 struct {
	ID             string     `gorm:"column:id;primaryKey"`
	FamilyID       string     `gorm:"column:family_id;not null;index:refresh_tokens_family_id_idx"`
	ClientID       string     `gorm:"column:client_id;not null"`
	UserID         string     `gorm:"column:user_id;not null"`
	Scopes         string     `gorm:"column:scopes;not null"`
	IssuedAt       time.Time  `gorm:"column:issued_at;not null"`
	FamilyIssuedAt time.Time  `gorm:"column:family_issued_at;not null"`
	ExpiresAt      time.Time  `gorm:"column:expires_at;not null;index:refresh_tokens_expires_at_idx"`
	RotatedAt      *time.Time `gorm:"column:rotated_at"`
}

func (refreshTokenV1) TableName() string { return "refresh_tokens" }

type familyRevocationV1 struct {
	FamilyID     string    `gorm:"column:family_id;primaryKey"`
	RevokedUntil time.Time `gorm:"column:revoked_until;not null;index:refresh_family_revocations_until_idx"`
}

func (familyRevocationV1) TableName() string { return "refresh_family_revocations" }

// postgresByteOrderV1 gives PostgreSQL's cursor columns the "C" collation,
// so that ORDER BY id and id > cursor follow byte order as on SQLite,
// whatever the database's locale.
var postgresByteOrderV1 = []string{
	`ALTER TABLE clients ALTER COLUMN id TYPE text COLLATE "C"`,
	`ALTER TABLE users ALTER COLUMN id TYPE text COLLATE "C"`,
	`ALTER TABLE signing_keys ALTER COLUMN id TYPE text COLLATE "C"`,
}

func migrationInitial() *gormigrate.Migration {
	tables := []any{&clientV1{}, &userV1{}, &signingKeyV1{}, &refreshTokenV1{}, &familyRevocationV1{}}
	return &gormigrate.Migration{
		ID: "202611260001_initial",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(tables...); err != nil {
				return err
			}
			if tx.Dialector.Name() != DialectPostgres {
				return nil
			}
			for _, stmt := range postgresByteOrderV1 {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(tables...)
		},
	}
}
