package grant

import (
	"context"
	"sync"
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
type keyCache struct {
	revs KeyRevocations
	mu   sync.RWMutex
	m    map[string]cachedKey
}

type cachedKey struct {
	key     store.APIKey
	owner   keyOwner
	expires time.Time
}

func newKeyCache(revs KeyRevocations) *keyCache {
	return &keyCache{revs: revs, m: map[string]cachedKey{}}
}

// get returns the cached key and owner for hash if fresh and usable.
func (c *keyCache) get(ctx context.Context, hash []byte, now time.Time) (*store.APIKey, keyOwner, bool) {
	if c == nil || c.revs.Ready(ctx) != nil {
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

// put caches a key and its owner after a successful database read.
func (c *keyCache) put(hash []byte, k *store.APIKey, o keyOwner, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
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
