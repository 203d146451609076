package revocation_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// BenchmarkCheck measures the hot-path revocation check against a set of
// 10,000 token and 100 subject entries.
func BenchmarkCheck(b *testing.B) {
	st := sqltest.OpenSQLite(b)
	s := revocation.New(st, revocation.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	for s.Ready(ctx) != nil {
		time.Sleep(time.Millisecond)
	}
	now := time.Now()
	for i := range 10_000 {
		_ = s.Revoke(ctx, &store.Revocation{Kind: store.RevokedToken, Key: "jti-" + strconv.Itoa(i), RevokedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	for i := range 100 {
		_ = s.Revoke(ctx, &store.Revocation{Kind: store.RevokedSubject, Key: store.SubjectUser + strconv.Itoa(i), RevokedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	subjects := []string{store.SubjectClient + "tgc_x", store.SubjectUser + "usr_y"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if revoked, ok := s.Check("not-revoked", subjects, now); revoked || !ok {
			b.Fatal("wrong answer")
		}
	}
}
