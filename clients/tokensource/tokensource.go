// Package tokensource gets Tollgate access tokens for a program, as an
// oauth2.TokenSource: with client credentials (RFC 6749 §4.4), or by
// exchanging an API key (RFC 8693). A Source caches its token and renews
// it ahead of expiry, makes one request at a time however many goroutines
// ask, and backs off after failures, honouring Retry-After.
//
//	src, err := tokensource.NewClientCredentials(ctx, tokensource.ClientCredentials{
//		TokenURL: "https://auth.example.com/oauth2/token",
//		ClientID: id, ClientSecret: secret, Scopes: []string{"orders:read"},
//	})
//	client := oauth2.NewClient(ctx, src) // every request carries a fresh token
package tokensource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/tollgate/tollgate/clients/dpop"
)

// expiryDelta is the margin before expiry after which a token is no
// longer handed out, as in golang.org/x/oauth2: it must not expire in
// flight.
const expiryDelta = 10 * time.Second

// Source is an oauth2.TokenSource for Tollgate. It is safe for concurrent
// use.
type Source struct {
	ctx      context.Context
	o        Options
	tokenURL string
	form     url.Values
	// auth adds client authentication to a request, if the grant has any.
	auth func(*http.Request)
	// assertion, when set, makes a fresh client assertion (RFC 7521 §4.2)
	// for each request.
	assertion func() (string, error)
	// wantIssued is the issued_token_type a token exchange must return.
	wantIssued string
	// prover signs DPoP proofs when Options.DPoPKey is set; nonce holds
	// the token endpoint's latest DPoP-Nonce, if it sent one.
	prover *dpop.Prover
	nonce  atomic.Pointer[string]

	flight singleflight.Group

	mu      sync.Mutex
	tok     *oauth2.Token
	renewAt time.Time
	retryAt time.Time     // no request before this, after a failure
	delay   time.Duration // the current backoff; 0 after a success
	lastErr error
}

// NewClientCredentials returns a Source that gets tokens with the
// client_credentials grant, authenticating with HTTP Basic (RFC 6749
// §2.3.1). ctx bounds the Source's life: once it is done, requests fail.
func NewClientCredentials(ctx context.Context, c ClientCredentials) (*Source, error) {
	o, err := c.Options.withDefaults()
	prover, perr := newProver(o)
	errs := []error{err, perr, checkTokenURL(c.TokenURL), checkScopes(c.Scopes)}
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("tokensource: ClientID and ClientSecret are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	form := clientCredentialsForm(c.Scopes, c.Audience)
	id, secret := url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret)
	return &Source{
		ctx: ctx, o: o, tokenURL: c.TokenURL, form: form, prover: prover,
		auth: func(r *http.Request) { r.SetBasicAuth(id, secret) },
	}, nil
}

// NewAPIKey returns a Source that exchanges an API key for access tokens
// (RFC 8693 §2.1: grant_type token-exchange, subject_token the key,
// subject_token_type TokenTypeAPIKey, and scope and audience if set). The
// key is the only credential: no client authentication is sent. ctx
// bounds the Source's life.
func NewAPIKey(ctx context.Context, c APIKey) (*Source, error) {
	o, err := c.Options.withDefaults()
	prover, perr := newProver(o)
	errs := []error{err, perr, checkTokenURL(c.TokenURL), checkScopes(c.Scopes)}
	if c.Key == "" {
		errs = append(errs, errors.New("tokensource: Key is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":         {GrantTypeTokenExchange},
		"subject_token":      {c.Key},
		"subject_token_type": {TokenTypeAPIKey},
	}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	if c.Audience != "" {
		form.Set("audience", c.Audience)
	}
	return &Source{ctx: ctx, o: o, tokenURL: c.TokenURL, form: form, auth: func(*http.Request) {}, wantIssued: TokenTypeAccessToken, prover: prover}, nil
}

// Token returns a token valid for at least ten more seconds, fetching one
// if needed. It implements oauth2.TokenSource.
func (s *Source) Token() (*oauth2.Token, error) {
	return s.TokenContext(s.ctx)
}

// TokenContext is Token, giving up waiting when ctx is done. The request
// itself is shared by every waiting caller and bounded by the Source's
// context and Timeout, not by ctx.
func (s *Source) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	now := s.o.Now()
	s.mu.Lock()
	tok, renewAt, retryAt, lastErr := s.tok, s.renewAt, s.retryAt, s.lastErr
	s.mu.Unlock()
	if tok != nil && now.Before(renewAt) {
		return tok, nil
	}
	// usable: the current token may still serve while renewal fails.
	usable := tok != nil && now.Before(tok.Expiry.Add(-expiryDelta))
	if now.Before(retryAt) {
		if usable {
			return tok, nil
		}
		return nil, fmt.Errorf("tokensource: backing off until %s after: %w", retryAt.Format(time.RFC3339), lastErr)
	}
	ch := s.flight.DoChan("token", func() (any, error) { return s.fetch() })
	select {
	case r := <-ch:
		if r.Err == nil {
			return r.Val.(*oauth2.Token), nil
		}
		if usable {
			return tok, nil
		}
		return nil, r.Err
	case <-ctx.Done():
		if usable {
			return tok, nil
		}
		return nil, ctx.Err()
	}
}

// fetch makes one token request and records the outcome: the new token
// and when to renew it, or the backoff.
func (s *Source) fetch() (*oauth2.Token, error) {
	start := s.o.Now()
	tok, retryAfter, err := s.request()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.delay = min(max(s.delay*2, s.o.MinBackoff), s.o.MaxBackoff)
		wait := jitter(s.delay)
		if retryAfter > wait {
			wait = retryAfter
		}
		s.retryAt, s.lastErr = s.o.Now().Add(wait), err
		return nil, err
	}
	life := tok.Expiry.Sub(start)
	s.tok, s.renewAt = tok, tok.Expiry.Add(-min(s.o.RenewBefore, life/2))
	s.delay, s.retryAt, s.lastErr = 0, time.Time{}, nil
	return tok, nil
}
