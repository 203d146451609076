package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

var _ store.IssuerStore = (*Store)(nil)

// issuerRow is the live model of table trusted_issuers.
type issuerRow struct {
	Name          string    `gorm:"column:name;primaryKey"`
	Issuer        string    `gorm:"column:issuer"`
	JWKSURI       string    `gorm:"column:jwks_uri"`
	JWKS          string    `gorm:"column:jwks"`
	Audience      string    `gorm:"column:audience"`
	MaxLifetimeNs int64     `gorm:"column:max_lifetime_ns"`
	CreatedAt     time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (issuerRow) TableName() string { return "trusted_issuers" }

func (r *issuerRow) toIssuer() store.TrustedIssuer {
	i := store.TrustedIssuer{
		Name: r.Name, Issuer: r.Issuer, JWKSURI: r.JWKSURI, Audience: r.Audience,
		MaxLifetime: time.Duration(r.MaxLifetimeNs), CreatedAt: fromDBTime(r.CreatedAt), UpdatedAt: fromDBTime(r.UpdatedAt),
	}
	if r.JWKS != "" {
		i.JWKS = []byte(r.JWKS)
	}
	return i
}

// CreateIssuer stores i. ErrConflict if its Name is taken.
func (s *Store) CreateIssuer(ctx context.Context, i *store.TrustedIssuer) error {
	row := issuerRow{
		Name: i.Name, Issuer: i.Issuer, JWKSURI: i.JWKSURI, JWKS: string(i.JWKS), Audience: i.Audience,
		MaxLifetimeNs: int64(i.MaxLifetime), CreatedAt: dbTime(i.CreatedAt), UpdatedAt: dbTime(i.UpdatedAt),
	}
	return s.write(ctx, "create issuer", func(tx *gorm.DB) error { return tx.Create(&row).Error })
}

// GetIssuer returns the issuer with that name, or ErrNotFound.
func (s *Store) GetIssuer(ctx context.Context, name string) (*store.TrustedIssuer, error) {
	var row issuerRow
	if err := s.read(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return nil, wrapErr("get issuer", err)
	}
	i := row.toIssuer()
	return &i, nil
}

// ListIssuers returns every issuer ordered by name.
func (s *Store) ListIssuers(ctx context.Context) ([]store.TrustedIssuer, error) {
	var rows []issuerRow
	if err := s.read(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, wrapErr("list issuers", err)
	}
	out := make([]store.TrustedIssuer, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toIssuer())
	}
	return out, nil
}

// UpdateIssuer replaces every field of the stored issuer but Name and
// CreatedAt, or returns ErrNotFound.
func (s *Store) UpdateIssuer(ctx context.Context, i *store.TrustedIssuer) error {
	fields := map[string]any{
		"issuer": i.Issuer, "jwks_uri": i.JWKSURI, "jwks": string(i.JWKS), "audience": i.Audience,
		"max_lifetime_ns": int64(i.MaxLifetime), "updated_at": dbTime(i.UpdatedAt),
	}
	return s.write(ctx, "update issuer", func(tx *gorm.DB) error {
		res := tx.Model(&issuerRow{}).Where("name = ?", i.Name).Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// DeleteIssuer removes the issuer, or returns ErrNotFound.
func (s *Store) DeleteIssuer(ctx context.Context, name string) error {
	return s.write(ctx, "delete issuer", func(tx *gorm.DB) error {
		res := tx.Where("name = ?", name).Delete(&issuerRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}
