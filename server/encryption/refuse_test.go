package encryption

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/store"
)

// refuseFixture holds a ring with two ECDH-ES audiences and an RSA one,
// and their public keys as an attacker who fetched them would have them.
type refuseFixture struct {
	r                *Ring
	kidA, kidB, kidR string
	pubA, pubB, pubR any
	jws              string
}

func newRefuseFixture(t *testing.T) *refuseFixture {
	t.Helper()
	r, _, _ := ringWith(t, store.KeyECDHES, store.KeyRSAOAEP256)
	if err := r.CreateAudience(context.Background(), &store.Audience{Name: "api-b", Encrypted: true}); err != nil {
		t.Fatal(err)
	}
	f := &refuseFixture{r: r, jws: signedToken(t, store.KeyECDHES)}
	for aud, dst := range map[string]struct {
		kid *string
		pub *any
	}{store.KeyECDHES: {&f.kidA, &f.pubA}, "api-b": {&f.kidB, &f.pubB}, store.KeyRSAOAEP256: {&f.kidR, &f.pubR}} {
		keys := jwks(t, r.DecryptionJWKS([]string{aud})).Keys
		if len(keys) != 1 {
			t.Fatalf("%s has %d keys", aud, len(keys))
		}
		*dst.kid, *dst.pub = keys[0].KeyID, keys[0].Public().Key
	}
	return f
}

// jwe encrypts payload with go-jose as an attacker or a buggy issuer would.
func jwe(t *testing.T, alg jose.KeyAlgorithm, enc jose.ContentEncryption, key any, kid string, opts *jose.EncrypterOptions, payload string) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: key, KeyID: kid}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jwtCty() *jose.EncrypterOptions { return (&jose.EncrypterOptions{}).WithContentType("JWT") }

func randomKey(n int) []byte {
	k := make([]byte, n)
	_, _ = rand.Read(k)
	return k
}

// handMade assembles a compact JWE from a header and random other parts.
func handMade(header string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return strings.Join([]string{b64([]byte(header)), b64(randomKey(40)), b64(randomKey(12)), b64(randomKey(64)), b64(randomKey(16))}, ".")
}

