package grant_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/clientcache"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// embedded wires an engine as the embedded default does: a client cache
// and an API-key cache fed by the SQLite change log, with a second Store
// on the same file (the CLI). It returns the engine, that second Store and
// an exchange request for a fresh client-owned key.
func embedded(tb testing.TB) (*grant.Engine, *sqlstore.Store, *grant.Request, string) {
	ctx, cancel := context.WithCancel(context.Background())
	dbURL := "sqlite:" + filepath.Join(tb.TempDir(), "t.db")
	var st [2]*sqlstore.Store
	for i := range st {
		s, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		st[i] = s
	}
	db, cli := st[0], st[1]
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	km, err := keys.New(db, keys.Options{SealKey: seal, Retain: time.Hour})
	if err == nil {
		err = km.Load(ctx)
	}
	if err != nil {
		tb.Fatal(err)
	}
	set := revocation.New(db, revocation.Options{})
	clients := clientcache.New(db, clientcache.Feed{Changes: db}, clientcache.Options{})
	hasher := secret.NewHasher(seal)
	e := grant.New(grant.Options{
		Clients: clients, Users: db, Refresh: db, APIKeys: db, KeyRevocations: set, KeyChanges: db,
		Hasher: hasher, Keys: km, Issuer: "https://issuer.test", Audience: []string{"api"}, AccessTTL: time.Minute,
	})
	done := make(chan struct{}, 3)
	go func() { set.Run(ctx); done <- struct{}{} }()
	go func() { clients.Run(ctx); done <- struct{}{} }()
	go func() { e.RunKeyChanges(ctx); done <- struct{}{} }()
	tb.Cleanup(func() { cancel(); <-done; <-done; <-done })
	for set.Ready(ctx) != nil || !clients.Live() {
		time.Sleep(time.Millisecond)
	}
	now := time.Now()
	c := &store.Client{ID: "c1", Name: "svc", SecretHash: hasher.Hash("s"), GrantTypes: []string{grant.ClientCredentials}, Scopes: []string{"read"}, CreatedAt: now, UpdatedAt: now}
	if err := cli.CreateClient(ctx, c); err != nil {
		tb.Fatal(err)
	}
	key := secret.Generate(secret.APIKeyPrefix)
	k := &store.APIKey{ID: "k1", OwnerKind: store.OwnerClient, OwnerID: "c1", Name: "cron", Hash: hasher.Hash(key), Prefix: key[:8], Last4: key[len(key)-4:], CreatedAt: now}
	if err := cli.CreateAPIKey(ctx, k); err != nil {
		tb.Fatal(err)
	}
	req := &grant.Request{GrantType: grant.TokenExchange, Form: url.Values{
		"grant_type": {grant.TokenExchange}, "subject_token": {key}, "subject_token_type": {grant.TokenTypeAPIKey},
	}}
	return e, cli, req, k.ID
}

// TestKeyCacheDroppedByChangeLog: a key revoked in the database by another
// process, with no revocation entry at all (the store's own write, nothing
// else), stops exchanging within a poll of the change log rather than
// after the cache's 5 s TTL.
func TestKeyCacheDroppedByChangeLog(t *testing.T) {
	e, cli, req, id := embedded(t)
	ctx := t.Context()
	for range 3 { // the second and third are served from the cache
		if _, err := e.Exchange(ctx, req); err != nil {
			t.Fatalf("exchange: %v", err)
		}
	}
	start := time.Now()
	if err := cli.RevokeAPIKey(ctx, id, start); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := e.Exchange(ctx, req); err != nil {
			break
		}
		if time.Since(start) > 1500*time.Millisecond {
			t.Fatal("a revoked key still exchanged after 1.5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("revoked key refused after %s", time.Since(start).Round(time.Millisecond))
}

// BenchmarkExchangeCacheHit is an API-key exchange served from the key
// cache and the client cache on the embedded store, signature included.
func BenchmarkExchangeCacheHit(b *testing.B) {
	e, _, req, _ := embedded(b)
	ctx := context.Background()
	time.Sleep(300 * time.Millisecond) // the setup's own changes pass
	if _, err := e.Exchange(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Exchange(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
