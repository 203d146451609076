package tokensource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/clients/verify"
)

// TestAPIKeyAgainstTollgate exchanges real API keys, of a client and of a
// user, with a real server, and checks the tokens with clients/verify.
func TestAPIKeyAgainstTollgate(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	app := srv.CreateClient(t, "--scopes", "reports:read reports:write")
	rs := srv.CreateClient(t, "--scopes", "tollgate:introspect")
	u := srv.CreateUser(t, "--roles", "analyst")
	ctx := context.Background()
	v, err := verify.Open(ctx, verify.Options{Issuer: srv.URL, Audience: srv.URL, ClientID: rs.ID, ClientSecret: rs.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })

	cases := []struct {
		name        string
		owner       []string
		scopes      []string
		sub, client func(k tollgatetest.APIKey) string
		roles       []string
	}{
		{name: "client's key", owner: []string{"--client", app.ID}, scopes: []string{"reports:read"},
			sub: func(tollgatetest.APIKey) string { return app.ID }, client: func(tollgatetest.APIKey) string { return app.ID }},
		{name: "user's key", owner: []string{"--user", u.Username, "--scopes", "reports:read"},
			sub:    func(tollgatetest.APIKey) string { return u.ID },
			client: func(k tollgatetest.APIKey) string { return k.ID }, roles: []string{"analyst"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := srv.CreateAPIKey(t, tc.owner...)
			src, err := NewAPIKey(ctx, APIKey{TokenURL: srv.URL + "/oauth2/token", Key: k.Key, Scopes: tc.scopes})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := src.Token()
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if p.APIKeyID != k.ID || p.Subject != tc.sub(k) || p.ClientID != tc.client(k) ||
				!slices.Equal(p.Scopes, []string{"reports:read"}) || !slices.Equal(p.Roles, tc.roles) {
				t.Fatalf("principal %+v, key %s", p, k.ID)
			}
		})
	}

	bad, err := NewAPIKey(ctx, APIKey{TokenURL: srv.URL + "/oauth2/token", Key: "tgk_not_a_real_key"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("unknown key: %v", err)
	}
}

// The tests below use a token endpoint written here that speaks the RFC
// 8693 wire format, to check the exact request and odd answers.

// TestAPIKeyExchange checks the request the Source sends, exactly, and
// the token it takes from a conforming answer.
func TestAPIKeyExchange(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	var got url.Values
	var auth string
	ts.set(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		got = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-1","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":600,"scope":"reports:read"}`)
	})
	src, err := NewAPIKey(context.Background(), APIKey{
		TokenURL: ts.URL, Key: "tgk_example_key", Scopes: []string{"reports:read"}, Audience: "https://reports.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {"tgk_example_key"},
		"subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"},
		"scope":              {"reports:read"},
		"audience":           {"https://reports.example"},
	}
	if got.Encode() != want.Encode() {
		t.Fatalf("form %s, want %s", got.Encode(), want.Encode())
	}
	if auth != "" {
		t.Fatalf("client authentication sent with an API key: %q", auth)
	}
	if tok.AccessToken != "at-1" || tok.Type() != "Bearer" || tok.ExpiresIn != 600 || tok.Extra("scope") != "reports:read" {
		t.Fatalf("token %+v", tok)
	}
}

func TestAPIKeyExchangeRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{name: "revoked key", status: 400, body: `{"error":"invalid_grant","error_description":"the API key is invalid, expired or revoked"}`,
			check: func(t *testing.T, err error) {
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription == "" {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "audience refused", status: 400, body: `{"error":"invalid_target"}`,
			check: func(t *testing.T, err error) {
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_target" {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "not an access token", status: 200, body: `{"access_token":"x","issued_token_type":"urn:ietf:params:oauth:token-type:refresh_token","token_type":"Bearer","expires_in":60}`,
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "issued_token_type") {
					t.Fatalf("got %v", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.set(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			src, err := NewAPIKey(context.Background(), APIKey{TokenURL: ts.URL, Key: "tgk_k"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Token()
			tc.check(t, err)
		})
	}
}
