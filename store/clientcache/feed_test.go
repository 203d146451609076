package clientcache_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/clientcache"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
	"github.com/tollgate/tollgate/store/storetest"
)

// sharedSQLite opens two Stores on one SQLite file, as the server and the
// CLI do.
func sharedSQLite(t testing.TB) (server, cli *sqlstore.Store) {
	t.Helper()
	url := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	var st [2]*sqlstore.Store
	for i := range st {
		s, err := sqlstore.Open(context.Background(), url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		st[i] = s
	}
	if err := st[0].Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st[0], st[1]
}

func TestContractOnFeed(t *testing.T) {
	storetest.RunClients(t, func(t *testing.T) store.ClientStore {
		db := sqltest.OpenSQLite(t)
		c := clientcache.New(db, clientcache.Feed{Changes: db}, clientcache.Options{})
		running(t, c)
		return c
	})
}

// TestFeedSeesOtherProcess: the server caches a client; another process
// on the same SQLite file (the CLI, writing to the database directly)
// rotates its secret, then deletes it; the server's cache drops it within
// the poll, with no Redis anywhere.
func TestFeedSeesOtherProcess(t *testing.T) {
	ctx := context.Background()
	db, cli := sharedSQLite(t)
	inner := &counting{ClientStore: db}
	c := clientcache.New(inner, clientcache.Feed{Changes: db}, clientcache.Options{})
	running(t, c)
	cl := &store.Client{ID: "c1", Name: "one", SecretHash: []byte{1}}
	if err := cli.CreateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	// Warm up until a read is served from memory (the create's own change
	// may still invalidate it once).
	for deadline := time.Now().Add(2 * time.Second); ; {
		_, _ = c.GetClient(ctx, "c1")
		n := inner.gets.Load()
		_, _ = c.GetClient(ctx, "c1")
		if inner.gets.Load() == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("reads never served from memory")
		}
	}
	before := inner.gets.Load()
	for range 100 {
		if _, err := c.GetClient(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.gets.Load() - before; n != 0 {
		t.Errorf("%d cached reads reached the database", n)
	}

	cl.SecretHash = []byte{2}
	start := time.Now()
	if err := cli.UpdateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, start, "the rotated secret", func() bool {
		got, err := c.GetClient(ctx, "c1")
		return err == nil && got.SecretHash[0] == 2
	})
	start = time.Now()
	if err := cli.DeleteClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, start, "the deletion", func() bool {
		_, err := c.GetClient(ctx, "c1")
		return err != nil
	})
}

// waitFor polls ok until it holds, failing after 1.5 s: the bound on how
// late another process's change may reach the cache.
func waitFor(t *testing.T, start time.Time, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("the cache did not see %s within 1.5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s seen after %s", what, time.Since(start).Round(time.Millisecond))
}

// BenchmarkGetClientHit is a client lookup served from memory on the
// embedded store.
func BenchmarkGetClientHit(b *testing.B) {
	db := sqltest.OpenSQLite(b)
	c := clientcache.New(db, clientcache.Feed{Changes: db}, clientcache.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	for !c.Live() {
		time.Sleep(time.Millisecond)
	}
	cl := &store.Client{ID: "c1", Name: "one", SecretHash: make([]byte, 32), Scopes: []string{"a", "b"}, GrantTypes: []string{"client_credentials"}}
	if err := c.CreateClient(ctx, cl); err != nil {
		b.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the create's own change pass
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.GetClient(ctx, "c1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetClientMiss is a client lookup the cache cannot serve (its
// change feed is not subscribed, as while it reconnects, or the record was
// just invalidated): it reads through to the embedded store.
func BenchmarkGetClientMiss(b *testing.B) {
	db := sqltest.OpenSQLite(b)
	c := clientcache.New(db, clientcache.Feed{Changes: db}, clientcache.Options{})
	ctx := context.Background()
	cl := &store.Client{ID: "c1", Name: "one", SecretHash: make([]byte, 32), Scopes: []string{"a", "b"}, GrantTypes: []string{"client_credentials"}}
	if err := c.CreateClient(ctx, cl); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.GetClient(ctx, "c1"); err != nil {
			b.Fatal(err)
		}
	}
}
