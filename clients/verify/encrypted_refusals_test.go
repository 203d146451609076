package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestEncryptedRefusals: every way a nested token must be refused, at the
// JWE layer and in the inner token, and never with key material in an
// error or the log.
func TestEncryptedRefusals(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	f.addKey(t, "rogue", false)
	f.entries = append(f.entries, revocation{Seq: 1, Kind: "token", JTI: "revoked-jti", RevokedAt: time.Now().Unix(), ExpiresAt: time.Now().Add(time.Hour).Unix()})
	logs := &syncBuffer{}
	o := f.options()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v := mustOpen(t, o)
	e1, r1, o1 := f.encKey("e1"), f.encKey("r1"), f.encKey("o1")

	claims := func(edit func(c map[string]any)) map[string]any {
		c := privateClaims(f.claims(time.Now()))
		if edit != nil {
			edit(c)
		}
		return c
	}
	inner := func() string { return f.token(t, "k1", claims(nil), nil) }
	to := func(alg jose.KeyAlgorithm, key any, kid string) jose.Recipient {
		return jose.Recipient{Algorithm: alg, Key: key, KeyID: kid}
	}
	valid := func(edit func(*jose.EncrypterOptions)) string {
		return encryptJWS(t, inner(), to(e1.alg, e1.pub, "e1"), jose.A256GCM, edit)
	}
	// part changes the i-th part of a valid token.
	part := func(i int, change func(string) string) func() string {
		return func() string {
			p := strings.Split(valid(nil), ".")
			p[i] = change(p[i])
			return strings.Join(p, ".")
		}
	}
	flipFirst := func(s string) string { return string("AB"[boolInt(s[0] == 'A')]) + s[1:] }
	withHeader := func(h map[string]any) func(string) string { return func(string) string { return encode(t, h) } }
	cases := []struct {
		name string
		tok  func() string
		want error
	}{
		{"tampered encrypted key", part(1, flipFirst), ErrUndecryptable},
		{"tampered iv", part(2, flipFirst), ErrUndecryptable},
		{"tampered ciphertext", part(3, flipFirst), ErrUndecryptable},
		{"tampered tag", part(4, flipFirst), ErrUndecryptable},
		{"header member added (AAD)", part(0, withHeader(map[string]any{"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "cty": "JWT", "kid": "e1", "x": 1})), ErrUndecryptable},
		{"alg none", part(0, withHeader(map[string]any{"alg": "none", "enc": "A256GCM", "cty": "JWT", "kid": "e1"})), ErrUndecryptable},
		{"alg dir", func() string { return encryptJWS(t, inner(), to(jose.DIRECT, randomKey(t), "e1"), jose.A256GCM, nil) }, ErrUndecryptable},
		{"alg A256KW", func() string { return encryptJWS(t, inner(), to(jose.A256KW, randomKey(t), "e1"), jose.A256GCM, nil) }, ErrUndecryptable},
		{"enc A128GCM", func() string { return encryptJWS(t, inner(), to(e1.alg, e1.pub, "e1"), jose.A128GCM, nil) }, ErrUndecryptable},
		{"zip", func() string { return valid(func(o *jose.EncrypterOptions) { o.Compression = jose.DEFLATE }) }, ErrUndecryptable},
		{"no cty", func() string {
			return valid(func(o *jose.EncrypterOptions) { delete(o.ExtraHeaders, jose.HeaderContentType) })
		}, ErrUndecryptable},
		{"crit", func() string {
			return valid(func(o *jose.EncrypterOptions) { o.WithHeader("crit", []string{"x"}).WithHeader("x", 1) })
		}, ErrUndecryptable},
		{"no kid", func() string { return encryptJWS(t, inner(), to(e1.alg, e1.pub, ""), jose.A256GCM, nil) }, ErrUndecryptable},
		{"RSA-OAEP-256 under the ECDH key's kid", func() string { return encryptJWS(t, inner(), to(r1.alg, r1.pub, "e1"), jose.A256GCM, nil) }, ErrUndecryptable},
		{"another audience's key", func() string { return f.nested(t, "k1", claims(nil), "o1", nil) }, ErrUndecryptable},
		{"another audience's key under our kid", func() string { return encryptJWS(t, inner(), to(o1.alg, o1.pub, "e1"), jose.A256GCM, nil) }, ErrUndecryptable},
		{"not base64url", part(2, func(string) string { return "a+b" }), ErrMalformed},
		{"non-canonical base64url", part(4, func(s string) string {
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			last := strings.IndexByte(alphabet, s[len(s)-1])
			return s[:len(s)-1] + string(alphabet[last^1]) // a padding bit set
		}), ErrMalformed},
		{"inner signed by another key under k1's kid", func() string {
			return encryptJWS(t, f.token(t, "rogue", claims(nil), func(o *jose.SignerOptions) { o.WithHeader("kid", "k1") }), to(e1.alg, e1.pub, "e1"), jose.A256GCM, nil)
		}, ErrSignature},
		{"inner signed by an unpublished key", func() string { return f.nested(t, "rogue", claims(nil), "e1", nil) }, ErrUnknownKey},
		{"inner not a JWS", func() string { return encryptJWS(t, "hello", to(e1.alg, e1.pub, "e1"), jose.A256GCM, nil) }, ErrMalformed},
		{"inner encrypted again", func() string { return encryptJWS(t, valid(nil), to(e1.alg, e1.pub, "e1"), jose.A256GCM, nil) }, ErrMalformed},
		{"inner typ JWT", func() string {
			return encryptJWS(t, f.token(t, "k1", claims(nil), func(o *jose.SignerOptions) { o.WithType("JWT") }), to(e1.alg, e1.pub, "e1"), jose.A256GCM, nil)
		}, ErrType},
		{"inner for another audience", func() string {
			return f.nested(t, "k1", claims(func(c map[string]any) { c["aud"] = "https://other.example" }), "e1", nil)
		}, ErrAudience},
		{"inner of another issuer", func() string {
			return f.nested(t, "k1", claims(func(c map[string]any) { c["iss"] = "https://evil.example" }), "e1", nil)
		}, ErrIssuer},
		{"inner expired", func() string {
			return f.nested(t, "k1", claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "e1", nil)
		}, ErrExpired},
		{"inner revoked", func() string {
			return f.nested(t, "k1", claims(func(c map[string]any) { c["jti"] = "revoked-jti" }), "e1", nil)
		}, ErrRevoked},
	}
	var mu sync.Mutex
	var errs []string
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, err := v.Verify(context.Background(), tc.tok())
				wantErr(t, err, tc.want)
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
			})
		}
	})
	secrets := append(privateParts(t, e1.priv), privateParts(t, r1.priv)...)
	secrets = append(secrets, "secret")
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) || strings.Contains(strings.Join(errs, "\n"), s) {
			t.Fatalf("key material or the client secret in an error or the log")
		}
	}
	if !strings.Contains(logs.String(), "access token refused") {
		t.Fatal("the refusals were not logged: the check above saw nothing")
	}
}

// privateParts returns the base64url private members (d, p, q, ...) of
// key's JWK.
func privateParts(t *testing.T, key any) []string {
	t.Helper()
	b, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if m[name] != "" {
			out = append(out, m[name])
		}
	}
	if len(out) == 0 {
		t.Fatal("no private member in the JWK")
	}
	return out
}

func randomKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
