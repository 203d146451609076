package tokensource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/clients/verify"
)

func TestMain(m *testing.M) { tollgatetest.Main(m) }

// clock is a test clock that only moves when told.
type clock struct{ t atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.t.Store(time.Now().UnixNano()); return c }
func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }
func (c *clock) opts() Options       { return Options{Now: c.now} }

// counting is an HTTP client that counts its requests.
func counting(n *atomic.Int64) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClientCredentialsAgainstTollgate gets a token from a real server,
// uses it through oauth2.NewClient against an API protected by the bearer
// middleware, renews it ahead of expiry, and reports a wrong secret as
// the server's invalid_client, then backs off.
func TestClientCredentialsAgainstTollgate(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	app := srv.CreateClient(t, "--scopes", "todos:read todos:write")
	rs := srv.CreateClient(t, "--scopes", "tollgate:introspect")
	ctx := context.Background()
	v, err := verify.Open(ctx, verify.Options{Issuer: srv.URL, Audience: srv.URL, ClientID: rs.ID, ClientSecret: rs.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	api := httptest.NewServer(bearer.Authenticate(v)(bearer.RequireScopes("todos:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		fmt.Fprint(w, p.ClientID)
	}))))
	t.Cleanup(api.Close)

	clk := newClock()
	var requests atomic.Int64
	o := clk.opts()
	o.HTTPClient = counting(&requests)
	src, err := NewClientCredentials(ctx, ClientCredentials{
		TokenURL: srv.URL + "/oauth2/token", ClientID: app.ID, ClientSecret: app.Secret, Scopes: []string{"todos:read"}, Options: o,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := oauth2.NewClient(ctx, src).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != app.ID {
		t.Fatalf("API answered %d %q", resp.StatusCode, body)
	}
	first, _ := src.Token()
	if first.Extra("scope") != "todos:read" || first.ExpiresIn != 300 || requests.Load() != 1 {
		t.Fatalf("token %+v scope %v after %d requests", first, first.Extra("scope"), requests.Load())
	}

	clk.add(3 * time.Minute) // 2 minutes left: still cached
	if tok, _ := src.Token(); tok != first || requests.Load() != 1 {
		t.Fatal("renewed too early")
	}
	clk.add(90 * time.Second) // 30 s left, within RenewBefore (1m)
	renewed, err := src.Token()
	if err != nil || renewed.AccessToken == first.AccessToken || requests.Load() != 2 {
		t.Fatalf("not renewed ahead of expiry: %v, %d requests", err, requests.Load())
	}

	bad, err := NewClientCredentials(ctx, ClientCredentials{TokenURL: srv.URL + "/oauth2/token", ClientID: app.ID, ClientSecret: "tgs_wrong", Options: o})
	if err != nil {
		t.Fatal(err)
	}
	before := requests.Load()
	_, err = bad.Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Fatalf("wrong secret: %v", err)
	}
	_, err = bad.Token()
	if !errors.As(err, &re) || requests.Load() != before+1 {
		t.Fatalf("no backoff: %v after %d requests", err, requests.Load()-before)
	}
}

// tokenServer is a token endpoint whose answers the test scripts.
type tokenServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	answer   func(w http.ResponseWriter, r *http.Request)
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		ts.mu.Lock()
		answer := ts.answer
		ts.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) set(f func(w http.ResponseWriter, r *http.Request)) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.answer = f
}

// issue answers with a fresh token valid for 300 s.
func issue(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":300,"scope":"a"}`, time.Now().UnixNano())
}