func TestDecryptRefuses(t *testing.T) {
	t.Parallel()
	f := newRefuseFixture(t)
	good := func(opts *jose.EncrypterOptions) string {
		return jwe(t, jose.ECDH_ES_A256KW, jose.A256GCM, f.pubA, f.kidA, opts, f.jws)
	}
	withHeader := func(k jose.HeaderKey, v any) *jose.EncrypterOptions { return jwtCty().WithHeader(k, v) }
	// why is part of the error message: it shows each token is refused
	// at the check meant for it, not by accident earlier.
	cases := []struct{ name, why, tok string }{
		{"alg dir", "alg is not", jwe(t, jose.DIRECT, jose.A256GCM, randomKey(32), f.kidA, jwtCty(), f.jws)},
		{"alg A256KW", "alg is not", jwe(t, jose.A256KW, jose.A256GCM, randomKey(32), f.kidA, jwtCty(), f.jws)},
		{"alg ECDH-ES without key wrap", "alg is not", jwe(t, jose.ECDH_ES, jose.A256GCM, f.pubA, f.kidA, jwtCty(), f.jws)},
		{"alg RSA-OAEP (SHA-1)", "alg is not", jwe(t, jose.RSA_OAEP, jose.A256GCM, f.pubR, f.kidR, jwtCty(), f.jws)},
		{"alg RSA1_5", "alg is not", jwe(t, jose.RSA1_5, jose.A256GCM, f.pubR, f.kidR, jwtCty(), f.jws)},
		{"alg none", "alg is not", handMade(`{"alg":"none","enc":"A256GCM","cty":"JWT","kid":"` + f.kidA + `"}`)},
		{"enc A128GCM", "enc is not", jwe(t, jose.ECDH_ES_A256KW, jose.A128GCM, f.pubA, f.kidA, jwtCty(), f.jws)},
		{"enc A256CBC-HS512", "enc is not", jwe(t, jose.ECDH_ES_A256KW, jose.A256CBC_HS512, f.pubA, f.kidA, jwtCty(), f.jws)},
		{"zip DEFLATE", "parameter", good(&jose.EncrypterOptions{Compression: jose.DEFLATE, ExtraHeaders: jwtCty().ExtraHeaders})},
		{"missing cty", "lacks a string cty", good(nil)},
		{"cty JSON", "cty is not", good((&jose.EncrypterOptions{}).WithContentType("JSON"))},
		{"crit header", "parameter", good(withHeader("crit", []string{"exp"}).WithHeader("exp", 1))},
		{"jku header", "parameter", good(withHeader("jku", "https://evil.example/jwks"))},
		{"typ header", "parameter", good(withHeader("typ", "JWT"))},
		{"unknown kid", "unknown or expired kid", jwe(t, jose.ECDH_ES_A256KW, jose.A256GCM, f.pubA, "made-up", jwtCty(), f.jws)},
		{"missing kid", "lacks a string kid", jwe(t, jose.ECDH_ES_A256KW, jose.A256GCM, f.pubA, "", jwtCty(), f.jws)},
		{"kid of another audience", "decryption failed", jwe(t, jose.ECDH_ES_A256KW, jose.A256GCM, f.pubA, f.kidB, jwtCty(), f.jws)},
		{"ECDH alg with an RSA key's kid", "alg does not fit", jwe(t, jose.ECDH_ES_A256KW, jose.A256GCM, f.pubA, f.kidR, jwtCty(), f.jws)},
		{"RSA alg with an EC key's kid", "alg does not fit", jwe(t, jose.RSA_OAEP_256, jose.A256GCM, f.pubR, f.kidA, jwtCty(), f.jws)},
		{"payload not a JWS", "payload is not", jwe(t, jose.ECDH_ES_A256KW, jose.A256GCM, f.pubA, f.kidA, jwtCty(), `{"sub":"x"}`)},
		{"a JWS", "five parts", f.jws},
		{"four parts", "five parts", "a.b.c.d"},
		{"six parts", "five parts", good(jwtCty()) + ".x"},
		{"JSON serialization", "five parts", `{"protected":"e30","ciphertext":"","iv":"","tag":""}`},
		{"empty", "five parts", ""},
		{"too long", "longer than", good(jwtCty()) + strings.Repeat("A", MaxLen)},
		{"header not base64url", "not base64url", "%%%" + good(jwtCty())},
		{"header not an object", "not a JSON object", handMade(`["alg"]`)},
		{"kid not a string", "lacks a string kid", handMade(`{"alg":"ECDH-ES+A256KW","enc":"A256GCM","cty":"JWT","kid":7}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertUndecryptable(t, f.r, tc.tok, tc.why)
		})
	}
}

func assertUndecryptable(t *testing.T, r *Ring, tok, why string) {
	t.Helper()
	jws, aud, err := r.Decrypt(context.Background(), tok)
	if !errors.Is(err, ErrUndecryptable) || !strings.Contains(err.Error(), why) {
		t.Fatalf("Decrypt error = %v, want ErrUndecryptable: …%s…", err, why)
	}
	if jws != "" || aud != "" {
		t.Fatal("Decrypt returned a payload with its error")
	}
}

// TestDecryptRefusesTampering flips one byte in each of the five parts
// of a genuine token (RFC 7516 §5.2: the header is additional data and
// the tag authenticates all of it).
func TestDecryptRefusesTampering(t *testing.T) {
	t.Parallel()
	f := newRefuseFixture(t)
	for _, alg := range []string{store.KeyECDHES, store.KeyRSAOAEP256} {
		tok, err := f.r.Encrypt(alg, f.jws)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.r.Decrypt(context.Background(), tok); err != nil {
			t.Fatalf("the untampered %s token does not decrypt: %v", alg, err)
		}
		t.Run(alg+"/header re-encoded", func(t *testing.T) {
			t.Parallel()
			// Same parameters, other bytes: only the tag can tell.
			parts := strings.Split(tok, ".")
			raw, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil {
				t.Fatal(err)
			}
			parts[0] = base64.RawURLEncoding.EncodeToString(append([]byte("{ "), raw[1:]...))
			assertUndecryptable(t, f.r, strings.Join(parts, "."), "decryption failed")
		})
		for i, name := range []string{"header", "encrypted key", "iv", "ciphertext", "tag"} {
			t.Run(alg+"/"+name, func(t *testing.T) {
				t.Parallel()
				assertUndecryptable(t, f.r, flipPart(t, tok, i), "")
			})
		}
	}
}

// flipPart flips one bit in a middle byte of part i of a compact JWE and
// re-encodes it.
func flipPart(t *testing.T, tok string, i int) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil || len(b) == 0 {
		t.Fatalf("part %d: %v", i, err)
	}
	b[len(b)/2] ^= 0x01
	parts[i] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}
