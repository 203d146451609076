package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Hasher computes the keyed hashes under which client secrets and API keys
// are stored: HMAC-SHA256 with a server-side pepper. Secrets are 256-bit
// random values, so a fast keyed hash is enough; the pepper means a leaked
// database alone does not allow offline checks. A Hasher is safe for
// concurrent use.
type Hasher struct {
	pool  sync.Pool
	dummy [sha256.Size]byte
}

// macState is one pooled HMAC state. chunk is a fixed staging buffer so
// that writing a string never allocates and an oversized input never grows
// pooled memory.
type macState struct {
	mac   hash.Hash
	chunk [128]byte
	sum   [sha256.Size]byte
}

// NewHasher returns a Hasher keyed with pepper (32 bytes, e.g. from
// keys.Derive). It panics if pepper is empty: an unkeyed hash would silently
// weaken every stored secret.
func NewHasher(pepper []byte) *Hasher {
	if len(pepper) == 0 {
		panic("secret: NewHasher needs a non-empty pepper")
	}
	key := append([]byte(nil), pepper...)
	h := &Hasher{}
	h.pool.New = func() any { return &macState{mac: hmac.New(sha256.New, key)} }
	// The dummy hash is of a random secret nobody knows, so Dummy can never
	// match and costs what a real comparison costs.
	st := h.sum(Generate(""))
	h.dummy = st.sum
	h.pool.Put(st)
	return h
}

// Hash returns the keyed hash of secret, to be stored.
func (h *Hasher) Hash(secret string) []byte {
	st := h.sum(secret)
	out := append([]byte(nil), st.sum[:]...)
	h.pool.Put(st)
	return out
}

// Equal reports, in constant time, whether hash is the keyed hash of
// secret. A nil or empty hash never matches.
func (h *Hasher) Equal(hash []byte, secret string) bool {
	st := h.sum(secret)
	ok := hmac.Equal(hash, st.sum[:]) && len(hash) > 0
	h.pool.Put(st)
	return ok
}

// Dummy does the work of Equal against a fixed hash and discards the
// result. Call it for unknown client IDs so that response timing does not
// reveal which IDs exist.
func (h *Hasher) Dummy(secret string) {
	_ = h.Equal(h.dummy[:], secret)
}

// sum returns a pooled state whose sum field holds the HMAC of secret. The
// caller puts it back.
func (h *Hasher) sum(secret string) *macState {
	st := h.pool.Get().(*macState)
	st.mac.Reset()
	for len(secret) > 0 {
		n := copy(st.chunk[:], secret)
		st.mac.Write(st.chunk[:n])
		secret = secret[n:]
	}
	st.mac.Sum(st.sum[:0])
	return st
}
