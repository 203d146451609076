// Package revocation keeps each node's in-memory copy of the revocation
// set, fed from the store (Redis pub/sub, or polling on SQL), so that a
// revocation check never waits on a database. While the copy cannot vouch
// for its completeness (not loaded yet, or its feed is disconnected) it
// says so, and callers treat every token as inactive: a node never claims
// a token active that it cannot vouch for.
package revocation

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/store"
)

// pageSize is how many entries one store read returns.
const pageSize = 1000

// ErrNotSynced is returned by Ready while the set may be incomplete.
var ErrNotSynced = errors.New("revocation set not synchronised with the store")

// Options configure a Set.
type Options struct {
	// Now is the set's clock, for entries' expiry and its own lease
	// (default time.Now, whose monotonic reading the lease relies on).
	Now    func() time.Time
	Logger *slog.Logger
	// Resync is how often the set re-reads the store even without a
	// notification, as a safety net, and prunes expired entries (default
	// 5s).
	Resync time.Duration
	// Node names this node on the store's roster, where the store keeps
	// one (store.RevocationRoster). Default: host name, process id and a
	// random suffix.
	Node string
	// Lease is how long an acknowledgement keeps this node on the roster,
	// by the store's clock (default 4s). The node renews it every quarter
	// of that and stops vouching for any token three quarters of it after
	// its last renewal was sent, by its own clock: the last quarter allows
	// for the store's clock stepping ahead.
	Lease time.Duration
}

// Set is the node's in-memory revocation set.
type Set struct {
	st    store.RevocationStore
	now   func() time.Time
	log   *slog.Logger
	every time.Duration
	// roster is st's roster, nil if it keeps none; node and lease are this
	// node's name and lease on it.
	roster store.RevocationRoster
	node   string
	lease  time.Duration

	// syncMu serialises reads from the store.
	syncMu sync.Mutex

	mu sync.RWMutex
	// tokens holds, per jti, the entry kept longest: what covers a repeat.
	tokens   map[string]store.Revocation
	subjects map[string]subject // subject key → latest revocation
	entries  []store.Revocation // Seq order, for the feed
	seen     map[int64]struct{}
	// loaded is the highest Seq read from the store, which returns entries
	// in Seq order: every entry up to it is in the set. An entry of this
	// node's own, applied by Revoke, may be above it while entries of other
	// nodes with lower Seqs are still unread; loads resume after loaded,
	// not after that entry, and the feed stops at loaded so that a reader's
	// cursor never passes an entry it has not been given.
	loaded int64
	synced bool
	// leaseUntil is when this node stops vouching for tokens: three
	// quarters of the lease after its last acknowledgement that renewed
	// its lease without a break was sent, by the set's clock (monotonic,
	// with the default time.Now), so before the store could count it off
	// the roster and other nodes stop waiting for it. Zero while it
	// (re)joins. Unused without a roster.
	leaseUntil time.Time
	// ackedAt is when the last successful acknowledgement was sent; under
	// syncMu.
	ackedAt time.Time
	// watching is true while a store watch is established.
	watching atomic.Bool
	// loadedAt is when the store was last read successfully (Unix ns).
	loadedAt atomic.Int64
	changed  chan struct{} // closed and replaced on every change
	// confirmed is a Seq every node on the roster was seen to hold (see
	// confirmSeq): a revocation covered by an entry at or below it needs
	// no further wait.
	confirmed atomic.Int64
}

type subject struct {
	revokedAt, expiresAt time.Time
	// seq is the highest Seq merged into this record.
	seq int64
}

// New returns an empty, not yet synchronised Set; Run fills it.
func New(st store.RevocationStore, o Options) *Set {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Resync <= 0 {
		o.Resync = 5 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Node == "" {
		o.Node = nodeName()
	}
	roster, _ := st.(store.RevocationRoster)
	return &Set{
		st: st, now: o.Now, log: o.Logger, every: o.Resync,
		roster: roster, node: o.Node, lease: o.Lease,
		tokens: map[string]store.Revocation{}, subjects: map[string]subject{}, seen: map[int64]struct{}{},
		changed: make(chan struct{}),
	}
}

// DefaultLease is Options.Lease's default.
const DefaultLease = 4 * time.Second

// nodeName names this process on the roster: readable for operators,
// unique across restarts.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "tollgate"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
}

// Node returns this node's name on the roster.
func (s *Set) Node() string { return s.node }

// Check reports whether a token is revoked: by its jti, or because one of
// its subjects (store.SubjectClient+client_id, store.SubjectUser+sub) was
// revoked at or after it was issued. ok is false while the set cannot vouch
// for its completeness; the caller must then treat the token as inactive.
func (s *Set) Check(jti string, subjects []string, issuedAt time.Time) (revoked, ok bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.vouches(now) {
		return false, false
	}
	if e, hit := s.tokens[jti]; hit && now.Before(e.ExpiresAt) {
		return true, true
	}
	for _, k := range subjects {
		if sub, hit := s.subjects[k]; hit && now.Before(sub.expiresAt) && !issuedAt.After(sub.revokedAt) {
			return true, true
		}
	}
	return false, true
}

// SubjectRevokedAt returns when the subject's tokens were last revoked
// (zero if never, or if that record has expired).
func (s *Set) SubjectRevokedAt(key string) time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if sub, ok := s.subjects[key]; ok && s.now().Before(sub.expiresAt) {
		return sub.revokedAt
	}
	return time.Time{}
}

// vouches reports whether the set is complete at now: loaded, watched,
// and (with a roster) within its lease. The caller holds mu.
func (s *Set) vouches(now time.Time) bool {
	return s.synced && (s.roster == nil || now.Before(s.leaseUntil))
}

