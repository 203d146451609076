package store

import (
	"context"
	"time"
)

// User is a resource owner who can log in with the password grant.
type User struct {
	ID       string
	Username string
	// PasswordHash is a PHC-format argon2id string that carries its own
	// parameters.
	PasswordHash string
	Roles        []string
	Disabled     bool
	// Claims and PrivateClaims are as on Client: extra claims of the
	// user's tokens, the private ones only in tokens for an encrypted
	// Audience.
	Claims        []byte
	PrivateClaims []byte
	CreatedAt     time.Time
	UpdatedAt     time.Time // TokensRevokedAt, when set, revokes every token of this subject
	// issued at or before it; refresh-token families started by then die.
	TokensRevokedAt time.Time
}

// UserStore persists users.
type UserStore interface {
	// CreateUser stores u. ErrConflict if its ID or Username is taken.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user with that ID, or ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByUsername returns the user with that username (exact,
	// case-sensitive), or ErrNotFound.
	GetUserByUsername(ctx context.Context, username string) (*User, error)
	// ListUsers returns up to limit users ordered by ID, after the cursor.
	ListUsers(ctx context.Context, after string, limit int) ([]User, error)
	// UpdateUser replaces every field but ID and CreatedAt. ErrNotFound if
	// absent; ErrConflict if the new Username is taken.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes the user, or returns ErrNotFound.
	DeleteUser(ctx context.Context, id string) error
}
