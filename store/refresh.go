package store

import (
	"context"
	"time"
)

// RefreshToken is the stored state of one refresh token. The token string
// itself is never stored: ID is a hash of it. Every token descends from one
// grant, and all tokens of that grant share a FamilyID, so that reuse of a
// rotated token can revoke the whole family (RFC 9700 §4.14.2).
type RefreshToken struct {
	ID       string
	FamilyID string
	ClientID string
	// UserID is empty for tokens not bound to a user.
	UserID string
	Scopes []string
	// IssuedAt is when this token was issued; FamilyIssuedAt when the
	// family's first token was (the original grant).
	IssuedAt       time.Time
	FamilyIssuedAt time.Time
	ExpiresAt      time.Time
	// RotatedAt is set once the token has been exchanged for its successor.
	// A rotated token is kept until ExpiresAt only to detect reuse.
	RotatedAt time.Time
	// KeyThumbprint binds the family to a DPoP key (RFC 9449 §5): every
	// refresh must come with a proof signed by it. Empty: not bound.
	KeyThumbprint string
}

// RefreshTokenStore keeps refresh tokens until they expire. Every method is
// safe for concurrent use across processes sharing the backing store.
type RefreshTokenStore interface {
	// CreateRefreshToken stores t, the first token of a new family or not.
	// ErrConflict if its ID exists; ErrNotFound if its family was revoked.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// GetRefreshToken returns the token with that ID in that family,
	// rotated ones included (RotatedAt set). ErrNotFound if it is unknown,
	// expired, or its family was revoked.
	GetRefreshToken(ctx context.Context, familyID, id string) (*RefreshToken, error)
	// RotateRefreshToken atomically marks token id as rotated at now and
	// stores next (same family) in its place. Of concurrent calls for the
	// same id exactly one succeeds; the others, and any later call, get
	// ErrTokenReused. ErrNotFound if the token is unknown, expired, or its
	// family was revoked.
	RotateRefreshToken(ctx context.Context, familyID, id string, next *RefreshToken, now time.Time) error
	// RevokeRefreshFamily deletes every token of the family and refuses new
	// ones in it until until. Revoking an unknown family is not an error.
	RevokeRefreshFamily(ctx context.Context, familyID string, until time.Time) error
}
