package encryption

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"short seal key", Options{SealKey: make([]byte, 16), Retain: time.Hour}},
		{"no retain", Options{SealKey: make([]byte, 32)}},
		{"negative pre-publish", Options{SealKey: make([]byte, 32), Retain: time.Hour, PrePublish: -time.Second}},
		{"negative skew", Options{SealKey: make([]byte, 32), Retain: time.Hour, ClockSkew: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(newMemStore(), tc.o); err == nil {
				t.Fatal("New accepted invalid options")
			}
		})
	}
}

func TestCreateAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, _ := ringWith(t)
	for _, tc := range []struct {
		name    string
		a       store.Audience
		wantErr error
		wantAlg string
		keys    int
	}{
		{"encrypted, default algorithm", store.Audience{Name: "https://api.example.com", Encrypted: true}, nil, store.KeyECDHES, 1},
		{"plain", store.Audience{Name: "plain"}, nil, store.KeyECDHES, 0},
		{"taken", store.Audience{Name: "plain"}, store.ErrConflict, "", 0},
		{"empty name", store.Audience{}, ErrInvalid, "", 0},
		{"long name", store.Audience{Name: strings.Repeat("a", maxNameLen+1)}, ErrInvalid, "", 0},
		{"unprintable name", store.Audience{Name: "api\n"}, ErrInvalid, "", 0},
		{"unknown algorithm", store.Audience{Name: "x", KeyAlgorithm: "A256KW"}, ErrInvalid, "", 0},
	} {
		err := r.CreateAudience(ctx, &tc.a)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: CreateAudience error = %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		got, err := st.GetAudience(ctx, tc.a.Name)
		if err != nil || got.KeyAlgorithm != tc.wantAlg || got.CreatedAt.IsZero() {
			t.Errorf("%s: stored %+v, %v", tc.name, got, err)
		}
		if n := len(r.Keys(tc.a.Name)); n != tc.keys {
			t.Errorf("%s: %d keys, want %d", tc.name, n, tc.keys)
		}
		if r.Encrypted(tc.a.Name) != tc.a.Encrypted {
			t.Errorf("%s: Encrypted = %v", tc.name, !tc.a.Encrypted)
		}
	}
	names := func() (out []string) {
		for _, a := range r.Audiences() {
			out = append(out, a.Name)
		}
		return out
	}()
	if want := []string{"https://api.example.com", "plain"}; !slices.Equal(names, want) {
		t.Fatalf("Audiences = %v, want %v", names, want)
	}
	if n := st.keyless.Load(); n != 0 {
		t.Fatalf("%d writes left an audience encrypted without a key", n)
	}
}

func TestUpdateAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, c := ringWith(t)
	if err := r.CreateAudience(ctx, &store.Audience{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	update := func(a store.Audience) {
		t.Helper()
		if err := r.UpdateAudience(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}

	update(store.Audience{Name: "api", Encrypted: true})
	k1 := currentKID(t, r, "api") // active at once
	old, err := r.Encrypt("api", signedToken(t, "api"))
	if err != nil {
		t.Fatal(err)
	}

	update(store.Audience{Name: "api", Encrypted: false})
	if _, err := r.Encrypt("api", "a.b.c"); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("Encrypt after turning encryption off = %v", err)
	}
	if _, _, err := r.Decrypt(ctx, old); err != nil {
		t.Fatalf("a token issued before encryption was turned off no longer decrypts: %v", err)
	}

	update(store.Audience{Name: "api", Encrypted: true})
	k2 := currentKID(t, r, "api")
	if k2 == k1 {
		t.Fatal("turning encryption back on reused the retired key")
	}

	update(store.Audience{Name: "api", Encrypted: true, KeyAlgorithm: store.KeyRSAOAEP256})
	if currentKID(t, r, "api") != k2 {
		t.Fatal("changing the algorithm switched keys without pre-publication")
	}
	update(store.Audience{Name: "api", Encrypted: true, KeyAlgorithm: store.KeyRSAOAEP256})
	if n := len(r.Keys("api")); n != 3 {
		t.Fatalf("%d keys after repeating the algorithm change, want 3 (no second rotation)", n)
	}
	c.Advance(testPrePublish)
	if hdr := protectedHeader(t, mustEncrypt(t, r, "api")); hdr["alg"] != store.KeyRSAOAEP256 {
		t.Fatalf("after PrePublish tokens use %v", hdr["alg"])
	}

	c.Advance(testRetain)
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(st.keyIDs()); got != 1 {
		t.Fatalf("%d stored keys after retention, want the RSA key only", got)
	}
	for _, enc := range []bool{false, true} {
		if err := r.UpdateAudience(ctx, &store.Audience{Name: "nope", Encrypted: enc}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateAudience of an unknown audience = %v", err)
		}
	}
	if n := st.keyless.Load(); n != 0 {
		t.Fatalf("%d writes left the audience encrypted without a key", n)
	}
}

func mustEncrypt(t *testing.T, r *Ring, aud string) string {
	t.Helper()
	tok, err := r.Encrypt(aud, signedToken(t, aud))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestDeleteAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, _ := ringWith(t, store.KeyECDHES)
	tok := mustEncrypt(t, r, store.KeyECDHES)
	if err := r.DeleteAudience(ctx, store.KeyECDHES); err != nil {
		t.Fatal(err)
	}
	if r.Encrypted(store.KeyECDHES) || len(r.Audiences()) != 0 || len(st.keyIDs()) != 0 {
		t.Fatal("the audience or its keys survived")
	}
	assertUndecryptable(t, r, tok, "unknown or expired kid")
	if err := r.DeleteAudience(ctx, store.KeyECDHES); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteAudience = %v", err)
	}
}

func TestRotateKeyErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _, _ := ringWith(t)
	if err := r.CreateAudience(ctx, &store.Audience{Name: "plain"}); err != nil {
		t.Fatal(err)
	}
	for aud, want := range map[string]error{"plain": ErrNotEncrypted, "nope": store.ErrNotFound} {
		if _, err := r.RotateKey(ctx, aud); !errors.Is(err, want) {
			t.Errorf("RotateKey(%q) = %v, want %v", aud, err, want)
		}
	}
}

// TestStoredKeysAreSealed: the store never sees a usable private key, and
// a row altered or moved to another audience does not open.
func TestStoredKeysAreSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		alter  func(*store.AudienceKey)
		seal   bool // whether to open with another seal key
		unseal bool // whether the error is ErrUnseal
	}{
		{"other master key", nil, true, true},
		{"moved to another audience", func(k *store.AudienceKey) { k.Audience = "other" }, false, true},
		{"sealed bytes flipped", func(k *store.AudienceKey) { k.PrivateKey[len(k.PrivateKey)/2] ^= 1 }, false, true},
		{"public key swapped", func(k *store.AudienceKey) { k.PublicKey = otherPublicKey(t) }, false, false},
		{"algorithm changed", func(k *store.AudienceKey) { k.Algorithm = store.KeyRSAOAEP256 }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, c, sealKey := newMemStore(), newClock(), testSealKey(t)
			r := newTestRing(t, st, sealKey, c)
			for _, a := range []store.Audience{{Name: "api", Encrypted: true}, {Name: "other", Encrypted: true}} {
				if err := r.CreateAudience(ctx, &a); err != nil {
					t.Fatal(err)
				}
			}
			kid := r.Keys("api")[0].ID
			if _, err := x509.ParsePKCS8PrivateKey(st.keys[kid].PrivateKey); err == nil {
				t.Fatal("the store holds a plain PKCS #8 private key")
			}
			if tc.alter != nil {
				st.update(kid, tc.alter)
			}
			if tc.seal {
				sealKey = testSealKey(t)
			}
			fresh, err := New(st, Options{SealKey: sealKey, Retain: testRetain, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			err = fresh.Load(ctx)
			if err == nil || errors.Is(err, ErrUnseal) != tc.unseal {
				t.Fatalf("Load = %v, want an error (ErrUnseal: %v)", err, tc.unseal)
			}
			if fresh.Encrypted("api") {
				t.Fatal("a failed Load replaced the snapshot")
			}
		})
	}
}

func otherPublicKey(t *testing.T) []byte {
	t.Helper()
	priv, err := generate(store.KeyECDHES)
	if err != nil {
		t.Fatal(err)
	}
	row, err := seal(testSealKey(t), "x", store.KeyECDHES, priv)
	if err != nil {
		t.Fatal(err)
	}
	return row.PublicKey
}
