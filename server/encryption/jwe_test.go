package encryption

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/store"
)

func TestEncryptDecryptRoundTrip(t *testing.T) {
	t.Parallel()
	r, _, _ := ringWith(t, store.KeyECDHES, store.KeyRSAOAEP256)
	for _, alg := range []string{store.KeyECDHES, store.KeyRSAOAEP256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			jws := signedToken(t, alg)
			tok, err := r.Encrypt(alg, jws)
			if err != nil {
				t.Fatal(err)
			}
			if !IsJWE(tok) || IsJWE(jws) {
				t.Fatalf("IsJWE(token) = %v, IsJWE(jws) = %v", IsJWE(tok), IsJWE(jws))
			}
			payload := strings.Split(jws, ".")[1]
			if strings.Contains(tok, payload) || strings.Contains(tok, "tgc_") {
				t.Fatal("the token holder can read the claims")
			}
			hdr := protectedHeader(t, tok)
			want := map[string]any{"alg": alg, "enc": "A256GCM", "cty": "JWT", "kid": currentKID(t, r, alg)}
			for k, v := range want {
				if hdr[k] != v {
					t.Errorf("header %s = %v, want %v", k, hdr[k], v)
				}
			}
			if _, ok := hdr["zip"]; ok {
				t.Error("header has zip")
			}
			if _, ok := hdr["epk"]; ok != (alg == store.KeyECDHES) {
				t.Errorf("epk present = %v for %s", ok, alg)
			}
			got, aud, err := r.Decrypt(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if got != jws || aud != alg {
				t.Fatalf("Decrypt = (%d bytes, %q), want the JWS and %q", len(got), aud, alg)
			}
		})
	}
}

func protectedHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestIndependentDecrypt proves the wire format: go-jose alone, given only
// the key set an API fetches, decrypts what Encrypt makes.
func TestIndependentDecrypt(t *testing.T) {
	t.Parallel()
	r, _, _ := ringWith(t, store.KeyECDHES, store.KeyRSAOAEP256)
	for _, alg := range []string{store.KeyECDHES, store.KeyRSAOAEP256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			jws := signedToken(t, alg)
			tok, err := r.Encrypt(alg, jws)
			if err != nil {
				t.Fatal(err)
			}
			set := jwks(t, r.DecryptionJWKS([]string{alg}))
			obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.A256GCM})
			if err != nil {
				t.Fatal(err)
			}
			keys := set.Key(obj.Header.KeyID)
			if len(keys) != 1 || keys[0].Algorithm != alg || keys[0].Use != "enc" {
				t.Fatalf("key set has %d keys for the token's kid, want one %s enc key", len(keys), alg)
			}
			pt, err := obj.Decrypt(keys[0])
			if err != nil {
				t.Fatal(err)
			}
			if string(pt) != jws {
				t.Fatal("go-jose decrypts to something else than the JWS")
			}
			if obj.Header.ExtraHeaders["cty"] != "JWT" {
				t.Fatalf("cty = %v", obj.Header.ExtraHeaders["cty"])
			}
		})
	}
}

func TestEncryptRefusesPlainAudiences(t *testing.T) {
	t.Parallel()
	r, _, _ := ringWith(t, store.KeyECDHES)
	if err := r.CreateAudience(context.Background(), &store.Audience{Name: "plain"}); err != nil {
		t.Fatal(err)
	}
	for _, aud := range []string{"plain", "unknown"} {
		if r.Encrypted(aud) {
			t.Errorf("Encrypted(%q) = true", aud)
		}
		if _, err := r.Encrypt(aud, signedToken(t, aud)); !errors.Is(err, ErrNotEncrypted) {
			t.Errorf("Encrypt(%q) error = %v, want ErrNotEncrypted", aud, err)
		}
	}
	if !r.Encrypted(store.KeyECDHES) {
		t.Error("the encrypted audience is not Encrypted")
	}
}

func TestEncryptRefusesOversizedTokens(t *testing.T) {
	t.Parallel()
	r, _, _ := ringWith(t, store.KeyECDHES)
	big := "e30." + strings.Repeat("A", MaxLen) + ".c2ln"
	if _, err := r.Encrypt(store.KeyECDHES, big); err == nil {
		t.Fatal("Encrypt made a token longer than MaxLen")
	}
}

func TestIsJWE(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tok  string
		want bool
	}{
		{"a.b.c.d.e", true},
		{"....", true},
		{"a.b.c", false},
		{"a.b.c.d", false},
		{"a.b.c.d.e.f", false},
		{"", false},
	} {
		if got := IsJWE(tc.tok); got != tc.want {
			t.Errorf("IsJWE(%q) = %v, want %v", tc.tok, got, tc.want)
		}
	}
}
