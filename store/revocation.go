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

// Covers reports whether entry a makes recording b pointless: the same
// kind and key, kept at least as long, and for a subject revoked at least
// as late (a later subject revocation also matches tokens issued in
// between, so it is new).
func Covers(a, b Revocation) bool {
	if a.Kind != b.Kind || a.Key != b.Key || a.ExpiresAt.Before(b.ExpiresAt) {
		return false
	}
	return a.Kind == RevokedToken || !a.RevokedAt.Before(b.RevokedAt)
}

// RevocationStore records revocations until they expire, in order, and
// tells watchers when new ones arrive. Every method is safe for concurrent
// use across processes sharing the backing store.
type RevocationStore interface {
	// Revoke records r, sets r.Seq, and notifies watchers. An entry that
	// has already expired is not recorded (r.Seq stays 0, no error).
	// Revoke is idempotent: when an unexpired entry already covers r
	// (Covers), nothing is written, no watcher is woken, and r is set to
	// that entry, Seq included. Its Seq may be at or below what readers
	// have seen; a caller that waits until every node holds r.Seq thereby
	// waits for the entry that does the work. So repeating a revocation
	// never grows the set, however often or from however many nodes.
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

// RevocationRoster is implemented by revocation stores that several nodes
// share. Each node acknowledges the entries it holds in memory and renews
// a lease with every acknowledgement; a node that records a revocation
// answers only once every node on the roster has acknowledged it, or lost
// its lease (and with it the right to vouch for any token). Leases run on
// the store's clock, so nodes' clocks need not agree.
type RevocationRoster interface {
	// AckRevocations records that node holds every entry with Seq <= seq
	// (an acknowledgement never moves back) and keeps node on the roster
	// for lease. renewed reports whether node was on the roster with its
	// lease running; when false, node has just (re)joined, entries may
	// have been recorded meanwhile without waiting for it, and it must read
	// the store again and acknowledge once more before it relies on its
	// copy.
	AckRevocations(ctx context.Context, node string, seq int64, lease time.Duration) (renewed bool, err error)
	// RevocationLaggards returns, sorted, the nodes on the roster whose
	// lease is running and whose acknowledgement is below seq.
	RevocationLaggards(ctx context.Context, seq int64) ([]string, error)
	// LeaveRevocations takes node off the roster.
	LeaveRevocations(ctx context.Context, node string) error
}
