package main

import (
	"math/rand/v2"
	"sync"
	"time"
)

// owner says which client a token was issued to, the one that may revoke
// it (RFC 7009 §2.1).
type owner int

const (
	ownerCC  owner = iota // client_credentials and the API key's tokens
	ownerWeb              // password and refresh_token
)

// liveToken is an access token no one has tried to revoke.
type liveToken struct {
	value string // the JWT; never printed
	jti   string
	kid   string // the key that signed it
	node  int    // the node that issued it
	owner owner
}

// revokedToken is a token whose revocation was answered 200.
type revokedToken struct {
	value     string // never printed
	jti       string // "" for a refresh token
	kid       string // the signing key of an access token
	issuedBy  int    // the node that issued an access token
	refresh   bool
	node      int // the node that answered the revocation
	revokedAt time.Time
}

// pools hold the tokens the load works on; safe for concurrent use. The
// live pool is bounded (a full pool replaces a random entry); the revoked
// list is bounded by its capacity, after which nothing more is revoked.
type pools struct {
	liveCap int
	mu      sync.Mutex
	live    []liveToken
	// taken holds the jti of every token taken out for revocation, so that
	// an introspection racing with its revocation is not judged wrong.
	taken      map[string]struct{}
	revoked    []revokedToken
	revokedCap int
	// capReached is when the first revocation was refused for the cap.
	capReached time.Time
}

func newPools(liveCap, revokedCap int) *pools {
	return &pools{liveCap: liveCap, revokedCap: revokedCap, taken: map[string]struct{}{}}
}

// addLive adds a freshly issued access token.
func (p *pools) addLive(t liveToken, rng *rand.Rand) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.live) < p.liveCap {
		p.live = append(p.live, t)
		return
	}
	p.live[rng.IntN(len(p.live))] = t
}

// pickLive returns a random live token, leaving it in the pool.
func (p *pools) pickLive(rng *rand.Rand) (liveToken, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.live) == 0 {
		return liveToken{}, false
	}
	return p.live[rng.IntN(len(p.live))], true
}

// takeLive removes a random live token for revocation. It fails when
// there is none or revokedCap tokens have been taken already.
func (p *pools) takeLive(rng *rand.Rand) (liveToken, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.taken) >= p.revokedCap && p.capReached.IsZero() {
		p.capReached = time.Now()
	}
	if len(p.live) == 0 || len(p.taken) >= p.revokedCap {
		return liveToken{}, false
	}
	i := rng.IntN(len(p.live))
	t := p.live[i]
	p.live[i] = p.live[len(p.live)-1]
	p.live = p.live[:len(p.live)-1]
	p.taken[t.jti] = struct{}{}
	return t, true
}

// wasTaken reports whether jti was taken out for revocation.
func (p *pools) wasTaken(jti string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.taken[jti]
	return ok
}

// addRevoked records a revocation answered 200.
func (p *pools) addRevoked(t revokedToken) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.revoked) < p.revokedCap {
		p.revoked = append(p.revoked, t)
	}
}

// pickRevoked returns a random revoked token.
func (p *pools) pickRevoked(rng *rand.Rand) (revokedToken, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.revoked) == 0 {
		return revokedToken{}, false
	}
	return p.revoked[rng.IntN(len(p.revoked))], true
}

// allRevoked returns every recorded revocation.
func (p *pools) allRevoked() []revokedToken {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]revokedToken(nil), p.revoked...)
}

// counts returns the sizes of the pools.
func (p *pools) counts() (live, revoked int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.live), len(p.revoked)
}

// capReachedAt returns when revocations stopped for the cap, or zero.
func (p *pools) capReachedAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.capReached
}

// roomForRevoked reports whether another revocation can be recorded.
func (p *pools) roomForRevoked() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.revoked) < p.revokedCap
}
