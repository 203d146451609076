package verify

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Principal is who a verified access token speaks for. A Principal
// returned by Verify is shared between all requests that carry the same
// token (it comes from a cache): treat it, its slices and Claims as
// read-only.
type Principal struct {
	// Subject is "sub": the user's id for user tokens, the client's id
	// for client tokens.
	Subject  string
	ClientID string
	// Scopes are the token's scopes ("scope", space-separated on the wire).
	Scopes []string
	// Roles are the RFC 9068 §2.2.3.1 roles of the user or client.
	Roles []string
	// APIKeyID names the API key the token was exchanged for; empty
	// otherwise.
	APIKeyID string
	// KeyThumbprint is cnf.jkt of a DPoP-bound token (RFC 9449 §6): the
	// RFC 7638 thumbprint of the key whose proofs must come with it.
	// clients/bearer checks them; code that takes tokens by hand must too.
	KeyThumbprint string
	ID            string // "jti"
	Issuer        string
	Audience      []string
	IssuedAt      time.Time
	ExpiresAt     time.Time
	// Claims is the token's whole JWT claims set as it was signed (every
	// payload member: registered, Tollgate's own and the subject's extra
	// claims, including the private claims Tollgate puts only into
	// encrypted tokens) or, in introspection mode, the introspection
	// response: for claims the fields above do not cover.
	Claims json.RawMessage
	// Encrypted reports that the token came encrypted: a nested JWT (a
	// JWE around the signed token, RFC 7519 §5.2), for an audience that
	// receives encrypted tokens. Its Claims may hold private claims, which
	// the token's holder cannot read: do not hand them back to it.
	Encrypted bool
}

// HasScope reports whether the token carries scope s.
func (p *Principal) HasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// HasRole reports whether the token carries role r.
func (p *Principal) HasRole(r string) bool { return slices.Contains(p.Roles, r) }

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal that the middleware (or NewContext)
// put in ctx, and false if there is none: the request carried no token.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
