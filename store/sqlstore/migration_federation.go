package sqlstore

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// trustedIssuerV17 is table trusted_issuers as migration
// 202612070003_trusted_issuers created it: external issuers whose tokens
// authenticate bound clients (workload identity federation).
type trustedIssuerV17 struct {
	Name          string    `gorm:"column:name;primaryKey"`
	Issuer        string    `gorm:"column:issuer;not null"`
	JWKSURI       string    `gorm:"column:jwks_uri;not null"`
	JWKS          string    `gorm:"column:jwks;not null"`
	Audience      string    `gorm:"column:audience;not null"`
	MaxLifetimeNs int64     `gorm:"column:max_lifetime_ns;not null"`
	CreatedAt     time.Time `gorm:"column:created_at;not null;autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"column:updated_at;not null;autoUpdateTime:false"`
}

func (trustedIssuerV17) TableName() string { return "trusted_issuers" }

// clientFederationV18 holds the columns migration
// 202612070004_client_federation adds: a client's binding to a trusted
// issuer's subject and claims. Empty for every existing client, which
// stays unbound (expand only); FederatedClaims is a JSON object.
type clientFederationV18 struct {
	FederatedIssuer  string `gorm:"column:federated_issuer;not null;default:''"`
	FederatedSubject string `gorm:"column:federated_subject;not null;default:''"`
	FederatedClaims  string `gorm:"column:federated_claims;not null;default:''"`
}

func (clientFederationV18) TableName() string { return "clients" }

func migrationTrustedIssuers() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612070003_trusted_issuers",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(&trustedIssuerV17{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&trustedIssuerV17{})
		},
	}
}

func migrationClientFederation() *gormigrate.Migration {
	fields := []string{"FederatedIssuer", "FederatedSubject", "FederatedClaims"}
	return &gormigrate.Migration{
		ID: "202612070004_client_federation",
		Migrate: func(tx *gorm.DB) error {
			for _, f := range fields {
				if err := tx.Migrator().AddColumn(&clientFederationV18{}, f); err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, f := range fields {
				if err := tx.Migrator().DropColumn(&clientFederationV18{}, f); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
