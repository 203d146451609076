package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/tollgate/tollgate/bench/internal/ceiling"
)

// Checks of a successful answer's body.
var (
	hasAccessToken = contains(`"access_token":"`)
	isActive       = contains(`"active":true`)
	hasKeys        = contains(`"keys":[`)
)

func contains(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

func isInactive(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte(`{"active":false}`)) }

// staticPlan repeats one request.
func staticPlan(t vegeta.Target, valid func([]byte) bool) plan {
	return plan{targeter: func(out *vegeta.Target) error { *out = t; return nil }, valid: valid, static: &t}
}

// formTarget is a POST of a form, with an Authorization header unless auth
// is empty.
func formTarget(u, auth string, form url.Values) vegeta.Target {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return vegeta.Target{Method: http.MethodPost, URL: u, Body: []byte(form.Encode()), Header: h}
}

// ceilingPlan is client_credentials against the reference server
// (./bench/cmd/ceiling), whose one client is fixed.
func ceilingPlan(base string) plan {
	auth := basicAuth(credentials{ID: ceiling.ClientID, Secret: ceiling.ClientSecret})
	return staticPlan(formTarget(base+"/oauth2/token", auth, url.Values{"grant_type": {"client_credentials"}}), hasAccessToken)
}

// plan prepares scenario s at concurrency c. Tokens are minted right
// before each run, so none expires during it.
func (in *instance) plan(ctx context.Context, s string, c int) (plan, error) {
	tokenURL := in.base + "/oauth2/token"
	switch s {
	case scCeiling:
		return ceilingPlan(in.ceilingBase), nil
	case scClientCreds:
		return staticPlan(formTarget(tokenURL, basicAuth(in.cc), url.Values{"grant_type": {"client_credentials"}}), hasAccessToken), nil
	case scIntrospectValid, scIntrospectRevoke:
		return in.introspectPlan(ctx, s == scIntrospectRevoke)
	case scAPIKey:
		return staticPlan(formTarget(tokenURL, "", exchangeForm(in.apiKey)), hasAccessToken), nil
	case scJWKS:
		return staticPlan(vegeta.Target{Method: http.MethodGet, URL: in.base + "/.well-known/jwks.json"}, hasKeys), nil
	case scPassword:
		form := url.Values{"grant_type": {"password"}, "username": {in.username}, "password": {in.password}}
		return staticPlan(formTarget(tokenURL, basicAuth(in.web), form), hasAccessToken), nil
	case scRefresh:
		return in.refreshPlan(ctx, c)
	}
	return plan{}, fmt.Errorf("unknown scenario %q", s)
}

// introspectPlan introspects one fresh token, revoked first if revoked,
// after checking that Tollgate sees it as it should.
func (in *instance) introspectPlan(ctx context.Context, revoked bool) (plan, error) {
	tok, err := in.api.clientCredentials(ctx, in.cc)
	if err != nil {
		return plan{}, err
	}
	valid := isActive
	if revoked {
		if err := in.api.revoke(ctx, in.cc, tok); err != nil {
			return plan{}, err
		}
		valid = isInactive
	}
	active, err := in.api.introspect(ctx, in.rs, tok)
	if err != nil {
		return plan{}, err
	}
	if active == revoked {
		return plan{}, fmt.Errorf("introspection says active=%v for a token that is %s", active, map[bool]string{true: "revoked", false: "valid"}[revoked])
	}
	return staticPlan(formTarget(in.base+"/oauth2/introspect", basicAuth(in.rs), url.Values{"token": {tok}}), valid), nil
}

// refreshPlan measures refresh_token rotation. Every request needs a
// refresh token nobody has used: 2c token families are started with the
// password grant before the run, and each answer's new refresh token goes
// back into the pool for a later request. So every request is a real,
// first-time rotation, as a client chaining refreshes would make, and the
// argon2id cost of the logins stays out of the measurement. With 2c tokens
// for c workers a worker does not wait for one (a wait would count in its
// latency); if the pool stays empty for 5 s the run stops with an error.
func (in *instance) refreshPlan(ctx context.Context, c int) (plan, error) {
	pool := make(chan string, 4*c)
	var wg sync.WaitGroup
	errs := make(chan error, 2*c)
	sem := make(chan struct{}, 8)
	for range 2 * c {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			tok, err := in.api.login(ctx, in.web, in.username, in.password)
			if err != nil {
				errs <- err
				return
			}
			pool <- tok
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return plan{}, fmt.Errorf("starting refresh token families: %w", err)
	}
	return plan{
		targeter: refreshTargeter(pool, in.base+"/oauth2/token", basicAuth(in.web), 5*time.Second),
		valid:    hasAccessToken,
		after:    func(r *vegeta.Result) { recycleRefresh(pool, r) },
	}, nil
}

var errPoolEmpty = errors.New("no unused refresh token within the wait")

func refreshTargeter(pool chan string, tokenURL, auth string, wait time.Duration) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		var tok string
		select {
		case tok = <-pool:
		default:
			timer := time.NewTimer(wait)
			defer timer.Stop()
			select {
			case tok = <-pool:
			case <-timer.C:
				return errPoolEmpty
			}
		}
		*t = formTarget(tokenURL, auth, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}})
		return nil
	}
}

// recycleRefresh puts a successful answer's new refresh token in the pool.
func recycleRefresh(pool chan string, r *vegeta.Result) {
	if r.Code != http.StatusOK {
		return
	}
	var v struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(r.Body, &v) == nil && v.RefreshToken != "" {
		select {
		case pool <- v.RefreshToken:
		default: // cannot happen: the pool holds every token in circulation
		}
	}
}
