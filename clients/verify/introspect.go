package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/clients/internal/clientassert"
)

// introspector asks the issuer about tokens (RFC 7662) and caches the
// active answers for a short while, never past exp.
type introspector struct {
	o     *Options
	url   string
	cache *cache
	// assert, when set, signs a private_key_jwt assertion for each call
	// instead of HTTP Basic.
	assert *clientassert.Signer
}

// introspection is an RFC 7662 §2.2 answer as Tollgate gives it.
type introspection struct {
	Active    bool        `json:"active"`
	Scope     string      `json:"scope"`
	ClientID  string      `json:"client_id"`
	Sub       string      `json:"sub"`
	Aud       audience    `json:"aud"`
	Iss       string      `json:"iss"`
	Exp       numericDate `json:"exp"`
	Iat       numericDate `json:"iat"`
	Nbf       numericDate `json:"nbf"`
	Jti       string      `json:"jti"`
	TokenType string      `json:"token_type"`
	// TokenUse is Tollgate's "access_token" or "refresh_token".
	TokenUse string   `json:"token_use"`
	Roles    []string `json:"roles"`
	APIKeyID string   `json:"api_key_id"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// check returns the entry for tok, from the cache or the issuer. Inactive
// answers are not cached: a flood of bad tokens must not push out good ones.
func (in *introspector) check(ctx context.Context, tok string, k key, now time.Time) (*entry, error) {
	if e := in.cache.get(k, now.UnixNano()); e != nil {
		return e, nil
	}
	raw, err := in.ask(ctx, tok)
	if err != nil {
		return nil, err
	}
	var r introspection
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%w: introspection answer is not JSON", ErrUnavailable)
	}
	p, err := in.principal(&r, raw, isJWE(tok), now)
	if err != nil {
		return nil, err
	}
	until := now.Add(in.o.IntrospectionCacheTTL)
	if p.ExpiresAt.Before(until) {
		until = p.ExpiresAt
	}
	e := newEntry(p, until)
	in.cache.put(k, e, now.UnixNano())
	return e, nil
}

// resyncRetries is how often ask asks again when the node that answered
// cannot vouch for its revocation set: behind a load balancer, the next
// request usually reaches another node.
const resyncRetries = 2

// ask calls the introspection endpoint. A node that cannot vouch for its
// revocation set answers 503 temporarily_unavailable (never "inactive",
// which would be final); ask retries that at once, then fails closed with
// ErrNotVouching (and ErrUnavailable).
func (in *introspector) ask(ctx context.Context, tok string) ([]byte, error) {
	for try := 0; ; try++ {
		raw, err := in.call(ctx, tok)
		if err == nil {
			return raw, nil
		}
		var se *statusError
		if !errors.As(err, &se) || se.code != http.StatusServiceUnavailable || !strings.HasPrefix(se.detail, "temporarily_unavailable") {
			return nil, fmt.Errorf("%w: introspection: %v", ErrUnavailable, err)
		}
		if try == resyncRetries || ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w: introspection: %v", ErrUnavailable, ErrNotVouching, err)
		}
	}
}

// principal applies the same rules as local verification to an answer.
func (in *introspector) principal(r *introspection, raw []byte, encrypted bool, now time.Time) (*Principal, error) {
	switch {
	case !r.Active:
		return nil, ErrInactive
	case r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer"),
		r.TokenUse != "" && r.TokenUse != "access_token":
		return nil, ErrType // a refresh token is not a bearer credential
	case r.Iss != in.o.Issuer:
		return nil, ErrIssuer
	case r.Exp.IsZero() || r.Sub == "" || r.ClientID == "":
		return nil, fmt.Errorf("%w: introspection answer lacks exp, sub or client_id", ErrMalformed)
	}
	if err := checkTimes(r.Exp.Time, r.Nbf.Time, r.Iat.Time, now, in.o.Leeway); err != nil {
		return nil, err
	}
	if !slices.Contains(r.Aud, in.o.Audience) {
		return nil, ErrAudience
	}
	return &Principal{
		Subject: r.Sub, ClientID: r.ClientID, Scopes: strings.Fields(r.Scope), Roles: r.Roles,
		APIKeyID: r.APIKeyID, KeyThumbprint: r.Cnf.JKT, ID: r.Jti, Issuer: r.Iss, Audience: r.Aud,
		IssuedAt: r.Iat.Time, ExpiresAt: r.Exp.Time, Claims: json.RawMessage(raw), Encrypted: encrypted,
	}, nil
}

// call POSTs tok to the introspection endpoint (RFC 7662 §2.1).
func (in *introspector) call(ctx context.Context, tok string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, in.o.RequestTimeout)
	defer cancel()
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	if in.assert != nil {
		// RFC 7523 §3: the issuer identifies the authorization server.
		a, err := in.assert.Sign(in.o.Issuer, in.o.Now(), 2*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("client assertion: %w", err)
		}
		form.Set("client_assertion_type", clientassert.Type)
		form.Set("client_assertion", a)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.assert == nil {
		setBasic(req, in.o)
	}
	resp, err := in.o.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxSmallBody))
}
