package store

import (
	"context"
	"time"
)

// OwnerKind says what kind of subject owns an API key.
type OwnerKind string

// Owner kinds of API keys.
const (
	// OwnerUser is a key of a User: tokens it buys are the user's.
	OwnerUser OwnerKind = "user"
	// OwnerClient is a key of a Client, for machine-to-machine use.
	OwnerClient OwnerKind = "client"
)

// APIKey is a long-lived credential that its owner exchanges for access
// tokens (RFC 8693). The key itself is shown once at creation and never
// stored: Hash is a keyed hash of it, computed by the server, and Prefix
// and Last4 are kept only so that people can recognise the key.
type APIKey struct {
	// ID is the key's public identifier ("key_…"), used to list and revoke
	// it; it is not secret.
	ID        string
	OwnerKind OwnerKind
	// OwnerID is the ID of the User or Client named by OwnerKind. Deleting
	// that owner deletes its keys.
	OwnerID string
	Name    string
	// Scopes are what tokens bought with the key may carry at most.
	Scopes []string
	// Hash is the keyed hash of the secret key: the exchange looks it up.
	Hash []byte
	// Prefix is the start of the key (e.g. "tgk_" and a few characters)
	// and Last4 its last four characters, for display.
	Prefix string
	Last4  string
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time
	CreatedAt time.Time
	// LastUsedAt is the latest exchange recorded by TouchAPIKeys; zero if
	// none was.
	LastUsedAt time.Time
	// RevokedAt is when the key was revoked; zero while it is active.
	RevokedAt time.Time
}

// APIKeyStore persists API keys. Every method is safe for concurrent use
// across processes sharing the backing store. The store does not decide
// whether a key works: the caller checks RevokedAt and ExpiresAt.
type APIKeyStore interface {
	// CreateAPIKey stores k. ErrConflict if its ID or its Hash is taken;
	// ErrNotFound if its owner does not exist. Any other OwnerKind than
	// OwnerUser or OwnerClient is an error matching neither.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns the key with that ID, revoked or expired ones
	// included, or ErrNotFound.
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	// GetAPIKeyByHash returns the key whose Hash is exactly hash, revoked
	// or expired ones included, or ErrNotFound. It is the exchange's
	// lookup: one indexed equality match.
	GetAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// ListAPIKeys returns up to limit keys ordered by ID (byte order),
	// starting after the ID given as cursor ("" for the first page). An
	// empty kind lists every key; a kind with an empty ownerID every key of
	// that kind of owner; both, that owner's keys. An unknown owner has
	// none. A limit of zero or less returns none.
	ListAPIKeys(ctx context.Context, kind OwnerKind, ownerID, after string, limit int) ([]APIKey, error)
	// RevokeAPIKey sets RevokedAt to at (which must not be zero), or
	// returns ErrNotFound. A key revoked before keeps its first RevokedAt.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// TouchAPIKeys records, for each key ID in used, that the key was used
	// at that time: LastUsedAt becomes the later of its stored value and
	// the given one, so batches may arrive late or out of order. Unknown
	// IDs are ignored. The whole batch is one write (one transaction).
	TouchAPIKeys(ctx context.Context, used map[string]time.Time) error
	// DeleteAPIKeysOfOwner deletes every key of that owner. An owner with
	// no keys, or none at all, is not an error; an unknown kind or an empty
	// ownerID is. Stores that cannot delete keys together with their owner
	// rely on the caller calling it.
	DeleteAPIKeysOfOwner(ctx context.Context, kind OwnerKind, ownerID string) error
}
