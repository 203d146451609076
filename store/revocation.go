package store

import (
	"context"
	"time"
)

// RevocationKind says what a Revocation matches.
type RevocationKind string

// Revocation kinds.
const (
	// RevokedToken matches one access token by its jti.
	RevokedToken RevocationKind = "token"
	// RevokedSubject matches every token of a subject (see SubjectKey)
	// issued at or before RevokedAt.
	RevokedSubject RevocationKind = "subject"
)

// Subject key prefixes for RevokedSubject entries.
const (
	SubjectClient = "client:"
	SubjectUser   = "user:"
	// SubjectAPIKey matches tokens carrying that api_key_id.
	SubjectAPIKey = "apikey:"
)

// Revocation is one entry of the revocation set. Entries are small and
// short-lived: each is kept only as long as a token it matches could live.
type Revocation struct {
	// Seq is assigned by the store when the entry is recorded: strictly
	// increasing in recording order across every writer. It is the
	// revocation feed's cursor.
	Seq  int64
	Kind RevocationKind
	// Key is the jti for RevokedToken; for RevokedSubject it is
	// SubjectClient+client_id, SubjectUser+user_id or
	// SubjectAPIKey+api_key_id.
	Key       string
	RevokedAt time.Time
	// ExpiresAt is when the entry may be dropped: the token's exp, or
	// RevokedAt plus the longest access-token lifetime and clock skew.
	ExpiresAt time.Time
}

// RevocationStore records revocations until they expire, in order, and
// tells watchers when new ones arrive. Every method is safe for concurrent
// use across processes sharing the backing store.
type RevocationStore interface {
	// Revoke records r, sets r.Seq, and notifies watchers. An entry that
	// has already expired is not recorded (r.Seq stays 0, no error).
	Revoke(ctx context.Context, r *Revocation) error
	// RevocationsSince returns the unexpired entries with Seq > after in
	// Seq order, at most limit of them. Once a call has returned an entry
	// with Seq n, no entry with a Seq <= n can appear later: a reader that
	// resumes from the last Seq it saw misses nothing.
	RevocationsSince(ctx context.Context, after int64, limit int) ([]Revocation, error)
	// WatchRevocations blocks, calling notify (never concurrently) whenever
	// new entries may exist, until ctx is done (it returns ctx.Err()) or
	// its connection fails (an error wrapping ErrUnavailable). It calls
	// notify once as soon as it is listening, so a caller that reads
	// RevocationsSince from notify cannot miss an entry recorded while the
	// watch was being set up.
	WatchRevocations(ctx context.Context, notify func()) error
}
