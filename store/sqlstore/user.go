package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// userRow is the live model of table users.
type userRow struct {
	ID              string     `gorm:"column:id;primaryKey"`
	Username        string     `gorm:"column:username"`
	PasswordHash    string     `gorm:"column:password_hash"`
	Roles           string     `gorm:"column:roles"`
	Disabled        bool       `gorm:"column:disabled"`
	TokensRevokedAt *time.Time `gorm:"column:tokens_revoked_at"`
	Claims          string     `gorm:"column:claims"`
	PrivateClaims   string     `gorm:"column:private_claims"`
	CreatedAt       time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt       time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (userRow) TableName() string { return "users" }

func userToRow(u *store.User) userRow {
	return userRow{
		ID:              u.ID,
		Username:        u.Username,
		PasswordHash:    u.PasswordHash,
		Roles:           encodeList(u.Roles),
		Disabled:        u.Disabled,
		TokensRevokedAt: dbNullTime(u.TokensRevokedAt),
		Claims:          string(u.Claims),
		PrivateClaims:   string(u.PrivateClaims),
		CreatedAt:       dbTime(u.CreatedAt),
		UpdatedAt:       dbTime(u.UpdatedAt),
	}
}

func (r *userRow) toUser() (*store.User, error) {
	var d listDecoder
	u := &store.User{
		ID:              r.ID,
		Username:        r.Username,
		PasswordHash:    r.PasswordHash,
		Roles:           d.list("roles", r.Roles),
		Disabled:        r.Disabled,
		TokensRevokedAt: fromDBNullTime(r.TokensRevokedAt),
		Claims:          claimsBytes(r.Claims),
		PrivateClaims:   claimsBytes(r.PrivateClaims),
		CreatedAt:       fromDBTime(r.CreatedAt),
		UpdatedAt:       fromDBTime(r.UpdatedAt),
	}
	if d.err != nil {
		return nil, d.err
	}
	return u, nil
}

// CreateUser stores u. ErrConflict if its ID or Username is taken.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	row := userToRow(u)
	return s.write(ctx, "create user", func(tx *gorm.DB) error {
		return tx.Create(&row).Error
	})
}

// GetUser returns the user with that ID, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*store.User, error) {
	return s.getUser(ctx, "get user", "id = ?", id)
}

// GetUserByUsername returns the user with exactly that username (byte
// comparison, so case-sensitive), or ErrNotFound.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (*store.User, error) {
	return s.getUser(ctx, "get user by username", "username = ?", username)
}

func (s *Store) getUser(ctx context.Context, op, where string, arg string) (*store.User, error) {
	var row userRow
	if err := s.read(ctx).Where(where, arg).Take(&row).Error; err != nil {
		return nil, wrapErr(op, err)
	}
	u, err := row.toUser()
	return u, wrapErr(op, err)
}

// ListUsers returns up to limit users ordered by ID (byte order), after the
// cursor. A limit of zero or less returns none.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]store.User, error) {
	if limit <= 0 {
		return []store.User{}, nil
	}
	var rows []userRow
	err := s.read(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, wrapErr("list users", err)
	}
	out := make([]store.User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].toUser()
		if err != nil {
			return nil, wrapErr("list users", err)
		}
		out = append(out, *u)
	}
	return out, nil
}

// UpdateUser replaces every field but ID and CreatedAt. ErrNotFound if
// absent; ErrConflict if the new Username is taken.
func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	row := userToRow(u)
	fields := map[string]any{
		"username":          row.Username,
		"password_hash":     row.PasswordHash,
		"roles":             row.Roles,
		"disabled":          row.Disabled,
		"updated_at":        row.UpdatedAt,
		"tokens_revoked_at": row.TokensRevokedAt,
		"claims":            row.Claims,
		"private_claims":    row.PrivateClaims,
	}
	// A user owns API keys: its roles and state are part of what they
	// grant, so cached keys are dropped (IDs unknown here).
	return s.writeChange(ctx, "update user", store.ChangeAPIKey, "", func(tx *gorm.DB) error {
		return updateByID(tx, &userRow{}, row.ID, fields)
	})
}

// DeleteUser removes the user, or returns ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.writeChange(ctx, "delete user", store.ChangeAPIKey, "", func(tx *gorm.DB) error {
		return deleteByID(tx, &userRow{}, id)
	})
}
