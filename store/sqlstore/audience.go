package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// audienceRow is the live model of table audiences.
type audienceRow struct {
	Name         string    `gorm:"column:name;primaryKey"`
	Encrypted    bool      `gorm:"column:encrypted"`
	KeyAlgorithm string    `gorm:"column:key_algorithm"`
	CreatedAt    time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (audienceRow) TableName() string { return "audiences" }

func (r *audienceRow) toAudience() store.Audience {
	return store.Audience{
		Name: r.Name, Encrypted: r.Encrypted, KeyAlgorithm: r.KeyAlgorithm,
		CreatedAt: fromDBTime(r.CreatedAt), UpdatedAt: fromDBTime(r.UpdatedAt),
	}
}

// audienceKeyRow is the live model of table audience_keys.
type audienceKeyRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	Audience   string     `gorm:"column:audience"`
	Algorithm  string     `gorm:"column:algorithm"`
	PrivateKey []byte     `gorm:"column:private_key"`
	PublicKey  []byte     `gorm:"column:public_key"`
	CreatedAt  time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	ActiveAt   time.Time  `gorm:"column:active_at"`
	RetiredAt  *time.Time `gorm:"column:retired_at"`
}

func (audienceKeyRow) TableName() string { return "audience_keys" }

func (r *audienceKeyRow) toAudienceKey() store.AudienceKey {
	return store.AudienceKey{
		ID: r.ID, Audience: r.Audience, Algorithm: r.Algorithm,
		PrivateKey: cloneBytes(r.PrivateKey), PublicKey: cloneBytes(r.PublicKey),
		CreatedAt: fromDBTime(r.CreatedAt), ActiveAt: fromDBTime(r.ActiveAt), RetiredAt: fromDBNullTime(r.RetiredAt),
	}
}

// CreateAudience stores a. ErrConflict if its Name is taken.
func (s *Store) CreateAudience(ctx context.Context, a *store.Audience) error {
	row := audienceRow{
		Name: a.Name, Encrypted: a.Encrypted, KeyAlgorithm: a.KeyAlgorithm,
		CreatedAt: dbTime(a.CreatedAt), UpdatedAt: dbTime(a.UpdatedAt),
	}
	return s.write(ctx, "create audience", func(tx *gorm.DB) error { return tx.Create(&row).Error })
}

// GetAudience returns the audience with that name, or ErrNotFound.
func (s *Store) GetAudience(ctx context.Context, name string) (*store.Audience, error) {
	var row audienceRow
	if err := s.read(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return nil, wrapErr("get audience", err)
	}
	a := row.toAudience()
	return &a, nil
}

// ListAudiences returns every audience ordered by name (byte order).
func (s *Store) ListAudiences(ctx context.Context) ([]store.Audience, error) {
	var rows []audienceRow
	if err := s.read(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, wrapErr("list audiences", err)
	}
	out := make([]store.Audience, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toAudience())
	}
	return out, nil
}

// UpdateAudience replaces Encrypted, KeyAlgorithm and UpdatedAt of the
// stored audience, or returns ErrNotFound.
func (s *Store) UpdateAudience(ctx context.Context, a *store.Audience) error {
	fields := map[string]any{"encrypted": a.Encrypted, "key_algorithm": a.KeyAlgorithm, "updated_at": dbTime(a.UpdatedAt)}
	return s.write(ctx, "update audience", func(tx *gorm.DB) error {
		res := tx.Model(&audienceRow{}).Where("name = ?", a.Name).Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// DeleteAudience removes the audience and all its keys, or returns
// ErrNotFound. The keys are deleted explicitly rather than left to the
// foreign key's cascade, so that a connection without foreign keys
// enforced cannot leave them behind.
func (s *Store) DeleteAudience(ctx context.Context, name string) error {
	return s.write(ctx, "delete audience", func(tx *gorm.DB) error {
		if err := tx.Where("audience = ?", name).Delete(&audienceKeyRow{}).Error; err != nil {
			return err
		}
		res := tx.Where("name = ?", name).Delete(&audienceRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// CreateAudienceKey stores k. ErrConflict if its ID is taken, ErrNotFound
// if its Audience does not exist (the foreign key refuses it).
func (s *Store) CreateAudienceKey(ctx context.Context, k *store.AudienceKey) error {
	row := audienceKeyRow{
		ID: k.ID, Audience: k.Audience, Algorithm: k.Algorithm,
		PrivateKey: nonNilBytes(k.PrivateKey), PublicKey: nonNilBytes(k.PublicKey),
		CreatedAt: dbTime(k.CreatedAt), ActiveAt: dbTime(k.ActiveAt), RetiredAt: dbNullTime(k.RetiredAt),
	}
	return s.write(ctx, "create audience key", func(tx *gorm.DB) error {
		err := tx.Create(&row).Error
		if isForeignKeyViolation(err) {
			return fmt.Errorf("%w: audience key's audience does not exist: %w", store.ErrNotFound, err)
		}
		return err
	})
}

// ListAudienceKeys returns the keys of every audience, oldest CreatedAt
// first; keys created at the same instant come in ID order.
func (s *Store) ListAudienceKeys(ctx context.Context) ([]store.AudienceKey, error) {
	var rows []audienceKeyRow
	if err := s.read(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, wrapErr("list audience keys", err)
	}
	out := make([]store.AudienceKey, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toAudienceKey())
	}
	return out, nil
}

// RetireAudienceKey sets RetiredAt on the key, or returns ErrNotFound. A
// zero at clears it.
func (s *Store) RetireAudienceKey(ctx context.Context, id string, at time.Time) error {
	fields := map[string]any{"retired_at": dbNullTime(at)}
	return s.write(ctx, "retire audience key", func(tx *gorm.DB) error {
		return updateByID(tx, &audienceKeyRow{}, id, fields)
	})
}

// DeleteAudienceKey removes the key, or returns ErrNotFound.
func (s *Store) DeleteAudienceKey(ctx context.Context, id string) error {
	return s.write(ctx, "delete audience key", func(tx *gorm.DB) error {
		return deleteByID(tx, &audienceKeyRow{}, id)
	})
}
