package dpop

import (
	"crypto/subtle"
	"encoding/json"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxProof bounds what is parsed at all: a proof is a few hundred bytes.
const maxProof = 4096

// DefaultWindow is how far a proof's iat may be from the checker's clock,
// either way (RFC 9449 §11.1 leaves it to the server).
const DefaultWindow = time.Minute

// ReplayCache remembers proof IDs (RFC 9449 §11.1).
type ReplayCache interface {
	// Seen records id until the given time and reports whether it was
	// already recorded.
	Seen(id string, until time.Time) bool
}

// Checker checks proofs. The zero value is not usable: make one with
// NewChecker.
type Checker struct {
	window time.Duration
	replay ReplayCache
	now    func() time.Time
}

// CheckerOptions configure a Checker; zero values take the defaults.
type CheckerOptions struct {
	// Window is how far iat may be from now (DefaultWindow).
	Window time.Duration
	// Replay remembers proof IDs (a MemoryReplay of 100,000 entries).
	Replay ReplayCache
	Now    func() time.Time
}

// NewChecker returns a Checker.
func NewChecker(o CheckerOptions) *Checker {
	c := &Checker{window: o.Window, replay: o.Replay, now: o.Now}
	if c.window <= 0 {
		c.window = DefaultWindow
	}
	if c.replay == nil {
		c.replay = NewMemoryReplay(100_000)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Request is what a proof must match.
type Request struct {
	Method string
	// URL is the request's absolute URL as the client addressed it
	// (behind a proxy: the external one).
	URL string
	// AccessToken, at a resource server, is the token presented with the
	// proof; its hash must be the proof's ath. Empty at the token endpoint.
	AccessToken string
	// Nonce, when set, must accept the proof's nonce (ErrUseNonce
	// otherwise): the server hands out nonces (RFC 9449 §8).
	Nonce func(nonce string) bool
}

var algorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// Check verifies proof for r (RFC 9449 §4.3) and returns the thumbprint of
// the key that signed it. Errors wrap ErrInvalidProof or ErrUseNonce.
func (c *Checker) Check(proof string, r Request) (string, error) {
	if len(proof) > maxProof {
		return "", invalid("proof is over %d bytes", maxProof)
	}
	// Only asymmetric algorithms parse: none and HMAC are refused here.
	jws, err := jose.ParseSigned(proof, algorithms)
	if err != nil {
		return "", invalid("not a JWS signed with EdDSA or ES256")
	}
	if len(jws.Signatures) != 1 {
		return "", invalid("one signature expected")
	}
	h := jws.Signatures[0].Protected
	if t, _ := h.ExtraHeaders[jose.HeaderType].(string); t != typ {
		return "", invalid(`typ must be "dpop+jwt"`)
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() {
		return "", invalid("jwk header missing")
	}
	if !h.JSONWebKey.IsPublic() {
		return "", invalid("jwk must be a public key") // §4.2: never a private key
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return "", invalid("signature does not verify with the jwk")
	}
	var cl claims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return "", invalid("claims are not a JSON object")
	}
	if err := c.match(&cl, r); err != nil {
		return "", err
	}
	jkt, err := Thumbprint(h.JSONWebKey.Key)
	if err != nil {
		return "", invalid("unsupported jwk")
	}
	// Last, so that only valid proofs take room in the cache.
	if c.replay.Seen(jkt+"."+cl.ID, time.Unix(cl.IssuedAt, 0).Add(c.window)) {
		return "", invalid("proof was already used (jti)")
	}
	return jkt, nil
}

// match checks the claims against the request.
func (c *Checker) match(cl *claims, r Request) error {
	if cl.ID == "" || len(cl.ID) > 256 {
		return invalid("jti is missing")
	}
	if cl.Method != r.Method {
		return invalid("htm does not match the request method")
	}
	want, err := NormalizeURL(r.URL)
	if err != nil {
		return invalid("request URL: %v", err)
	}
	got, err := NormalizeURL(cl.URL)
	if err != nil || got != want {
		return invalid("htu does not match the request URL")
	}
	iat := time.Unix(cl.IssuedAt, 0)
	if now := c.now(); cl.IssuedAt == 0 || iat.Before(now.Add(-c.window)) || iat.After(now.Add(c.window)) {
		return invalid("iat is outside the accepted window")
	}
	if r.AccessToken != "" && subtle.ConstantTimeCompare([]byte(cl.TokenHash), []byte(TokenHash(r.AccessToken))) != 1 {
		return invalid("ath does not match the access token")
	}
	if r.Nonce != nil && (cl.Nonce == "" || !r.Nonce(cl.Nonce)) {
		return ErrUseNonce
	}
	return nil
}

// MemoryReplay is a ReplayCache in memory with at most max entries. Past
// that, expired entries go first, then arbitrary ones: a flood can make an
// old proof replayable within its window, never block a new one.
type MemoryReplay struct {
	max int
	mu  sync.Mutex
	m   map[string]time.Time
	now func() time.Time
}

// NewMemoryReplay returns an empty MemoryReplay.
func NewMemoryReplay(max int) *MemoryReplay {
	return &MemoryReplay{max: max, m: make(map[string]time.Time), now: time.Now}
}

// Seen implements ReplayCache.
func (m *MemoryReplay) Seen(id string, until time.Time) bool {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if exp, ok := m.m[id]; ok && now.Before(exp) {
		return true
	}
	if len(m.m) >= m.max {
		for k, exp := range m.m {
			if !now.Before(exp) {
				delete(m.m, k)
			}
		}
		for k := range m.m {
			if len(m.m) < m.max*9/10 {
				break
			}
			delete(m.m, k)
		}
	}
	m.m[id] = until
	return false
}
