package assertion

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/store"
)

// DefaultIssuerMaxLifetime caps a federated token's exp when its issuer
// sets no cap: a Kubernetes projected token lives an hour by default, and
// kubelet reuses it until about 80 % of that.
const DefaultIssuerMaxLifetime = 24 * time.Hour

// IssuerSource finds trusted issuers; store.IssuerStore implements it.
type IssuerSource interface {
	// GetIssuer returns the issuer with that name, or store.ErrNotFound.
	GetIssuer(ctx context.Context, name string) (*store.TrustedIssuer, error)
}

// verifyFederated checks an external token as the client assertion of a
// client bound to a trusted issuer (workload identity federation): a
// signature by a key the issuer publishes, its iss, the audience set for
// it, the times (exp at most the issuer's MaxLifetime ahead), the bound
// sub and claims. The token is not single-use: a platform hands the same
// token to its workload until it rotates it, so it is accepted again
// until its own exp.
func (v *Verifier) verifyFederated(ctx context.Context, c *store.Client, tok *jwt.JSONWebToken, h header) error {
	if v.opts.Issuers == nil {
		return fail("this server does not accept federated tokens")
	}
	iss, err := v.opts.Issuers.GetIssuer(ctx, c.FederatedIssuer)
	if errors.Is(err, store.ErrNotFound) {
		return fail("the client's trusted issuer %s is not configured (tollgate issuer list)", safe(c.FederatedIssuer))
	}
	if err != nil {
		return err
	}
	keys, err := v.issuerKeys(ctx, iss, h.kid)
	if err != nil {
		return err
	}
	var claims jwt.Claims
	var all map[string]any
	if err := verifySignature(tok, h, keys, &claims, &all); err != nil {
		return err
	}
	if claims.Issuer != iss.Issuer {
		return fail("iss is not the trusted issuer %s", safe(iss.Issuer))
	}
	if !claims.Audience.Contains(iss.Audience) {
		return fail("aud must contain %s, the audience set for issuer %s", safe(iss.Audience), safe(iss.Name))
	}
	maxLife := iss.MaxLifetime
	if maxLife <= 0 {
		maxLife = DefaultIssuerMaxLifetime
	}
	if err := v.checkTimes(&claims, v.opts.Now(), maxLife); err != nil {
		return err
	}
	if !MatchSubject(c.FederatedSubject, claims.Subject) {
		return fail("sub %s is not bound to this client", safe(claims.Subject))
	}
	for k, want := range c.FederatedClaims {
		// A claim the token lacks (or holds as null) holds no value, not
		// "": an empty condition must not bind every token without it.
		got, ok := all[k]
		if !ok || got == nil || claimText(got) != want {
			return fail("claim %s does not match the client's binding", safe(k))
		}
	}
	return nil
}

// issuerKeys returns the issuer's keys that could have signed a token
// with this kid: its own JWK Set, its jwks_uri, or the one OIDC discovery
// finds.
func (v *Verifier) issuerKeys(ctx context.Context, iss *store.TrustedIssuer, kid string) ([]jose.JSONWebKey, error) {
	var set []jose.JSONWebKey
	switch {
	case len(iss.JWKS) > 0:
		s, err := parseSet(iss.JWKS, false)
		if err != nil {
			return nil, fail("the trusted issuer's JWK Set is unusable")
		}
		set = s
	default:
		uri := iss.JWKSURI
		if uri == "" {
			u, err := v.opts.Fetcher.Discover(ctx, iss.Issuer)
			if err != nil {
				return nil, fail("%v", err)
			}
			uri = u
		}
		s, err := v.opts.Fetcher.Keys(ctx, uri, false)
		// Key rotation at the issuer: a new kid fetches the set again.
		if err == nil && kid != "" && !hasKid(s, kid) {
			s, err = v.opts.Fetcher.Keys(ctx, uri, true)
		}
		if err != nil {
			return nil, fail("%v", err)
		}
		set = s
	}
	return withKid(set, kid)
}

// withKid narrows set to the keys with kid (all when kid is empty).
func withKid(set []jose.JSONWebKey, kid string) ([]jose.JSONWebKey, error) {
	if kid == "" {
		return set, nil
	}
	var out []jose.JSONWebKey
	for _, k := range set {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fail("no key has kid %s", safe(kid))
	}
	return out, nil
}

// claimText is a claim's value as a binding compares it: a string as is,
// anything else as its JSON ("true", "42"). Callers refuse absent and
// null claims first.
func claimText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// MatchSubject reports whether sub matches pattern: exactly, or with each
// * in pattern standing for any run of characters, "/" and ":" included
// ("system:serviceaccount:payments:*", "repo:org/app:ref:refs/heads/*").
// An empty pattern matches nothing.
func MatchSubject(pattern, sub string) bool {
	if pattern == "" {
		return false
	}
	// Iterative wildcard match: p and s walk forward; star remembers the
	// last * and where in sub its run started, to backtrack.
	p, s, star, mark := 0, 0, -1, 0
	for s < len(sub) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case p < len(pattern) && pattern[p] == sub[s]:
			p++
			s++
		case star >= 0:
			mark++
			p, s = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
