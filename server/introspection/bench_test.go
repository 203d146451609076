package introspection_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// setup returns an introspector over real keys and a synchronised
// revocation set, and a token it issued.
func setup(b *testing.B) (*introspection.Introspector, func() string) {
	st := sqltest.OpenSQLite(b)
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	km, err := keys.New(st, keys.Options{SealKey: seal, Retain: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := km.Load(ctx); err != nil {
		b.Fatal(err)
	}
	set := revocation.New(st, revocation.Options{})
	done := make(chan struct{})
	go func() { set.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	for set.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	if err := st.CreateClient(ctx, &store.Client{ID: "c", Name: "c", SecretHash: []byte{1}}); err != nil {
		b.Fatal(err)
	}
	in := introspection.New(introspection.Options{Keys: km, Revocations: set, Refresh: st, Clients: st, Issuer: "https://issuer.test"})
	mint := func() string {
		k, _ := km.Signer()
		now := time.Now()
		tok, err := accesstoken.Sign(k, &accesstoken.Claims{Issuer: "https://issuer.test", Subject: "s", Audience: []string{"a"},
			IssuedAt: now, ExpiresAt: now.Add(time.Minute), ID: accesstoken.NewJTI(), ClientID: "c", Scope: []string{"read"}})
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	return in, mint
}

// BenchmarkIntrospectCached: a hot token (signature already verified).
func BenchmarkIntrospectCached(b *testing.B) {
	in, mint := setup(b)
	tok := mint()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := in.Introspect(ctx, tok, ""); !r.Active {
			b.Fatal("inactive")
		}
	}
}

// BenchmarkIntrospectFirst: a token seen for the first time (signature
// check and caching).
func BenchmarkIntrospectFirst(b *testing.B) {
	in, mint := setup(b)
	toks := make([]string, 2000)
	for i := range toks {
		toks[i] = mint()
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if r, _ := in.Introspect(ctx, toks[i%len(toks)], ""); !r.Active {
			b.Fatal("inactive")
		}
		i++
		if i%len(toks) == 0 {
			b.StopTimer()
			for j := range toks {
				toks[j] = mint()
			}
			b.StartTimer()
		}
	}
}
