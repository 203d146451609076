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
	// OwnerSubject is a key an application (a Client) issued for one of its
	// own users, who does not exist in Tollgate: OwnerID is the app's id for
	// that user and ClientID the app, which namespaces it. Tokens it buys
	// have the subject as "sub" and the app as "client_id".
	OwnerSubject OwnerKind = "subject"
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
	// ClientID is, for an OwnerSubject key, the application client that
	// issued it; empty for other kinds. Deleting that client deletes the
	// key.
	ClientID string
	Name     string
	// Scopes are what tokens bought with the key may carry at most.
	Scopes []string
	// Roles and Claims are an OwnerSubject key's: the roles its tokens
	// carry and Claims, a JSON object of extra non-secret claims kept
	// verbatim (nil for none). Other kinds have neither.
	Roles  []string
	Claims []byte
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
	// OwnerUser, OwnerClient or OwnerSubject is an error matching neither;
	// so is an OwnerSubject key without ClientID. For OwnerSubject the owner
	// that must exist is the client ClientID.
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
	// that kind of owner; both, that owner's keys (for OwnerSubject: that
	// subject ID under every client; see ListSubjectAPIKeys). An unknown
	// owner has none. A limit of zero or less returns none.
	ListAPIKeys(ctx context.Context, kind OwnerKind, ownerID, after string, limit int) ([]APIKey, error)
	// ListSubjectAPIKeys returns up to limit OwnerSubject keys issued by
	// clientID, ordered by ID, after the cursor: the keys of that subject,
	// or of all its subjects when subject is empty. An empty clientID is an
	// error.
	ListSubjectAPIKeys(ctx context.Context, clientID, subject, after string, limit int) ([]APIKey, error)
	// CountActiveAPIKeys counts the keys of one owner that are neither
	// revoked nor expired at now (clientID only for OwnerSubject).
	CountActiveAPIKeys(ctx context.Context, kind OwnerKind, clientID, ownerID string, now time.Time) (int, error)
	// UpdateAPIKey replaces Name, Scopes, Roles and Claims of the stored
	// key with k.ID by k's, or returns ErrNotFound. Owner, hash and times
	// never change. Roles or Claims on a key that is not OwnerSubject are
	// an error matching no sentinel.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
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
	// ownerID is, and so is OwnerSubject (those keys go with their client,
	// or are revoked). Stores that cannot delete keys together with their owner
	// rely on the caller calling it.
	DeleteAPIKeysOfOwner(ctx context.Context, kind OwnerKind, ownerID string) error
}
