package tokensource

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionEndpoint is a token endpoint that records each request's
// client assertion and answers a token that lives one second.
type assertionEndpoint struct {
	*httptest.Server
	mu    sync.Mutex
	forms []map[string]string
}

func newAssertionEndpoint(t *testing.T) *assertionEndpoint {
	a := &assertionEndpoint{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		a.mu.Lock()
		a.forms = append(a.forms, map[string]string{
			"client_id": r.PostForm.Get("client_id"), "client_assertion_type": r.PostForm.Get("client_assertion_type"),
			"client_assertion": r.PostForm.Get("client_assertion"), "auth": r.Header.Get("Authorization"),
		})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 1})
	}))
	t.Cleanup(a.Close)
	return a
}

// TestPrivateKeyJWTRenewals: every renewal sends a new assertion, signed
// by the key with the algorithm its type calls for, with iss = sub = the
// client, aud the token URL, a new jti and a short exp; no secret and no
// Authorization header.
func TestPrivateKeyJWTRenewals(t *testing.T) {
	t.Parallel()
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, key := range map[string]crypto.Signer{"ES384": ec, "EdDSA": ed, "RS256": rs} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ep := newAssertionEndpoint(t)
			clk := newClock()
			der, _ := x509.MarshalPKCS8PrivateKey(key)
			signer, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			if err != nil {
				t.Fatal(err)
			}
			src, err := NewPrivateKeyJWT(context.Background(), PrivateKeyJWT{
				TokenURL: ep.URL + "/oauth2/token", ClientID: "tgc_x", Key: signer, KeyID: "k",
				Options: Options{Now: clk.now},
			})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := src.Token(); err != nil {
					t.Fatal(err)
				}
				clk.add(2 * time.Second)
			}
			if len(ep.forms) != 2 {
				t.Fatalf("%d requests, want 2 (one per renewal)", len(ep.forms))
			}
			var jtis []string
			for _, f := range ep.forms {
				if f["client_assertion_type"] != ClientAssertionType || f["auth"] != "" {
					t.Errorf("request %v", f)
				}
				tok, err := jwt.ParseSigned(f["client_assertion"], []jose.SignatureAlgorithm{jose.SignatureAlgorithm(name)})
				if err != nil {
					t.Fatalf("assertion: %v", err)
				}
				var c jwt.Claims
				if err := tok.Claims(signer.Public(), &c); err != nil {
					t.Fatalf("signature: %v", err)
				}
				if c.Issuer != "tgc_x" || c.Subject != "tgc_x" || !c.Audience.Contains(ep.URL+"/oauth2/token") || c.ID == "" || tok.Headers[0].KeyID != "k" ||
					c.Expiry.Time().Sub(c.IssuedAt.Time()) != 2*time.Minute {
					t.Errorf("claims %+v, kid %q", c, tok.Headers[0].KeyID)
				}
				jtis = append(jtis, c.ID)
			}
			if jtis[0] == jtis[1] {
				t.Error("both assertions have the same jti")
			}
		})
	}
}

// TestFederatedRereadsFile: the token file is read at every renewal, as
// kubelet rotates it in place.
func TestFederatedRereadsFile(t *testing.T) {
	t.Parallel()
	ep := newAssertionEndpoint(t)
	clk := newClock()
	file := filepath.Join(t.TempDir(), "token")
	src, err := NewFederated(context.Background(), Federated{TokenURL: ep.URL, ClientID: "tgc_pod", TokenFile: file, Options: Options{Now: clk.now}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(); err == nil {
		t.Fatal("no token file, and no error")
	}
	for _, content := range []string{"first.token.value\n", "second.token.value"} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		clk.add(2 * time.Minute) // past the backoff and the token's life
		if _, err := src.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if len(ep.forms) != 2 || ep.forms[0]["client_assertion"] != "first.token.value" || ep.forms[1]["client_assertion"] != "second.token.value" || ep.forms[1]["client_id"] != "tgc_pod" {
		t.Fatalf("requests %v", ep.forms)
	}
}

func TestPrivateKeyJWTRefusesWeakKeys(t *testing.T) {
	t.Parallel()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	for name, k := range map[string]*PrivateKeyJWT{
		"small RSA": {Key: small}, "P-224": {Key: p224}, "no key": {},
	} {
		k.TokenURL, k.ClientID = "https://a/t", "c"
		if _, err := NewPrivateKeyJWT(context.Background(), *k); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("a public key parsed as private")
	}
}
