package sqlstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// openBenchSQLite is a migrated embedded store in a temporary directory
// with n clients and n API keys; it returns the store and the ID and hash
// of one of each, from the middle of the tables. (An internal test cannot
// use sqltest, which imports this package.)
func openBenchSQLite(b *testing.B, n int) (s *Store, clientID string, keyHash []byte) {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "tollgate.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range n {
		c := &store.Client{ID: fmt.Sprintf("tgc_%08d", i), Name: fmt.Sprintf("c%d", i), SecretHash: []byte(rand.Text()), Scopes: []string{"a", "b"},
			GrantTypes: []string{"client_credentials"}, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateClient(ctx, c); err != nil {
			b.Fatal(err)
		}
		k := &store.APIKey{ID: fmt.Sprintf("key_%08d", i), OwnerKind: store.OwnerClient, OwnerID: c.ID, Name: "k", Scopes: []string{"a"},
			Hash: []byte(rand.Text()), Prefix: "tgk_abcd", Last4: "wxyz", CreatedAt: now}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			b.Fatal(err)
		}
		if i == n/2 {
			clientID, keyHash = c.ID, k.Hash
		}
	}
	return s, clientID, keyHash
}

// usePrepared gives s, for mode "prepared", a GORM session that keeps
// every statement prepared (gorm.Session{PrepareStmt: true}); "plain" is
// the store as it ships. The comparison is why the store does not use
// prepared statements on SQLite: the glebarez/go-sqlite driver compiles
// the SQL again on every query of a prepared database/sql statement (its
// stmt keeps the text, since one may hold several statements), so the
// parse and plan that dominate a lookup stay, and the cache adds an
// allocation.
func usePrepared(s *Store, mode string) {
	if mode == "prepared" {
		s.db = s.db.Session(&gorm.Session{PrepareStmt: true})
	}
}

// BenchmarkGetClient is the uncached client lookup of every token request
// (a primary-key read): what the client cache saves, and what a miss costs.
func BenchmarkGetClient(b *testing.B) {
	for _, mode := range []string{"plain", "prepared"} {
		b.Run(mode, func(b *testing.B) {
			s, id, _ := openBenchSQLite(b, 200)
			usePrepared(s, mode)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.GetClient(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetAPIKeyByHash is the uncached API-key lookup of an exchange
// (a unique-index read).
func BenchmarkGetAPIKeyByHash(b *testing.B) {
	for _, mode := range []string{"plain", "prepared"} {
		b.Run(mode, func(b *testing.B) {
			s, _, hash := openBenchSQLite(b, 200)
			usePrepared(s, mode)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.GetAPIKeyByHash(ctx, hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
