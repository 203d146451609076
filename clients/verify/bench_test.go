package verify

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
)

// BenchmarkVerify measures Verify on a real Tollgate token (EdDSA):
// "signature" is a first verification (the cache is emptied before each,
// which costs a few hundred ns of the figure), "cached" a token seen
// before, revocation check included.
func BenchmarkVerify(b *testing.B) {
	srv := tollgatetest.Start(b)
	c := srv.CreateClient(b, "--scopes", "orders:read orders:write", "--roles", "batch")
	v := openReal(b, srv, nil)
	tok := srv.Token(b, c, "orders:read orders:write")
	ctx := context.Background()
	b.Logf("token of %d bytes", len(tok))

	b.Run("signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.cache.clear()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// FuzzVerify: whatever the token, Verify does not panic, and the only
// token it accepts is the one the issuer signed (strict base64url leaves no
// second spelling).
func FuzzVerify(f *testing.F) {
	iss := newFakeIssuer(f)
	iss.addKey(f, "k1", true)
	valid := iss.token(f, "k1", iss.claims(time.Now()), nil)
	v := mustOpen(f, iss.options())
	f.Add(valid)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(context.Background(), tok)
		if err == nil && tok != valid {
			t.Fatalf("accepted a token the issuer did not sign: %q → %+v", tok, p)
		}
	})
}
