package verify

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// entry is a verified token: what the cache holds and the hot path needs.
type entry struct {
	p *Principal
	// until (unix ns) is when the entry stops being served: exp plus
	// leeway for a verified signature; in introspection mode the earlier of
	// exp and the answer's age limit.
	until int64
	// signed is a copy of the token's header.payload (see key).
	signed string
	// The revocation keys, computed once.
	iat                     int64 // unix seconds
	jti, clientKey, userKey string
	apiKeyKey               string // empty for a token not bought with an API key
}

func newEntry(p *Principal, until time.Time) *entry {
	e := &entry{
		p: p, until: until.UnixNano(), iat: p.IssuedAt.Unix(),
		jti: p.ID, clientKey: subjectClient + p.ClientID, userKey: subjectUser + p.Subject,
	}
	if p.APIKeyID != "" {
		e.apiKeyKey = subjectAPIKey + p.APIKeyID
	}
	return e
}

// key finds a token in the cache without the cache holding the token: a
// token is header.payload.signature, and the cache is keyed by the SHA-256
// of the signature, the part that makes it a credential. An entry keeps a
// copy of header.payload (the claims, which its Principal holds anyway)
// and a hit needs both to match, so a hit is the very token that was
// verified. Hashing only the signature (86 bytes for EdDSA and ES256)
// instead of the whole token halves the cost of a cached check. For an
// encrypted token (a JWE) the last part is the authentication tag, which
// plays the same role: the entry keeps the rest (header, encrypted key,
// IV and ciphertext), never the tag.
type key struct {
	sum    [sha256.Size]byte
	signed string // header.payload of the token being looked up
}

// tokenKey splits tok at its last dot and hashes the signature without
// copying it: the bytes are only read.
func tokenKey(tok string) key {
	i := strings.LastIndexByte(tok, '.')
	sig := tok[i+1:]
	return key{sum: sha256.Sum256(unsafe.Slice(unsafe.StringData(sig), len(sig))), signed: tok[:max(i, 0)]}
}

const shards = 32

// cache maps token hashes to verified entries. It is sharded so that
// concurrent requests rarely touch the same lock, and bounded: when a
// shard is full, expired entries go first, then arbitrary ones.
type cache struct {
	perShard int
	shard    [shards]struct {
		mu sync.RWMutex
		m  map[[sha256.Size]byte]*entry
	}
}

func newCache(size int) *cache {
	c := &cache{perShard: max(size/shards, 1)}
	for i := range c.shard {
		c.shard[i].m = make(map[[sha256.Size]byte]*entry)
	}
	return c
}

// get returns the entry for k if it is still servable at now.
func (c *cache) get(k key, now int64) *entry {
	s := &c.shard[k.sum[0]%shards]
	s.mu.RLock()
	e := s.m[k.sum]
	s.mu.RUnlock()
	if e == nil || now >= e.until || e.signed != k.signed {
		return nil
	}
	return e
}

// put stores e, not yet shared, for k.
func (c *cache) put(k key, e *entry, now int64) {
	// A copy: a substring would keep the whole token, signature included,
	// alive in the cache.
	e.signed = strings.Clone(k.signed)
	s := &c.shard[k.sum[0]%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k.sum]; !ok && len(s.m) >= c.perShard {
		for k2, e2 := range s.m {
			if now >= e2.until {
				delete(s.m, k2)
			}
		}
		for k2 := range s.m {
			if len(s.m) < c.perShard {
				break
			}
			delete(s.m, k2) // map order is unspecified: an arbitrary victim
		}
	}
	s.m[k.sum] = e
}

// clear empties the cache (after the issuer withdrew a key).
func (c *cache) clear() {
	for i := range c.shard {
		s := &c.shard[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}
