package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// rfc9068 are the claims of a Tollgate access token.
type rfc9068 struct {
	jwt.Claims
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Roles    []string `json:"roles"`
}

// verify checks tok against the server's published JWKS with go-jose, as a
// resource server would, and returns its claims.
func (e *testEnv) verify(tok string) rfc9068 {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + "/.well-known/jwks.json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		e.t.Fatalf("decoding JWKS: %v", err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
	if err != nil {
		e.t.Fatalf("parsing JWT: %v", err)
	}
	h := parsed.Headers[0]
	if h.ExtraHeaders["typ"] != "at+jwt" {
		e.t.Errorf("typ = %v, want at+jwt", h.ExtraHeaders["typ"])
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		e.t.Fatalf("kid %q: %d keys in JWKS, want 1", h.KeyID, len(keys))
	}
	var c rfc9068
	if err := parsed.Claims(keys[0].Key, &c); err != nil {
		e.t.Fatalf("signature does not verify against the JWKS: %v", err)
	}
	if err := c.Claims.ValidateWithLeeway(jwt.Expected{Issuer: e.srv.URL, Time: time.Now()}, time.Second); err != nil {
		e.t.Errorf("claims: %v", err)
	}
	return c
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			id, secret := e.newClient("--name", "billing", "--scopes", "invoices:read invoices:write", "--roles", "svc,batch", "--audience", "https://api.example")
			e.start()

			for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
				cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.srv.URL + "/oauth2/token", AuthStyle: style, Scopes: []string{"invoices:read"}}
				tok, err := cfg.Token(context.Background())
				if err != nil {
					t.Fatalf("auth style %d: %v", style, err)
				}
				if tok.RefreshToken != "" {
					t.Error("client_credentials returned a refresh token (RFC 6749 §4.4.3 forbids it)")
				}
				if tok.TokenType != "Bearer" || tok.Extra("scope") != "invoices:read" {
					t.Errorf("token_type %q scope %v", tok.TokenType, tok.Extra("scope"))
				}
				c := e.verify(tok.AccessToken)
				if c.Subject != id || c.ClientID != id || c.Scope != "invoices:read" || c.ID == "" {
					t.Errorf("claims %+v", c)
				}
				if !slices.Equal(c.Audience, jwt.Audience{"https://api.example"}) || !slices.Equal(c.Roles, []string{"svc", "batch"}) {
					t.Errorf("aud %v roles %v", c.Audience, c.Roles)
				}
				if life := c.Expiry.Time().Sub(c.IssuedAt.Time()); life != 5*time.Minute {
					t.Errorf("lifetime %s, want the 5m default", life)
				}
			}
		})
	}
}

func TestClientCredentialsDefaultsAndPerClientSettings(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, secret := e.newClient("--name", "reports", "--scopes", "a b c", "--default-scopes", "a", "--access-token-ttl", "90s")
	plainID, plainSecret := e.newClient("--name", "plain", "--scopes", "x y")
	e.start()

	r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret))
	if r.status != 200 || r.body["scope"] != "a" || r.body["expires_in"] != float64(90) {
		t.Fatalf("default scope and per-client TTL: %d %s", r.status, r.raw)
	}
	c := e.verify(r.body["access_token"].(string))
	if !slices.Equal(c.Audience, jwt.Audience{e.srv.URL}) {
		t.Errorf("aud %v, want the server default (issuer)", c.Audience)
	}
	r = e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(plainID, plainSecret))
	if r.status != 200 || r.body["scope"] != "x y" {
		t.Errorf("no default scopes set: want all allowed scopes, got %d %s", r.status, r.raw)
	}
	r = e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"a d"}}, basic(id, secret))
	if r.status != 400 || r.body["error"] != "invalid_scope" {
		t.Errorf("scope outside the allowed set: %d %s", r.status, r.raw)
	}
}