// Ready reports ErrNotSynced while the set may be incomplete.
func (s *Set) Ready(context.Context) error {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.vouches(now) {
		return ErrNotSynced
	}
	return nil
}

// Revoke records r in the store and, once the store has accepted it, in
// this node's set at once: a token is never active here after its
// revocation returned.
//
// With a roster (both stores keep one) it then waits until every node on
// it holds the entry, or has lost its lease and so vouches for no token:
// once Revoke returns, no node answers active for a token r matches. That
// takes a store round trip or two after the other nodes' own reads; a node
// that stopped answering is waited for until its lease runs out. Should
// that not settle within Lease and a second (the store itself unreachable,
// say), Revoke reports store.ErrUnavailable: the entry is recorded and
// spreads regardless, but the caller must not be told it is everywhere.
// A store without a roster promises nothing about other nodes: Revoke then
// returns once the entry is recorded and held here.
func (s *Set) Revoke(ctx context.Context, r *store.Revocation) error {
	return s.RevokeAll(ctx, []*store.Revocation{r})
}

// RevokeAll records every entry as Revoke does, then waits once for all
// of them.
//
// A revocation that this node's copy already covers (store.Covers: the
// same jti kept as long) is not sent to the store; the store itself skips
// any other covered one. Either way r becomes the covering entry, and the
// wait is for that entry, so a repeat returns no earlier than the first
// revocation did, and usually at once.
func (s *Set) RevokeAll(ctx context.Context, rs []*store.Revocation) error {
	var held store.Revocation
	todo := make([]*store.Revocation, 0, len(rs))
	for _, r := range rs {
		if c, ok := s.held(*r); ok {
			*r = c
			held = later(held, c)
			continue
		}
		todo = append(todo, r)
	}
	last, err := record(ctx, s.st, todo, func(r *store.Revocation) { s.apply([]store.Revocation{*r}) })
	if err != nil {
		return err
	}
	return s.confirmSeq(ctx, later(last, held))
}

// Since returns the entries after cursor (in Seq order) and the cursor to
// resume from, plus a channel closed at the next change.
func (s *Set) Since(cursor int64) ([]store.Revocation, int64, <-chan struct{}) {
	rs, next, _, changed := s.Page(cursor, math.MaxInt)
	return rs, next, changed
}

// Page is Since for at most limit entries (at least one): more reports
// that entries after next are already there, so a reader should ask again
// at once. Each page is copied under the read lock, so a bounded page
// keeps both the copy and the time writers wait small.
func (s *Set) Page(cursor int64, limit int) (rs []store.Revocation, next int64, more bool, changed <-chan struct{}) {
	limit = max(limit, 1)
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].Seq > cursor })
	out := make([]store.Revocation, 0, min(limit, len(s.entries)-i))
	next = cursor
	for _, e := range s.entries[i:] {
		if e.Seq > s.loaded {
			break
		}
		if len(out) == limit {
			more = true
			break
		}
		next = e.Seq
		if now.Before(e.ExpiresAt) {
			out = append(out, e)
		}
	}
	return out, next, more, s.changed
}

// Synced reports whether the set can vouch for its completeness.
func (s *Set) Synced() bool { return s.Ready(context.Background()) == nil }

// SyncAge returns how long ago the store was last read successfully
// (seconds), or -1 before the first read.
func (s *Set) SyncAge() float64 {
	at := s.loadedAt.Load()
	if at == 0 {
		return -1
	}
	return s.now().Sub(time.Unix(0, at)).Seconds()
}

// Size returns how many entries the set holds.
func (s *Set) Size() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.entries)
}

// apply merges entries into the set, keeps the feed log in Seq order, and
// wakes feed readers. Entries already known (by Seq) are skipped, so a full
// reload after a reconnect repeats nothing in the feed.
func (s *Set) apply(rs []store.Revocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	added := false
	for _, r := range rs {
		if _, dup := s.seen[r.Seq]; dup {
			continue
		}
		s.seen[r.Seq] = struct{}{}
		added = true
		switch r.Kind {
		case store.RevokedToken:
			if r.ExpiresAt.After(s.tokens[r.Key].ExpiresAt) {
				s.tokens[r.Key] = r
			}
		case store.RevokedSubject:
			cur := s.subjects[r.Key]
			if r.RevokedAt.After(cur.revokedAt) {
				cur.revokedAt = r.RevokedAt
			}
			if r.ExpiresAt.After(cur.expiresAt) {
				cur.expiresAt = r.ExpiresAt
			}
			cur.seq = max(cur.seq, r.Seq)
			s.subjects[r.Key] = cur
		}
		if n := len(s.entries); n == 0 || s.entries[n-1].Seq < r.Seq {
			s.entries = append(s.entries, r)
		} else {
			i := sort.Search(n, func(i int) bool { return s.entries[i].Seq > r.Seq })
			s.entries = slices.Insert(s.entries, i, r)
		}
	}
	if added {
		s.wakeLocked()
	}
}

// prune drops expired entries.
func (s *Set) prune() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.entries[:0]
	for _, e := range s.entries {
		if now.Before(e.ExpiresAt) {
			kept = append(kept, e)
		} else {
			delete(s.seen, e.Seq)
		}
	}
	clear(s.entries[len(kept):])
	s.entries = kept
	for k, e := range s.tokens {
		if !now.Before(e.ExpiresAt) {
			delete(s.tokens, k)
		}
	}
	for k, sub := range s.subjects {
		if !now.Before(sub.expiresAt) {
			delete(s.subjects, k)
		}
	}
}
