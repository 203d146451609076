package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/clients/internal/clientassert"
)

// TestIntrospectPassesEncryptedTokens: in Introspect mode a nested token
// goes to the issuer as it is (Tollgate decrypts it), the answer is
// cached, no decryption key is fetched, and a JWE header Tollgate never
// writes is refused without a call.
func TestIntrospectPassesEncryptedTokens(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	o := f.options()
	o.Mode = Introspect
	v := mustOpen(t, o)
	ctx := context.Background()
	tok := f.nested(t, "k1", f.claims(time.Now()), "e1", nil)
	for range 2 {
		p, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Encrypted || p.Subject != "tgc_app" {
			t.Fatalf("principal %+v", p)
		}
	}
	f.mu.Lock()
	got := append([]string(nil), f.introspected...)
	f.mu.Unlock()
	if len(got) != 1 || got[0] != tok {
		t.Fatalf("introspection asked about %d tokens, the same one: %v", len(got), len(got) == 1 && got[0] == tok)
	}
	dir := encryptJWS(t, f.token(t, "k1", f.claims(time.Now()), nil), jose.Recipient{Algorithm: jose.DIRECT, Key: randomKey(t), KeyID: "e1"}, jose.A256GCM, nil)
	_, err := v.Verify(ctx, dir)
	wantErr(t, err, ErrUndecryptable)
	f.mu.Lock()
	n := f.introspections
	f.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d introspection calls, want 1", n)
	}
	if c := f.calls(); len(c) != 0 {
		t.Fatalf("%d audience-key fetches in Introspect mode", len(c))
	}
}

// TestAudienceKeysWithClientAssertion: with a ClientKey, the keys are
// asked for by POST with a private_key_jwt assertion (RFC 7523) signed
// for the issuer, and the audience in the form. (Open refuses ClientKey
// in Local mode today, because the feed is read with GET; the key fetch
// is ready for when it is not.)
func TestAudienceKeysWithClientAssertion(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	ck, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := clientassert.New(ck, "ck1", "rs")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Options{Issuer: f.srv.URL, Audience: "https://api.example", ClientID: "rs", ClientKey: ck, Mode: Introspect}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	a := &audienceKeys{url: f.srv.URL + audienceKeysPath, o: &o, life: context.Background(), assert: s}
	dk, err := a.lookup(context.Background(), "r1")
	if err != nil || dk.alg != jose.RSA_OAEP_256 {
		t.Fatalf("lookup: %v, %v", err, dk.alg)
	}
	calls := f.calls()
	if len(calls) != 1 || calls[0].method != "POST" || calls[0].audience != "https://api.example" ||
		calls[0].assertionType != clientassert.Type || calls[0].user != "" {
		t.Fatalf("requests %+v", calls)
	}
	parsed, err := jwt.ParseSigned(calls[0].assertion, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.Claims
	if err := parsed.Claims(&ck.PublicKey, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: "rs", Subject: "rs", AnyAudience: jwt.Audience{f.srv.URL}, Time: time.Now()}, 0); err != nil {
		t.Fatalf("assertion claims %+v: %v", c, err)
	}
}

// FuzzVerifyEncrypted: whatever is made of a nested token, Verify does
// not panic, and the only one it accepts is the issuer's.
func FuzzVerifyEncrypted(f *testing.F) {
	iss := newEncIssuer(f)
	valid := iss.nested(f, "k1", iss.claims(time.Now()), "e1", nil)
	v := mustOpen(f, iss.options())
	f.Add(valid)
	f.Add(iss.nested(f, "k1", iss.claims(time.Now()), "o1", nil))
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..a.b.c")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(context.Background(), tok)
		if err == nil && tok != valid {
			t.Fatalf("accepted a token the issuer did not make: %q → %+v", tok, p)
		}
	})
}

// BenchmarkVerifyEncrypted compares, on the fake issuer's tokens (EdDSA
// inner signature), a first verification of a plain token with one of a
// nested token of each key algorithm (decryption included; the cache is
// emptied before each), and a cached nested token.
func BenchmarkVerifyEncrypted(b *testing.B) {
	f := newEncIssuer(b)
	o := f.options()
	v := mustOpen(b, o)
	ctx := context.Background()
	claims := privateClaims(f.claims(time.Now()))
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	toks := []struct{ name, tok string }{
		{"plain/signature", f.token(b, "k1", claims, nil)},
		{"ECDH-ES+A256KW/signature", f.nested(b, "k1", claims, "e1", nil)},
		{"RSA-OAEP-256/signature", f.nested(b, "k1", claims, "r1", nil)},
	}
	for _, tc := range toks {
		b.Run(tc.name, func(b *testing.B) {
			b.Logf("token of %d bytes", len(tc.tok))
			b.ReportAllocs()
			for b.Loop() {
				v.cache.clear()
				if _, err := v.Verify(ctx, tc.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ECDH-ES+A256KW/cached", func(b *testing.B) {
		if _, err := v.Verify(ctx, toks[1].tok); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, toks[1].tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