// TestTokenErrors checks RFC 6749 §5.2 to the letter: status, JSON body,
// WWW-Authenticate and no-store headers.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, secret := e.newClient("--name", "errs", "--scopes", "s")
	pwID, pwSecret := e.newClient("--name", "pw", "--grant-types", "password,refresh_token")
	e.start()
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	cc := form("grant_type", "client_credentials")
	basicHdr := basic(id, secret).Get("Authorization")
	cases := []struct {
		name        string
		method      string
		contentType string
		auth        []string
		body        string
		status      int
		code        string
		challenge   bool
	}{
		{"missing grant_type", "POST", "", []string{basicHdr}, form("scope", "s"), 400, "invalid_request", false},
		{"unknown grant_type", "POST", "", []string{basicHdr}, form("grant_type", "urn:example:magic"), 400, "unsupported_grant_type", false},
		{"repeated parameter", "POST", "", []string{basicHdr}, cc + "&scope=s&scope=s", 400, "invalid_request", false},
		{"repeated grant_type", "POST", "", []string{basicHdr}, cc + "&" + cc, 400, "invalid_request", false},
		{"JSON body", "POST", "application/json", []string{basicHdr}, `{"grant_type":"client_credentials"}`, 400, "invalid_request", false},
		{"no content type", "POST", "-", []string{basicHdr}, cc, 400, "invalid_request", false},
		{"bad form encoding", "POST", "", []string{basicHdr}, "grant_type=client_credentials&x=%zz", 400, "invalid_request", false},
		{"body over 64 KiB", "POST", "", []string{basicHdr}, cc + "&pad=" + strings.Repeat("a", 70<<10), 400, "invalid_request", false},
		{"header and body credentials", "POST", "", []string{basicHdr}, cc + "&" + form("client_id", id, "client_secret", secret), 400, "invalid_request", false},
		{"two Authorization headers", "POST", "", []string{basicHdr, basicHdr}, cc, 400, "invalid_request", false},
		{"malformed Basic", "POST", "", []string{"Basic !!!notbase64"}, cc, 401, "invalid_client", true},
		{"Basic without colon", "POST", "", []string{"Basic " + b64("nocolon")}, cc, 401, "invalid_client", true},
		{"Bearer instead of Basic", "POST", "", []string{"Bearer abc"}, cc, 401, "invalid_client", true},
		{"wrong secret, Basic", "POST", "", []string{basic(id, "tgs_wrong").Get("Authorization")}, cc, 401, "invalid_client", true},
		{"unknown client, Basic", "POST", "", []string{basic("tgc_nobody", secret).Get("Authorization")}, cc, 401, "invalid_client", true},
		{"wrong secret, form", "POST", "", nil, cc + "&" + form("client_id", id, "client_secret", "nope"), 401, "invalid_client", false},
		{"no credentials", "POST", "", nil, cc, 401, "invalid_client", false},
		{"grant not allowed for client", "POST", "", []string{basicHdr}, form("grant_type", "password", "username", "u", "password", "p"), 400, "unauthorized_client", false},
		{"client_credentials for a password client", "POST", "", []string{basic(pwID, pwSecret).Get("Authorization")}, cc, 400, "unauthorized_client", false},
		{"password grant without username", "POST", "", []string{basic(pwID, pwSecret).Get("Authorization")}, form("grant_type", "password", "password", "p"), 400, "invalid_request", false},
		{"refresh without token", "POST", "", []string{basic(pwID, pwSecret).Get("Authorization")}, form("grant_type", "refresh_token"), 400, "invalid_request", false},
		{"garbage refresh token", "POST", "", []string{basic(pwID, pwSecret).Get("Authorization")}, form("grant_type", "refresh_token", "refresh_token", "tgr_x_y"), 400, "invalid_grant", false},
		{"invalid scope characters", "POST", "", []string{basicHdr}, cc + "&scope=" + url.QueryEscape("s\"q"), 400, "invalid_scope", false},
		{"wrong method", "GET", "", []string{basicHdr}, "", 405, "invalid_request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL+"/oauth2/token", strings.NewReader(tc.body))
			switch tc.contentType {
			case "":
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			case "-":
			default:
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header["Authorization"] = tc.auth
			r := e.do(req)
			if r.status != tc.status || r.body["error"] != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if d, _ := r.body["error_description"].(string); d == "" {
				t.Error("no error_description")
			}
			if len(r.body) != 2 {
				t.Errorf("body has fields beyond error and error_description: %s", r.raw)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
				t.Errorf("Cache-Control %q Pragma %q", r.header.Get("Cache-Control"), r.header.Get("Pragma"))
			}
			if got := r.header.Get("WWW-Authenticate"); (got != "") != tc.challenge || (tc.challenge && !strings.HasPrefix(got, "Basic realm=")) {
				t.Errorf("WWW-Authenticate %q, want challenge=%v", got, tc.challenge)
			}
			if tc.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestSuccessHeaders: a token response is never cached (RFC 6749 §5.1).
func TestSuccessHeaders(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, secret := e.newClient("--name", "hdr")
	e.start()
	r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("success response headers: %v", r.header)
	}
	if _, ok := r.body["refresh_token"]; ok {
		t.Error("refresh_token in a client_credentials response")
	}
	res, _ := http.Get(e.srv.URL + "/oauth2/token")
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("GET /oauth2/token: %d", res.StatusCode)
	}
}