func fail(status int, retryAfter string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"try later"}`)
	}
}

func ccSource(t *testing.T, ts *tokenServer, o Options) *Source {
	t.Helper()
	src, err := NewClientCredentials(context.Background(), ClientCredentials{TokenURL: ts.URL, ClientID: "id", ClientSecret: "secret", Options: o})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestOneRequestInFlight: fifty goroutines asking at once cause one
// request, and all get its token.
func TestOneRequestInFlight(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	release := make(chan struct{})
	ts.set(func(w http.ResponseWriter, r *http.Request) { <-release; issue(w, r) })
	src := ccSource(t, ts, Options{})
	var wg sync.WaitGroup
	toks := make([]*oauth2.Token, 50)
	for i := range toks {
		wg.Go(func() {
			tok, err := src.Token()
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("%d requests", n)
	}
	for _, tok := range toks {
		if tok != toks[0] {
			t.Fatal("callers got different tokens")
		}
	}
}

// TestBackoffAndRetryAfter: after a failure no request is made before the
// backoff (doubling from MinBackoff) or the server's Retry-After, if
// longer, has passed.
func TestBackoffAndRetryAfter(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	clk := newClock()
	src := ccSource(t, ts, clk.opts())
	try := func(wantRequests int64) error {
		t.Helper()
		_, err := src.Token()
		if n := ts.requests.Load(); n != wantRequests {
			t.Fatalf("%d requests, want %d", n, wantRequests)
		}
		return err
	}

	ts.set(fail(http.StatusServiceUnavailable, "5"))
	if err := try(1); err == nil {
		t.Fatal("no error")
	}
	clk.add(4900 * time.Millisecond) // backoff (≤1s) is over, Retry-After is not
	if err := try(1); err == nil || !strings.Contains(err.Error(), "backing off") {
		t.Fatalf("within Retry-After: %v", err)
	}
	ts.set(fail(http.StatusInternalServerError, ""))
	clk.add(100 * time.Millisecond)
	_ = try(2) // second failure: backoff 2s (jittered to 1–2s)
	clk.add(999 * time.Millisecond)
	_ = try(2)
	clk.add(1001 * time.Millisecond)
	_ = try(3) // third failure: 4s (2–4s)
	clk.add(1999 * time.Millisecond)
	_ = try(3)
	ts.set(issue)
	clk.add(2001 * time.Millisecond)
	if err := try(4); err != nil {
		t.Fatalf("after the backoff: %v", err)
	}
	// A success resets the backoff: a later failure waits from MinBackoff.
	clk.add(299 * time.Second)
	ts.set(fail(http.StatusServiceUnavailable, ""))
	_ = try(5)
	clk.add(time.Second)
	_ = try(6)
}

// TestFailedRenewalKeepsTheToken: while renewal fails, the current token
// is served until it is within ten seconds of expiry.
func TestFailedRenewalKeepsTheToken(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	ts.set(issue)
	clk := newClock()
	src := ccSource(t, ts, clk.opts())
	first, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	ts.set(fail(http.StatusServiceUnavailable, ""))
	clk.add(250 * time.Second) // in the renewal window
	if tok, err := src.Token(); err != nil || tok != first || ts.requests.Load() != 2 {
		t.Fatalf("failed renewal: %v, same token %v, %d requests", err, tok == first, ts.requests.Load())
	}
	clk.add(41 * time.Second) // 9 s left: too close to expiry to hand out
	if tok, err := src.Token(); err == nil {
		t.Fatalf("token with 9 s left handed out: %v", tok)
	}
}

func TestBadResponses(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, body, want string }{
		{name: "not JSON", body: `<html>`, want: "not JSON"},
		{name: "no token", body: `{"token_type":"Bearer","expires_in":300}`, want: "no access_token"},
		{name: "not bearer", body: `{"access_token":"x","token_type":"DPoP","expires_in":300}`, want: "not Bearer"},
		{name: "no expiry", body: `{"access_token":"x","token_type":"Bearer"}`, want: "expires_in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.set(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, tc.body) })
			_, err := ccSource(t, ts, Options{}).Token()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"": 0, "7": 7 * time.Second, " 7 ": 7 * time.Second, "-3": 0, "soon": 0, "99999": maxRetryAfter,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := NewClientCredentials(ctx, ClientCredentials{TokenURL: "/relative", Scopes: []string{"a b"}}); err == nil ||
		!strings.Contains(err.Error(), "TokenURL") || !strings.Contains(err.Error(), "ClientID") || !strings.Contains(err.Error(), "scope") {
		t.Fatalf("got %v", err)
	}
	if _, err := NewAPIKey(ctx, APIKey{TokenURL: "https://x/t"}); err == nil || !strings.Contains(err.Error(), "Key") {
		t.Fatalf("got %v", err)
	}
}
