package introspection_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/store"
)

// TestEncryptedTokens: a nested JWT is introspected as its inner token
// (from the cache the second time); one the ring cannot open, one whose
// inner token names another audience than the one it was encrypted to,
// and any JWE on a node without a ring are inactive, never an error.
func TestEncryptedTokens(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.open(t), time.Hour)
			ctx := t.Context()
			ring, err := encryption.New(f.st, encryption.Options{SealKey: make([]byte, 32), Retain: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{"secret", "other"} {
				if err := ring.CreateAudience(ctx, &store.Audience{Name: a, Encrypted: true}); err != nil {
					t.Fatal(err)
				}
			}
			in := introspection.New(introspection.Options{Keys: f.km, Revocations: f.set, Refresh: f.st, Issuer: testIssuer, Now: f.clk.Now, Decrypter: ring})
			mint := func(aud string) string {
				k, err := f.km.Signer()
				if err != nil {
					t.Fatal(err)
				}
				now := f.clk.Now()
				jws, err := accesstoken.Sign(k, &accesstoken.Claims{Issuer: testIssuer, Subject: "c1", Audience: []string{aud},
					IssuedAt: now, ExpiresAt: now.Add(time.Hour), ID: accesstoken.NewJTI(), ClientID: "c1"})
				if err != nil {
					t.Fatal(err)
				}
				return jws
			}
			seal := func(aud, jws string) string {
				jwe, err := ring.Encrypt(aud, jws)
				if err != nil {
					t.Fatal(err)
				}
				return jwe
			}
			good := seal("secret", mint("secret"))
			tampered := []byte(good)
			tampered[len(tampered)-30] ^= 1 // inside the ciphertext
			for _, tc := range []struct {
				name   string
				in     *introspection.Introspector
				tok    string
				active bool
			}{
				{"encrypted token", in, good, true},
				{"the same, cached", in, good, true},
				{"encrypted to another audience than its aud", in, seal("other", mint("secret")), false},
				{"tampered ciphertext", in, string(tampered), false},
				{"five parts of garbage", in, "a.b.c.d.e", false},
				{"no ring on this node", f.in, good, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r, err := tc.in.Introspect(ctx, tc.tok, "")
					if err != nil {
						t.Fatal(err)
					}
					if r.Active != tc.active || (tc.active && (r.Audience != "secret" || r.Subject != "c1")) || (!tc.active && !reflect.DeepEqual(*r, introspection.Result{})) {
						t.Errorf("got %+v, want active %v", r, tc.active)
					}
				})
			}
		})
	}
}
