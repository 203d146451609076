// Package clientcache keeps client records in memory in front of a
// store.ClientStore, so that authenticating a client costs no database
// round trip. Every node drops a record the moment any node (or the CLI)
// changes it, through a cluster-wide notification channel; while that
// channel is down the cache is bypassed, never trusted.
package clientcache

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Notifier carries client changes between nodes; *redisstore.Store
// implements it, and Feed does on the database's change log.
type Notifier interface {
	// PublishClientChange tells every node the client changed.
	PublishClientChange(ctx context.Context, id string) error
	// WatchClientChanges calls ready once listening, then changed for each
	// change, until ctx is done or the connection fails. Calling ready
	// again drops every cached record.
	WatchClientChanges(ctx context.Context, ready func(), changed func(id string)) error
}

// Options configure a Store.
type Options struct {
	// TTL bounds how long a record is served from memory even without a
	// notification (default 5 minutes), a safety net only.
	TTL    time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Store is a caching store.ClientStore. Until Run has subscribed to
// changes, reads go to the inner store.
type Store struct {
	inner store.ClientStore
	n     Notifier
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	live atomic.Bool   // subscribed: cached records may be served
	gen  atomic.Uint64 // bumped on every invalidation
	mu   sync.RWMutex
	m    map[string]entry
}

type entry struct {
	c       store.Client
	expires time.Time
}

var _ store.ClientStore = (*Store)(nil)

// New wraps inner. Writes through the Store publish a change on n.
func New(inner store.ClientStore, n Notifier, o Options) *Store {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{inner: inner, n: n, ttl: o.TTL, now: o.Now, log: o.Logger, m: map[string]entry{}}
}

// Run subscribes to client changes until ctx is done, resubscribing after
// a failure; the cache is cleared and bypassed whenever it is not
// subscribed, since changes published meanwhile would be missed.
func (s *Store) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		err := s.n.WatchClientChanges(ctx, func() {
			s.clear()
			s.live.Store(true)
			backoff = 100 * time.Millisecond
		}, s.invalidate)
		s.live.Store(false)
		s.clear()
		if ctx.Err() != nil {
			return
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "client change feed disconnected; reading clients from the database", slog.String("error", errText(err)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// GetClient serves a fresh cached copy, or reads through and caches.
func (s *Store) GetClient(ctx context.Context, id string) (*store.Client, error) {
	now := s.now()
	if s.live.Load() {
		s.mu.RLock()
		e, ok := s.m[id]
		s.mu.RUnlock()
		if ok && now.Before(e.expires) {
			return clone(&e.c), nil
		}
	}
	gen := s.gen.Load()
	c, err := s.inner.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	// Store only if nothing was invalidated while reading: the read may
	// predate that change.
	if s.live.Load() {
		s.mu.Lock()
		if s.gen.Load() == gen {
			s.m[id] = entry{c: *clone(c), expires: now.Add(s.ttl)}
		}
		s.mu.Unlock()
	}
	return c, nil
}

// CreateClient stores c and tells every node.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	return s.changed(ctx, c.ID, s.inner.CreateClient(ctx, c))
}

// UpdateClient updates c and tells every node.
func (s *Store) UpdateClient(ctx context.Context, c *store.Client) error {
	return s.changed(ctx, c.ID, s.inner.UpdateClient(ctx, c))
}

// DeleteClient deletes the client and tells every node.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.changed(ctx, id, s.inner.DeleteClient(ctx, id))
}

// ListClients reads through.
func (s *Store) ListClients(ctx context.Context, after string, limit int) ([]store.Client, error) {
	return s.inner.ListClients(ctx, after, limit)
}

// changed drops the local copy and publishes the change. A failed publish
// is returned: the write happened, but other nodes may serve the old record
// until their TTL, and the caller must know.
func (s *Store) changed(ctx context.Context, id string, err error) error {
	if err != nil {
		return err
	}
	s.invalidate(id)
	return s.n.PublishClientChange(ctx, id)
}

// Live reports whether cached records are being served (the change feed
// is subscribed).
func (s *Store) Live() bool { return s.live.Load() }

// clone copies c deeply: callers own what they get, and the cache owns
// what it keeps.
func clone(c *store.Client) *store.Client {
	out := *c
	out.SecretHash = slices.Clone(c.SecretHash)
	out.PrevSecretHash = slices.Clone(c.PrevSecretHash)
	out.JWKS = slices.Clone(c.JWKS)
	out.FederatedClaims = maps.Clone(c.FederatedClaims)
	out.Claims = slices.Clone(c.Claims)
	out.PrivateClaims = slices.Clone(c.PrivateClaims)
	out.GrantTypes = slices.Clone(c.GrantTypes)
	out.Scopes = slices.Clone(c.Scopes)
	out.DefaultScopes = slices.Clone(c.DefaultScopes)
	out.Audience = slices.Clone(c.Audience)
	out.Roles = slices.Clone(c.Roles)
	return &out
}

func (s *Store) invalidate(id string) {
	s.mu.Lock()
	s.gen.Add(1)
	delete(s.m, id)
	s.mu.Unlock()
}

func (s *Store) clear() {
	s.mu.Lock()
	s.gen.Add(1)
	clear(s.m)
	s.mu.Unlock()
}

func errText(err error) string {
	if err == nil {
		return "watch ended"
	}
	return err.Error()
}
