package verify

import (
	"strings"
	"sync"
)

// Subject revocation keys, as in the feed: "client:<client_id>" matches a
// token's client_id, "user:<id>" its sub, "apikey:<id>" its api_key_id.
const (
	subjectClient = "client:"
	subjectUser   = "user:"
	subjectAPIKey = "apikey:"
)

// revocation is one entry of the issuer's revocation feed.
type revocation struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	// JTI is set for kind "token"; Subject for kind "subject".
	JTI       string `json:"jti"`
	Subject   string `json:"subject"`
	RevokedAt int64  `json:"revoked_at"`
	ExpiresAt int64  `json:"expires_at"`
}

// valid reports whether r is an entry this verifier understands.
func (r *revocation) valid() bool {
	switch r.Kind {
	case "token":
		return r.JTI != ""
	case "subject":
		return strings.HasPrefix(r.Subject, subjectClient) || strings.HasPrefix(r.Subject, subjectUser) ||
			strings.HasPrefix(r.Subject, subjectAPIKey)
	}
	return false
}

type subjectRevocation struct{ revokedAt, expiresAt int64 }

// revocationSet is the verifier's in-memory copy of the issuer's
// revocation set. Times are unix seconds, as on the wire.
type revocationSet struct {
	mu       sync.RWMutex
	tokens   map[string]int64             // jti → expires_at
	subjects map[string]subjectRevocation // subject key → latest revocation
}

func newRevocationSet() *revocationSet {
	return &revocationSet{tokens: map[string]int64{}, subjects: map[string]subjectRevocation{}}
}

// apply records entries that have not expired at now.
func (s *revocationSet) apply(rs []revocation, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rs {
		r := &rs[i]
		if r.ExpiresAt <= now {
			continue
		}
		switch r.Kind {
		case "token":
			s.tokens[r.JTI] = max(s.tokens[r.JTI], r.ExpiresAt)
		case "subject":
			old := s.subjects[r.Subject]
			s.subjects[r.Subject] = subjectRevocation{revokedAt: max(old.revokedAt, r.RevokedAt), expiresAt: max(old.expiresAt, r.ExpiresAt)}
		}
	}
}

// revoked reports whether e's token is revoked at now: by its jti, or
// because its client or user was revoked at or after its iat.
func (s *revocationSet) revoked(e *entry, now int64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if exp, ok := s.tokens[e.jti]; ok && now < exp {
		return true
	}
	for _, k := range [3]string{e.clientKey, e.userKey, e.apiKeyKey} {
		if k == "" {
			continue
		}
		if sub, ok := s.subjects[k]; ok && now < sub.expiresAt && e.iat <= sub.revokedAt {
			return true
		}
	}
	return false
}

// prune drops the entries that expired by now.
func (s *revocationSet) prune(now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.tokens {
		if exp <= now {
			delete(s.tokens, k)
		}
	}
	for k, sub := range s.subjects {
		if sub.expiresAt <= now {
			delete(s.subjects, k)
		}
	}
}

// size returns how many entries the set holds.
func (s *revocationSet) size() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tokens) + len(s.subjects)
}
