package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tollgate/tollgate/store"
)

// refreshTokenRow is the live model of table refresh_tokens. UserID is ""
// for tokens not bound to a user.
type refreshTokenRow struct {
	ID             string     `gorm:"column:id;primaryKey"`
	FamilyID       string     `gorm:"column:family_id"`
	ClientID       string     `gorm:"column:client_id"`
	UserID         string     `gorm:"column:user_id"`
	Scopes         string     `gorm:"column:scopes"`
	IssuedAt       time.Time  `gorm:"column:issued_at"`
	FamilyIssuedAt time.Time  `gorm:"column:family_issued_at"`
	ExpiresAt      time.Time  `gorm:"column:expires_at"`
	RotatedAt      *time.Time `gorm:"column:rotated_at"`
	KeyThumbprint  string     `gorm:"column:dpop_jkt"`
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

// familyRevocationRow is the live model of table refresh_family_revocations:
// a revoked family refuses new tokens until RevokedUntil.
type familyRevocationRow struct {
	FamilyID     string    `gorm:"column:family_id;primaryKey"`
	RevokedUntil time.Time `gorm:"column:revoked_until"`
}

func (familyRevocationRow) TableName() string { return "refresh_family_revocations" }

func refreshToRow(t *store.RefreshToken) refreshTokenRow {
	return refreshTokenRow{
		ID:             t.ID,
		FamilyID:       t.FamilyID,
		ClientID:       t.ClientID,
		UserID:         t.UserID,
		Scopes:         encodeList(t.Scopes),
		IssuedAt:       dbTime(t.IssuedAt),
		FamilyIssuedAt: dbTime(t.FamilyIssuedAt),
		ExpiresAt:      dbTime(t.ExpiresAt),
		RotatedAt:      dbNullTime(t.RotatedAt),
		KeyThumbprint:  t.KeyThumbprint,
	}
}

func (r *refreshTokenRow) toRefreshToken() (*store.RefreshToken, error) {
	scopes, err := decodeList("scopes", r.Scopes)
	if err != nil {
		return nil, err
	}
	return &store.RefreshToken{
		ID:             r.ID,
		FamilyID:       r.FamilyID,
		ClientID:       r.ClientID,
		UserID:         r.UserID,
		Scopes:         scopes,
		IssuedAt:       fromDBTime(r.IssuedAt),
		FamilyIssuedAt: fromDBTime(r.FamilyIssuedAt),
		ExpiresAt:      fromDBTime(r.ExpiresAt),
		RotatedAt:      fromDBNullTime(r.RotatedAt),
		KeyThumbprint:  r.KeyThumbprint,
	}, nil
}

// notRevoked filters refresh_tokens rows (aliased t) to families without a
// revocation in force at now. Reads apply it because a token written
// concurrently with a revocation can outlive the revocation's delete.
const notRevoked = "NOT EXISTS (SELECT 1 FROM refresh_family_revocations r " +
	"WHERE r.family_id = t.family_id AND r.revoked_until > ?)"

// CreateRefreshToken stores t. ErrConflict if its ID exists; ErrNotFound if
// its family is revoked.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	row := refreshToRow(t)
	now := dbTime(s.now())
	return s.write(ctx, "create refresh token", func(tx *gorm.DB) error {
		if err := checkFamily(tx, row.FamilyID, now); err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
}

// GetRefreshToken returns the token with that ID in that family, rotated
// or not. ErrNotFound if it is unknown, expired, or its family is revoked.
func (s *Store) GetRefreshToken(ctx context.Context, familyID, id string) (*store.RefreshToken, error) {
	now := dbTime(s.now())
	var row refreshTokenRow
	err := s.read(ctx).Table("refresh_tokens AS t").
		Where("t.id = ? AND t.family_id = ? AND t.expires_at > ?", id, familyID, now).
		Where(notRevoked, now).
		Take(&row).Error
	if err != nil {
		return nil, wrapErr("get refresh token", err)
	}
	rt, err := row.toRefreshToken()
	return rt, wrapErr("get refresh token", err)
}

// RotateRefreshToken marks token id rotated at now and stores next in the
// same transaction. The conditional UPDATE is the arbiter between
// concurrent rotations: only one of them finds rotated_at still NULL.
// ErrTokenReused for a token already rotated; ErrNotFound if it is
// unknown, expired at now, or its family is revoked; ErrConflict if next's
// ID exists. next.FamilyID must be familyID (or empty, meaning familyID).
func (s *Store) RotateRefreshToken(ctx context.Context, familyID, id string, next *store.RefreshToken, now time.Time) error {
	if next.FamilyID != "" && next.FamilyID != familyID {
		return errors.New("sqlstore: rotate refresh token: next token belongs to another family")
	}
	row := refreshToRow(next)
	row.FamilyID = familyID
	now = dbTime(now)
	return s.write(ctx, "rotate refresh token", func(tx *gorm.DB) error {
		if err := checkFamily(tx, familyID, now); err != nil {
			return err
		}
		res := tx.Model(&refreshTokenRow{}).
			Where("id = ? AND family_id = ? AND rotated_at IS NULL AND expires_at > ?", id, familyID, now).
			Update("rotated_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return whyNotRotated(tx, familyID, id, now)
		}
		return tx.Create(&row).Error
	})
}

// whyNotRotated tells ErrTokenReused from ErrNotFound after the UPDATE of
// RotateRefreshToken matched nothing.
func whyNotRotated(tx *gorm.DB, familyID, id string, now time.Time) error {
	var row refreshTokenRow
	err := tx.Where("id = ? AND family_id = ?", id, familyID).Take(&row).Error
	switch {
	case err != nil:
		return err // gorm.ErrRecordNotFound becomes store.ErrNotFound
	case !row.ExpiresAt.After(now):
		return store.ErrNotFound
	case row.RotatedAt != nil:
		return store.ErrTokenReused
	}
	// The row matched every condition yet was not updated: only possible if
	// it changed between the two statements; report it as gone.
	return store.ErrNotFound
}

// checkFamily returns ErrNotFound if familyID is revoked at now.
func checkFamily(tx *gorm.DB, familyID string, now time.Time) error {
	var n int64
	err := tx.Model(&familyRevocationRow{}).
		Where("family_id = ? AND revoked_until > ?", familyID, now).
		Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: refresh family revoked", store.ErrNotFound)
	}
	return nil
}

// RevokeRefreshFamily deletes every token of the family and refuses new
// ones in it until until. An existing later revocation is kept. Revoking an
// unknown family is not an error.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, until time.Time) error {
	rev := familyRevocationRow{FamilyID: familyID, RevokedUntil: dbTime(until)}
	return s.write(ctx, "revoke refresh family", func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "family_id"}},
			DoUpdates: clause.Set{{
				Column: clause.Column{Name: "revoked_until"},
				Value: gorm.Expr("CASE WHEN excluded.revoked_until > refresh_family_revocations.revoked_until " +
					"THEN excluded.revoked_until ELSE refresh_family_revocations.revoked_until END"),
			}},
		}).Create(&rev).Error
		if err != nil {
			return err
		}
		return tx.Where("family_id = ?", familyID).Delete(&refreshTokenRow{}).Error
	})
}

// DeleteExpired purges refresh tokens that expired at or before now,
// family revocations that ended by then and expired revocation entries,
// and reports how many rows it removed in all. The server calls it
// periodically; nothing else depends on it, since reads already ignore
// expired rows.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	now = dbTime(now)
	var n int64
	err := s.write(ctx, "delete expired", func(tx *gorm.DB) error {
		n = 0
		res := tx.Where("expires_at <= ?", now).Delete(&refreshTokenRow{})
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		res = tx.Where("revoked_until <= ?", now).Delete(&familyRevocationRow{})
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		revs, err := deleteExpiredRevocations(tx, now)
		n += revs
		if err != nil {
			return err
		}
		res = tx.Where("expires_at <= ?", now).Delete(&replayRow{})
		n += res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
