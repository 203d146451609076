// Package introspection answers "is this token active, and what does it
// carry?" (RFC 7662) from memory: access tokens are verified against the
// published keys and checked against the node's revocation set, with no
// database round trip. Refresh tokens are looked up in the refresh store.
package introspection

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// Checker is the node's revocation set; *revocation.Set implements it.
type Checker interface {
	// Check reports whether a token is revoked; ok is false while the set
	// cannot vouch for its completeness.
	Check(jti string, subjects []string, issuedAt time.Time) (revoked, ok bool)
}

// SubjectRevocations tells when a client's or user's tokens were last
// revoked as a whole (zero if never); refresh tokens of a family started
// at or before that time are dead.
type SubjectRevocations interface {
	TokensRevokedAt(ctx context.Context, clientID, userID string) (time.Time, error)
}

// Options configure an Introspector.
type Options struct {
	Keys        accesstoken.KeySource
	Revocations Checker
	Refresh     store.RefreshTokenStore
	Subjects    SubjectRevocations
	Issuer      string
	Leeway      time.Duration
	Now         func() time.Time
	// CacheSize bounds the verified-token cache (default 100,000 entries).
	CacheSize int
	// Clients, when set, makes a token whose client no longer exists
	// inactive (see liveClients).
	Clients ClientLookup
	// Decrypter, when set, opens encrypted access tokens (nested JWTs);
	// without it a JWE is inactive.
	Decrypter Decrypter
}

// Decrypter opens the JWE of an encrypted access token; *encryption.Ring
// implements it.
type Decrypter interface {
	// Decrypt returns the inner JWS and the audience whose key opened
	// it. Any error means the token is not one Tollgate encrypted (or no
	// longer can open): the token is inactive.
	Decrypt(ctx context.Context, jwe string) (jws, aud string, err error)
}

