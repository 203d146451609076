package introspection

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
)

// cache holds verified claims keyed by the SHA-256 of the token, so the
// token itself is never kept. Entries die at the token's exp, or as soon as
// the key that signed the token leaves the published set: a withdrawn key
// verifies nothing, so neither may what it once vouched for (a hit would
// otherwise call a token active that every resource server now refuses).
// When full, arbitrary entries are evicted (a miss only costs one
// signature check).
type cache struct {
	max       int
	published func(kid string) bool
	mu        sync.RWMutex
	m         map[[32]byte]cached
}

// publisher is implemented by *keys.Manager: whether a key is still
// published, without the cost of handing out the key.
type publisher interface {
	Published(kid string) bool
}

type cached struct {
	claims *accesstoken.Claims
	kid    string
}

func newCache(max int, keys accesstoken.KeySource) *cache {
	published := func(kid string) bool { _, _, ok := keys.PublicKey(kid); return ok }
	if p, ok := keys.(publisher); ok {
		published = p.Published
	}
	return &cache{max: max, published: published, m: make(map[[32]byte]cached)}
}

func (c *cache) get(k [32]byte, now time.Time) (*accesstoken.Claims, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.claims.ExpiresAt) {
		return nil, false
	}
	if !c.published(e.kid) {
		c.mu.Lock()
		delete(c.m, k)
		c.mu.Unlock()
		return nil, false
	}
	return e.claims, true
}

// put caches the claims of a token, the JWS jws (the inner one of an
// encrypted token), which accesstoken.Verify has accepted.
func (c *cache) put(k [32]byte, jws string, cl *accesstoken.Claims) {
	e := cached{claims: cl, kid: kidOf(jws)}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Map iteration starts at a random place, so this evicts at random.
	for k2 := range c.m {
		if len(c.m) < c.max {
			break
		}
		delete(c.m, k2)
	}
	c.m[k] = e
}

// kidOf returns the kid of a JWS whose header Verify has already parsed
// and accepted (RFC 7515 §4.1.4); "" (which no key has) if it cannot.
func kidOf(tok string) string {
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Kid
}
