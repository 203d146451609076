package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/clients/tokensource"
)

// TestDPoPNonce: with TOLLGATE_DPOP_NONCE=required a proof without the
// server's nonce (or with a made-up one) is use_dpop_nonce with a fresh
// DPoP-Nonce header (RFC 9449 §8); with it, the token is bound. Any node
// of a cluster accepts another's nonce, and tokensource follows the
// challenge on its own.
func TestDPoPNonce(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.vars["TOLLGATE_DPOP_NONCE"] = "required"
			e.start()
			id, sec := e.newClient("--name", "bound")
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			p, err := dpop.NewProver(key, nil)
			if err != nil {
				t.Fatal(err)
			}
			tokenURL := e.vars["TOLLGATE_ISSUER"] + "/oauth2/token"
			form := url.Values{"grant_type": {"client_credentials"}}
			send := func(env *testEnv, nonce string) response {
				proof, err := p.Proof(http.MethodPost, tokenURL, "", nonce)
				if err != nil {
					t.Fatal(err)
				}
				h := basic(id, sec)
				h.Set("DPoP", proof)
				return env.post("/oauth2/token", form, h)
			}
			r := send(e, "")
			nonce := r.header.Get("DPoP-Nonce")
			if r.status != http.StatusBadRequest || r.body["error"] != "use_dpop_nonce" || nonce == "" {
				t.Fatalf("no nonce: %d %v (DPoP-Nonce %q)", r.status, r.body, nonce)
			}
			if r := send(e, "bm9wZQ"); r.status != http.StatusBadRequest || r.body["error"] != "use_dpop_nonce" {
				t.Fatalf("made-up nonce: %d %v", r.status, r.body)
			}
			if r := send(e, nonce); r.status != http.StatusOK || r.body["token_type"] != "DPoP" || r.header.Get("DPoP-Nonce") == "" {
				t.Fatalf("with the nonce: %d %v", r.status, r.body)
			}
			// Another node of the same cluster (same master key) takes it.
			if b == postgresRedis {
				n2 := e.node()
				n2.start()
				if r := send(n2, nonce); r.status != http.StatusOK {
					t.Fatalf("the other node: %d %v", r.status, r.body)
				}
			}
			src, err := tokensource.NewClientCredentials(context.Background(), tokensource.ClientCredentials{
				TokenURL: tokenURL, ClientID: id, ClientSecret: sec, Options: tokensource.Options{DPoPKey: key},
			})
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := src.Token(); err != nil || tok.TokenType != "DPoP" {
				t.Fatalf("tokensource against a nonce-requiring server: %v, %v", tok, err)
			}
		})
	}
}

// TestDPoPBoundClient: a client created with --dpop-bound
// (dpop_bound_access_tokens, RFC 9449 §5.2) gets no token without a proof,
// for client_credentials and for its API keys' exchange; with one it gets
// bound tokens; `client update --dpop-bound=false` lifts the rule.
func TestDPoPBoundClient(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			id, sec := e.newClient("--name", "strict", "--dpop-bound")
			var k struct {
				APIKey string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(e.mustCLI("", "apikey", "create", "--client", id, "--name", "cron", "--json")), &k); err != nil || k.APIKey == "" {
				t.Fatalf("apikey create: %v", err)
			}
			key := k.APIKey
			_, pk, _ := ed25519.GenerateKey(rand.Reader)
			p, _ := dpop.NewProver(pk, nil)
			tokenURL := e.vars["TOLLGATE_ISSUER"] + "/oauth2/token"
			withProof := func(h http.Header) http.Header {
				proof, err := p.Proof(http.MethodPost, tokenURL, "", "")
				if err != nil {
					t.Fatal(err)
				}
				if h == nil {
					h = http.Header{}
				}
				h.Set("DPoP", proof)
				return h
			}
			cc := url.Values{"grant_type": {"client_credentials"}}
			exchange := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token": {key}, "subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"}}
			for name, r := range map[string]response{
				"client_credentials": e.post("/oauth2/token", cc, basic(id, sec)),
				"exchange":           e.post("/oauth2/token", exchange, nil),
			} {
				if r.status != http.StatusBadRequest || r.body["error"] != "invalid_dpop_proof" {
					t.Fatalf("%s without a proof: %d %v", name, r.status, r.body)
				}
			}
			for name, r := range map[string]response{
				"client_credentials": e.post("/oauth2/token", cc, withProof(basic(id, sec))),
				"exchange":           e.post("/oauth2/token", exchange, withProof(nil)),
			} {
				if r.status != http.StatusOK || r.body["token_type"] != "DPoP" {
					t.Fatalf("%s with a proof: %d %v", name, r.status, r.body)
				}
			}
			out := e.mustCLI("", "client", "show", id, "--json")
			if !strings.Contains(out, `"dpop_bound_access_tokens": true`) {
				t.Fatalf("client show: %s", out)
			}
			e.mustCLI("", "client", "update", id, "--dpop-bound=false")
			deadline := time.Now().Add(changeBound)
			for {
				r := e.post("/oauth2/token", cc, basic(id, sec))
				if r.status == http.StatusOK && r.body["token_type"] == "Bearer" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after --dpop-bound=false: %d %v", r.status, r.body)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestDPoPRefreshBound: a password login with a DPoP proof starts a
// refresh family bound to the proof's key (RFC 9449 §5): a refresh without
// a proof, or with another key's, is invalid_dpop_proof and revokes
// nothing; with the key it works and the next refresh token is bound too.
func TestDPoPRefreshBound(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			id, sec := e.newClient("--name", "app", "--grant-types", "password,refresh_token")
			e.createUser("dana", "a long passphrase", "")
			tokenURL := e.vars["TOLLGATE_ISSUER"] + "/oauth2/token"
			prover := func() *dpop.Prover {
				_, k, _ := ed25519.GenerateKey(rand.Reader)
				p, _ := dpop.NewProver(k, nil)
				return p
			}
			mine, other := prover(), prover()
			header := func(p *dpop.Prover) http.Header {
				h := basic(id, sec)
				if p != nil {
					proof, err := p.Proof(http.MethodPost, tokenURL, "", "")
					if err != nil {
						t.Fatal(err)
					}
					h.Set("DPoP", proof)
				}
				return h
			}
			login := e.post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"dana"}, "password": {"a long passphrase"}}, header(mine))
			rt, _ := login.body["refresh_token"].(string)
			if login.status != http.StatusOK || login.body["token_type"] != "DPoP" || rt == "" {
				t.Fatalf("login with a proof: %d %v", login.status, login.body)
			}
			refresh := func(p *dpop.Prover, rt string) response {
				return e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, header(p))
			}
			for name, p := range map[string]*dpop.Prover{"no proof": nil, "another key": other} {
				if r := refresh(p, rt); r.status != http.StatusBadRequest || r.body["error"] != "invalid_dpop_proof" {
					t.Fatalf("refresh with %s: %d %v", name, r.status, r.body)
				}
			}
			r := refresh(mine, rt) // still valid: the refused attempts revoked nothing
			next, _ := r.body["refresh_token"].(string)
			if r.status != http.StatusOK || r.body["token_type"] != "DPoP" || next == "" {
				t.Fatalf("refresh with the key: %d %v", r.status, r.body)
			}
			if r := refresh(nil, next); r.status != http.StatusBadRequest || r.body["error"] != "invalid_dpop_proof" {
				t.Fatalf("the next refresh token is not bound: %d %v", r.status, r.body)
			}
			if r := refresh(mine, next); r.status != http.StatusOK {
				t.Fatalf("the next refresh with the key: %d %v", r.status, r.body)
			}
		})
	}
}