// Result is an RFC 7662 §2.2 response. An inactive token is exactly
// {"active":false}.
type Result struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Audience  any    `json:"aud,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	ExpiresAt int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	NotBefore int64  `json:"nbf,omitempty"`
	ID        string `json:"jti,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	// TokenUse says what kind of token it is: "access_token" or
	// "refresh_token" (an extension; token_type is only for access tokens).
	TokenUse string   `json:"token_use,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	APIKeyID string   `json:"api_key_id,omitempty"`
	// Confirmation names the key a DPoP-bound token is bound to (RFC 9449
	// §6.2); TokenType is then "DPoP".
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the "cnf" member of a bound token (RFC 7800 §3.1).
type Confirmation struct {
	KeyThumbprint string `json:"jkt"`
}

var inactive = &Result{}

// ErrCannotVouch is Introspect's error for a token that passes every
// other check while this node's revocation set cannot vouch for its
// completeness (loading, or its feed lost). It wraps store.ErrUnavailable,
// so callers answer 503 and the client asks again (another node): an
// answer of inactive always means the token is bad, and a resource server
// may keep it as final.
var ErrCannotVouch = fmt.Errorf("%w: this node's revocation set is resynchronising", store.ErrUnavailable)

// Introspector answers introspection requests.
type Introspector struct {
	o       Options
	cache   *cache
	clients *liveClients
}

// New builds an Introspector.
func New(o Options) *Introspector {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 100_000
	}
	return &Introspector{o: o, cache: newCache(o.CacheSize, o.Keys), clients: newLiveClients(o.Clients)}
}

// Introspect returns the token's state. The hint (RFC 7662 §2.1) orders
// the lookups but is not trusted. Unknown, expired, revoked, tampered and
// foreign tokens are inactive; an error means a store could not be
// reached, or (ErrCannotVouch) the revocation set cannot vouch for a
// token that is otherwise valid, and the caller answers 503 rather than
// guess.
func (i *Introspector) Introspect(ctx context.Context, tok, hint string) (*Result, error) {
	if _, ok := secret.ParseRefreshToken(tok); ok || hint == "refresh_token" {
		if r, err := i.refresh(ctx, tok); err != nil || r.Active {
			return r, err
		}
	}
	r, err := i.access(ctx, tok)
	if err != nil {
		return nil, err
	}
	return i.clients.check(ctx, r, i.o.Now())
}

// maxJWELen bounds the encrypted tokens read: a JWE of the longest JWS
// (base64url of it, plus the header with its ephemeral key, the wrapped
// key, IV and tag).
const maxJWELen = accesstoken.MaxTokenLen*4/3 + 2048

// access checks a JWT access token: the signature once (then cached until
// exp), the revocation set every time. An encrypted token (a JWE, RFC 7516
// §7.1) is decrypted first, once too; its inner JWS must name the
// audience it was encrypted to.
func (i *Introspector) access(ctx context.Context, tok string) (*Result, error) {
	dots := strings.Count(tok, ".")
	if (dots != 2 || len(tok) > accesstoken.MaxTokenLen) && (dots != 4 || len(tok) > maxJWELen || i.o.Decrypter == nil) {
		return inactive, nil
	}
	now := i.o.Now()
	key := sha256.Sum256([]byte(tok))
	c, ok := i.cache.get(key, now)
	if !ok {
		jws, aud := tok, ""
		if dots == 4 {
			var err error
			if jws, aud, err = i.o.Decrypter.Decrypt(ctx, tok); err != nil {
				return inactive, nil
			}
		}
		var err error
		c, err = accesstoken.Verify(jws, i.o.Keys, accesstoken.VerifyOptions{Issuer: i.o.Issuer, Now: now, Leeway: i.o.Leeway})
		if err != nil || (aud != "" && !slices.Contains(c.Audience, aud)) {
			return inactive, nil
		}
		i.cache.put(key, jws, c)
	}
	// The cache never outlives exp, and is never a reason to skip this.
	if !now.Before(c.ExpiresAt.Add(i.o.Leeway)) {
		return inactive, nil
	}
	subjects := [3]string{store.SubjectClient + c.ClientID, store.SubjectUser + c.Subject}
	n := 2
	if c.APIKeyID != "" {
		subjects[2], n = store.SubjectAPIKey+c.APIKeyID, 3
	}
	revoked, sure := i.o.Revocations.Check(c.ID, subjects[:n], c.IssuedAt)
	switch {
	case !sure:
		return nil, ErrCannotVouch
	case revoked:
		return inactive, nil
	}
	r := &Result{
		Active:    true,
		Scope:     strings.Join(c.Scope, " "),
		ClientID:  c.ClientID,
		Subject:   c.Subject,
		Issuer:    c.Issuer,
		ExpiresAt: c.ExpiresAt.Unix(),
		IssuedAt:  c.IssuedAt.Unix(),
		ID:        c.ID,
		TokenType: "Bearer",
		TokenUse:  "access_token",
		Roles:     c.Roles,
		APIKeyID:  c.APIKeyID,
	}
	if !c.NotBefore.IsZero() {
		r.NotBefore = c.NotBefore.Unix()
	}
	if c.KeyThumbprint != "" {
		r.TokenType, r.Confirmation = "DPoP", &Confirmation{KeyThumbprint: c.KeyThumbprint}
	}
	if len(c.Audience) == 1 {
		r.Audience = c.Audience[0]
	} else {
		r.Audience = c.Audience
	}
	return r, nil
}

// refresh looks a refresh token up in the refresh store.
func (i *Introspector) refresh(ctx context.Context, tok string) (*Result, error) {
	family, ok := secret.ParseRefreshToken(tok)
	if !ok {
		return inactive, nil
	}
	rt, err := i.o.Refresh.GetRefreshToken(ctx, family, secret.TokenHash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, err
	}
	now := i.o.Now()
	if !rt.RotatedAt.IsZero() || !now.Before(rt.ExpiresAt) {
		return inactive, nil
	}
	if i.o.Subjects != nil {
		at, err := i.o.Subjects.TokensRevokedAt(ctx, rt.ClientID, rt.UserID)
		if err != nil {
			return nil, err
		}
		if !rt.FamilyIssuedAt.After(at) {
			return inactive, nil
		}
	}
	sub := rt.UserID
	if sub == "" {
		sub = rt.ClientID
	}
	return &Result{
		Active:    true,
		Scope:     strings.Join(rt.Scopes, " "),
		ClientID:  rt.ClientID,
		Subject:   sub,
		Issuer:    i.o.Issuer,
		ExpiresAt: rt.ExpiresAt.Unix(),
		IssuedAt:  rt.IssuedAt.Unix(),
		TokenUse:  "refresh_token",
	}, nil
}
