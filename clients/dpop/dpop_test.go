package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const tokenURL = "https://auth.example.com/oauth2/token"

var clock = time.Unix(1_800_000_000, 0)

func now() time.Time { return clock }

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rawProof signs any header and payload, as an attacker could.
func rawProof(t *testing.T, key crypto.Signer, alg jose.SignatureAlgorithm, header map[jose.HeaderKey]any, embed bool, payload map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: embed, ExtraHeaders: header}
	var k any = key
	if alg == jose.HS256 {
		k = []byte("0123456789abcdef0123456789abcdef")
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(payload)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func goodPayload() map[string]any {
	return map[string]any{"jti": "j-" + time.Now().String(), "htm": "POST", "htu": tokenURL, "iat": clock.Unix()}
}

func TestProofRoundTrip(t *testing.T) {
	for name, key := range map[string]crypto.Signer{
		"Ed25519": newKey(t),
		"P-256":   must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
	} {
		t.Run(name, func(t *testing.T) {
			p, err := NewProver(key, now)
			if err != nil {
				t.Fatal(err)
			}
			c := NewChecker(CheckerOptions{Now: now})
			proof, err := p.Proof("POST", tokenURL+"?x=1#f", "", "")
			if err != nil {
				t.Fatal(err)
			}
			jkt, err := c.Check(proof, Request{Method: "POST", URL: "HTTPS://Auth.Example.com:443/oauth2/token"})
			if err != nil {
				t.Fatal(err)
			}
			if jkt != p.Thumbprint() || jkt == "" {
				t.Fatalf("jkt %q, prover's %q", jkt, p.Thumbprint())
			}
			if _, err := c.Check(proof, Request{Method: "POST", URL: tokenURL}); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("replayed proof: %v", err)
			}
			// At a resource server: bound to the token by ath.
			proof, _ = p.Proof("GET", "https://api.example.com/todos", "the-token", "")
			if _, err := c.Check(proof, Request{Method: "GET", URL: "https://api.example.com/todos", AccessToken: "the-token"}); err != nil {
				t.Fatal(err)
			}
			proof, _ = p.Proof("GET", "https://api.example.com/todos", "the-token", "")
			if _, err := c.Check(proof, Request{Method: "GET", URL: "https://api.example.com/todos", AccessToken: "another"}); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("proof for another token: %v", err)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRFC7638Thumbprint: the RFC 8037 §A.3 example key's thumbprint.
func TestRFC7638Thumbprint(t *testing.T) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`)); err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(k.Key)
	if err != nil {
		t.Fatal(err)
	}
	if want := "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("thumbprint %s, RFC 8037 says %s", got, want)
	}
}

func TestCheckRefuses(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	dpopTyp := map[jose.HeaderKey]any{jose.HeaderType: "dpop+jwt"}
	with := func(k string, v any) map[string]any {
		p := goodPayload()
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	// A proof signed by other but carrying key's public jwk.
	swapped := func() string {
		good := rawProof(t, key, jose.EdDSA, dpopTyp, true, goodPayload())
		bad := rawProof(t, other, jose.EdDSA, dpopTyp, true, goodPayload())
		g, b := strings.Split(good, "."), strings.Split(bad, ".")
		return g[0] + "." + b[1] + "." + b[2]
	}
	privateJWK := func() string {
		jwk := jose.JSONWebKey{Key: key, Algorithm: "EdDSA"} // private
		h := map[jose.HeaderKey]any{jose.HeaderType: "dpop+jwt", "jwk": jwk}
		return rawProof(t, key, jose.EdDSA, h, false, goodPayload())
	}
	for name, proof := range map[string]string{
		"wrong htm":       rawProof(t, key, jose.EdDSA, dpopTyp, true, with("htm", "GET")),
		"wrong htu":       rawProof(t, key, jose.EdDSA, dpopTyp, true, with("htu", "https://evil.example/oauth2/token")),
		"stale iat":       rawProof(t, key, jose.EdDSA, dpopTyp, true, with("iat", clock.Add(-2*time.Minute).Unix())),
		"future iat":      rawProof(t, key, jose.EdDSA, dpopTyp, true, with("iat", clock.Add(2*time.Minute).Unix())),
		"no iat":          rawProof(t, key, jose.EdDSA, dpopTyp, true, with("iat", nil)),
		"no jti":          rawProof(t, key, jose.EdDSA, dpopTyp, true, with("jti", nil)),
		"no typ":          rawProof(t, key, jose.EdDSA, nil, true, goodPayload()),
		"wrong typ":       rawProof(t, key, jose.EdDSA, map[jose.HeaderKey]any{jose.HeaderType: "JWT"}, true, goodPayload()),
		"no jwk":          rawProof(t, key, jose.EdDSA, dpopTyp, false, goodPayload()),
		"HMAC":            rawProof(t, key, jose.HS256, dpopTyp, false, goodPayload()),
		"private jwk":     privateJWK(),
		"another's sig":   swapped(),
		"alg none":        "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ." + b64([]byte(`{"jti":"x","htm":"POST"}`)) + ".",
		"garbage":         "not a proof",
		"huge":            strings.Repeat("a", 5000),
		"claims not JSON": rawProofBytes(t, key, []byte("[1,2]")),
	} {
		t.Run(name, func(t *testing.T) {
			c := NewChecker(CheckerOptions{Now: now})
			if _, err := c.Check(proof, Request{Method: "POST", URL: tokenURL}); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("Check = %v, want ErrInvalidProof", err)
			}
		})
	}
	t.Run("missing ath", func(t *testing.T) {
		c := NewChecker(CheckerOptions{Now: now})
		proof := rawProof(t, key, jose.EdDSA, dpopTyp, true, goodPayload())
		if _, err := c.Check(proof, Request{Method: "POST", URL: tokenURL, AccessToken: "tok"}); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("Check = %v", err)
		}
	})
	t.Run("nonce", func(t *testing.T) {
		c := NewChecker(CheckerOptions{Now: now})
		proof := rawProof(t, key, jose.EdDSA, dpopTyp, true, goodPayload())
		n1 := func(n string) bool { return n == "n1" }
		if _, err := c.Check(proof, Request{Method: "POST", URL: tokenURL, Nonce: n1}); !errors.Is(err, ErrUseNonce) {
			t.Fatalf("Check without the nonce = %v, want ErrUseNonce", err)
		}
		proof = rawProof(t, key, jose.EdDSA, dpopTyp, true, with("nonce", "n1"))
		if _, err := c.Check(proof, Request{Method: "POST", URL: tokenURL, Nonce: n1}); err != nil {
			t.Fatalf("Check with the nonce = %v", err)
		}
	})
}

func rawProofBytes(t *testing.T, key crypto.Signer, payload []byte) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func TestMemoryReplayBounded(t *testing.T) {
	m := NewMemoryReplay(100)
	until := time.Now().Add(time.Hour)
	for i := range 1000 {
		if m.Seen(string(rune(i+1000)), until) {
			t.Fatalf("entry %d seen before it was recorded", i)
		}
	}
	if len(m.m) > 100 {
		t.Fatalf("%d entries, max 100", len(m.m))
	}
	if !m.Seen(string(rune(1999)), until) {
		t.Fatal("the newest entry was forgotten")
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://A.example.com:443/p?q#f": "https://a.example.com/p",
		"http://a.example:80":             "http://a.example/",
		"http://127.0.0.1:8080/oauth2/x":  "http://127.0.0.1:8080/oauth2/x",
		"https://[::1]:8443/t":            "https://[::1]:8443/t",
	} {
		if got, err := NormalizeURL(in); err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeURL("/relative"); err == nil {
		t.Error("relative URL: no error")
	}
}

func BenchmarkCheck(b *testing.B) {
	p, err := NewProver(newKey(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i], _ = p.Proof("GET", "https://api.example.com/todos", "tok", "")
	}
	c := NewChecker(CheckerOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := c.Check(proofs[i], Request{Method: "GET", URL: "https://api.example.com/todos", AccessToken: "tok"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify is the floor a proof check stands on: one plain
// signature verification.
func BenchmarkEd25519Verify(b *testing.B) {
	k := newKey(b)
	msg := []byte("a proof's signing input, about as long as one: header.payload")
	sig := ed25519.Sign(k, msg)
	pub := k.Public().(ed25519.PublicKey)
	b.ReportAllocs()
	for range b.N {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("no")
		}
	}
}
