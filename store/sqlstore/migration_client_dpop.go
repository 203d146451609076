package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// clientDPoPBoundV13 is the column migration 202612020004_client_dpop_bound
// adds: a client may be required to send DPoP proofs (RFC 9449 §5.2). It
// defaults to false, so binaries that predate it keep inserting clients
// that may use bearer tokens (expand only).
type clientDPoPBoundV13 struct {
	DPoPBound bool `gorm:"column:dpop_bound;not null;default:false"`
}

func (clientDPoPBoundV13) TableName() string { return "clients" }

func migrationClientDPoPBound() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612020004_client_dpop_bound",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().AddColumn(&clientDPoPBoundV13{}, "DPoPBound")
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropColumn(&clientDPoPBoundV13{}, "DPoPBound")
		},
	}
}

// refreshDPoPV14 is the column migration 202612020005_refresh_dpop adds: a
// refresh family bound to a DPoP key (RFC 9449 §5). Empty for every
// existing token, which stays unbound (expand only).
type refreshDPoPV14 struct {
	KeyThumbprint string `gorm:"column:dpop_jkt;not null;default:''"`
}

func (refreshDPoPV14) TableName() string { return "refresh_tokens" }

func migrationRefreshDPoP() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202612020005_refresh_dpop",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().AddColumn(&refreshDPoPV14{}, "KeyThumbprint")
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropColumn(&refreshDPoPV14{}, "KeyThumbprint")
		},
	}
}
