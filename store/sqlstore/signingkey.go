package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// signingKeyRow is the live model of table signing_keys.
type signingKeyRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	Algorithm  string     `gorm:"column:algorithm"`
	PrivateKey []byte     `gorm:"column:private_key"`
	PublicKey  []byte     `gorm:"column:public_key"`
	CreatedAt  time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	ActiveAt   time.Time  `gorm:"column:active_at"`
	RetiredAt  *time.Time `gorm:"column:retired_at"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

func (r *signingKeyRow) toSigningKey() store.SigningKey {
	return store.SigningKey{
		ID:         r.ID,
		Algorithm:  r.Algorithm,
		PrivateKey: cloneBytes(r.PrivateKey),
		PublicKey:  cloneBytes(r.PublicKey),
		CreatedAt:  fromDBTime(r.CreatedAt),
		ActiveAt:   fromDBTime(r.ActiveAt),
		RetiredAt:  fromDBNullTime(r.RetiredAt),
	}
}

// CreateSigningKey stores k. ErrConflict if its ID is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	row := signingKeyRow{
		ID:         k.ID,
		Algorithm:  k.Algorithm,
		PrivateKey: nonNilBytes(k.PrivateKey),
		PublicKey:  nonNilBytes(k.PublicKey),
		CreatedAt:  dbTime(k.CreatedAt),
		ActiveAt:   dbTime(k.ActiveAt),
		RetiredAt:  dbNullTime(k.RetiredAt),
	}
	return s.write(ctx, "create signing key", func(tx *gorm.DB) error {
		return tx.Create(&row).Error
	})
}

// ListSigningKeys returns every stored key, oldest CreatedAt first; keys
// created at the same instant come in ID order.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	var rows []signingKeyRow
	if err := s.read(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, wrapErr("list signing keys", err)
	}
	out := make([]store.SigningKey, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toSigningKey())
	}
	return out, nil
}

// RetireSigningKey sets RetiredAt on the key, or returns ErrNotFound. A
// zero at clears it.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	fields := map[string]any{"retired_at": dbNullTime(at)}
	return s.write(ctx, "retire signing key", func(tx *gorm.DB) error {
		return updateByID(tx, &signingKeyRow{}, id, fields)
	})
}

// DeleteSigningKey removes the key, or returns ErrNotFound.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.write(ctx, "delete signing key", func(tx *gorm.DB) error {
		return deleteByID(tx, &signingKeyRow{}, id)
	})
}
