package introspection

import (
	"sync"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
)

// cache holds verified claims keyed by the SHA-256 of the token, so the
// token itself is never kept. Entries die at the token's exp; when full,
// arbitrary entries are evicted (a miss only costs one signature check).
type cache struct {
	max int
	mu  sync.RWMutex
	m   map[[32]byte]*accesstoken.Claims
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[[32]byte]*accesstoken.Claims)}
}

func (c *cache) get(k [32]byte, now time.Time) (*accesstoken.Claims, bool) {
	c.mu.RLock()
	cl, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(cl.ExpiresAt) {
		return nil, false
	}
	return cl, true
}

func (c *cache) put(k [32]byte, cl *accesstoken.Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Map iteration starts at a random place, so this evicts at random.
	for k2 := range c.m {
		if len(c.m) < c.max {
			break
		}
		delete(c.m, k2)
	}
	c.m[k] = cl
}
