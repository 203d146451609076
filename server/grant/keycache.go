package grant

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/store"
)

// KeyRevocations tells whether an API key has been revoked cluster-wide
// (its "apikey:<id>" subject entry); *revocation.Set implements it.
type KeyRevocations interface {
	SubjectRevokedAt(key string) time.Time
	Ready(ctx context.Context) error
}

// keyCacheTTL bounds how long an exchange trusts a key record and its
// owner without reading the database again.
const keyCacheTTL = 5 * time.Second

// maxCachedKeys bounds the cache.
const maxCachedKeys = 50_000

// keyCache keeps recently exchanged API keys (by keyed hash) and what
// their owners contribute, so that a hot key costs no database round trip.
// It is safe because everything that must stop a key at once — revoking
// it, deleting or disabling its owner — also records an "apikey:<id>"
// revocation that reaches every node's revocation set within moments, and
// that set is checked on every exchange; the short TTL covers the rest (a
// user's changed roles reach the tokens of their keys within it; an owning
// client is read afresh on every exchange, see lookupKey).
// While the set cannot vouch for itself the cache is not used.
//
// With a change feed (the embedded store, see KeyChanges) the cache is
// also dropped whole whenever a client, an API key or a user changes, in
// this process or another one on the same database, and it is used only
// while that feed is watched: so a change made by the CLI reaches
// exchanges within one poll even where the revocation entry would come
// later.
type keyCache struct {
	revs KeyRevocations
	feed KeyChanges // nil: no change feed
	live atomic.Bool
	gen  atomic.Uint64 // bumped on every drop
	mu   sync.RWMutex
	m    map[string]cachedKey
}

// KeyChanges is the database's change log (store.ChangeFeed), watched to
// drop cached API keys when they or their owners change.
type KeyChanges interface {
	WatchChanges(ctx context.Context, ready func(), changed func(store.Change)) error
}

type cachedKey struct {
	key     store.APIKey
	owner   keyOwner
	expires time.Time
}

func newKeyCache(revs KeyRevocations, feed KeyChanges) *keyCache {
	c := &keyCache{revs: revs, feed: feed, m: map[string]cachedKey{}}
	c.live.Store(feed == nil)
	return c
}

// get returns the cached key and owner for hash if fresh and usable.
func (c *keyCache) get(ctx context.Context, hash []byte, now time.Time) (*store.APIKey, keyOwner, bool) {
	if c == nil || !c.live.Load() || c.revs.Ready(ctx) != nil {
		return nil, keyOwner{}, false
	}
	c.mu.RLock()
	e, ok := c.m[string(hash)]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, keyOwner{}, false
	}
	return &e.key, e.owner, true
}

// generation is read before a database read whose result put may cache.
func (c *keyCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// put caches a key and its owner after a successful database read, unless
// the cache was dropped since gen was read: the read may predate that
// change.
func (c *keyCache) put(hash []byte, k *store.APIKey, o keyOwner, now time.Time, gen uint64) {
	if c == nil || !c.live.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	for h := range c.m { // random eviction when full
		if len(c.m) < maxCachedKeys {
			break
		}
		delete(c.m, h)
	}
	c.m[string(hash)] = cachedKey{key: *k, owner: o, expires: now.Add(keyCacheTTL)}
}

// revoked reports whether the key has a cluster-wide revocation entry.
func (c *keyCache) revoked(id string) bool {
	return c != nil && !c.revs.SubjectRevokedAt(store.SubjectAPIKey+id).IsZero()
}

// drop empties the cache.
func (c *keyCache) drop() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.m)
	c.mu.Unlock()
}

// RunKeyChanges watches Options.KeyChanges until ctx is done, dropping the
// API-key cache on every change to a client, an API key or a user; while
// the watch is down the cache is not used. Without KeyChanges it returns
// at once.
func (e *Engine) RunKeyChanges(ctx context.Context) {
	c := e.keys
	if c == nil || c.feed == nil {
		return
	}
	backoff := 100 * time.Millisecond
	for {
		err := c.feed.WatchChanges(ctx, func() {
			c.drop()
			c.live.Store(true)
			backoff = 100 * time.Millisecond
		}, func(ch store.Change) {
			if ch.Kind == store.ChangeAPIKey || ch.Kind == store.ChangeClient {
				c.drop()
			}
		})
		c.live.Store(false)
		c.drop()
		if ctx.Err() != nil {
			return
		}
		e.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "API-key change feed disconnected; exchanges read keys from the database", slog.String("error", errString(err)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func errString(err error) string {
	if err == nil {
		return "watch ended"
	}
	return err.Error()
}
