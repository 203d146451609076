package store

import (
	"context"
	"time"
)

// ChangeKind names what a Change is about.
type ChangeKind string

// Change kinds.
const (
	ChangeClient ChangeKind = "client"
	ChangeAPIKey ChangeKind = "apikey"
)

// Change is one committed write to a client or an API key (created,
// updated, secret rotated, revoked, deleted). An empty ID means some
// records of that kind changed without being listed (every key of an
// owner was deleted): a cache drops all of that kind.
type Change struct {
	// Seq orders changes by commit: Seqs have no gaps, and once a change
	// is visible every change below it is too.
	Seq  int64
	Kind ChangeKind
	ID   string
	At   time.Time
}

// ChangeFeed is the database's own log of client and API-key changes,
// written in the same transaction as each change, so that a process
// caching those records (the server) learns of another process's writes
// (the CLI on the same SQLite file) without Redis.
type ChangeFeed interface {
	// LastChange returns the highest Seq recorded, 0 if none.
	LastChange(ctx context.Context) (int64, error)
	// ChangesAfter returns up to limit changes with Seq > after, in Seq
	// order. Old changes are pruned: a first Seq above after+1 means some
	// were missed.
	ChangesAfter(ctx context.Context, after int64, limit int) ([]Change, error)
	// WatchChanges calls ready once it knows where the log stands, then
	// changed for every later change, in order, until ctx is done
	// (ctx.Err()) or the database fails (an error wrapping
	// ErrUnavailable). It calls ready again when it cannot tell what
	// changed (changes were pruned unseen): the caller drops everything.
	WatchChanges(ctx context.Context, ready func(), changed func(Change)) error
}
