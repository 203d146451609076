package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"testing"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/clients/tokensource"
)

// TestDPoPNonce: with TOLLGATE_DPOP_NONCE=required a proof without the
// server's nonce (or with a made-up one) is use_dpop_nonce with a fresh
// DPoP-Nonce header (RFC 9449 §8); with it, the token is bound. Any node
// of a cluster accepts another's nonce, and tokensource follows the
// challenge on its own.
func TestDPoPNonce(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
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
