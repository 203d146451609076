package redisstore_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
)

// openWithPrefix opens a store under a prefix the test knows, so that it
// can inspect every key the store writes.
func openWithPrefix(t *testing.T) (*redisstore.Store, string) {
	t.Helper()
	prefix := "tollgate-test:" + rand.Text() + ":"
	s, err := redisstore.Open(t.Context(), redistest.URL(t), redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for k := range keysByType(t, ctx, s.Client(), prefix) {
			s.Client().Del(ctx, k)
		}
		s.Close()
	})
	return s, prefix
}

// keysByType maps every key under prefix to its Redis type.
func keysByType(t *testing.T, ctx context.Context, c redis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		typ, err := c.Type(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatalf("TYPE: %v", err)
		}
		if typ != "none" { // expired between SCAN and TYPE
			out[iter.Val()] = typ
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	return out
}

func ttlToken(family string, now time.Time, ttl time.Duration) *store.RefreshToken {
	return &store.RefreshToken{
		ID: rand.Text(), FamilyID: family, ClientID: "c", Scopes: []string{"read"},
		IssuedAt: now, FamilyIssuedAt: now, ExpiresAt: now.Add(ttl),
	}
}

// TestEveryKeyHasTTL: tokens expire at ExpiresAt, the family's bookkeeping
// with its longest-lived token, the revocation marker at until.
func TestEveryKeyHasTTL(t *testing.T) {
	t.Parallel()
	s, prefix := openWithPrefix(t)
	ctx, now := t.Context(), time.Now()

	a := ttlToken(rand.Text(), now, time.Hour)
	if err := s.CreateRefreshToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := ttlToken(a.FamilyID, now, 3*time.Hour)
	if err := s.RotateRefreshToken(ctx, a.FamilyID, a.ID, b, now); err != nil {
		t.Fatal(err)
	}
	c := ttlToken(rand.Text(), now, 2*time.Hour)
	if err := s.CreateRefreshToken(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeRefreshFamily(ctx, c.FamilyID, now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}

	// Left: tokens a and b (hashes), a's family index (zset) and c's
	// revocation marker (string). c and its index are gone.
	want := map[string][]time.Duration{
		"hash":   {time.Hour, 3 * time.Hour},
		"zset":   {3 * time.Hour},
		"string": {30 * time.Minute},
	}
	got := map[string][]time.Duration{}
	for k, typ := range keysByType(t, ctx, s.Client(), prefix) {
		pttl, err := s.Client().PTTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", k, err)
		}
		if pttl <= 0 {
			t.Errorf("key %s (%s) has PTTL %v, want an expiry", k, typ, pttl)
		}
		got[typ] = append(got[typ], pttl)
	}
	for typ, ttls := range want {
		if len(got[typ]) != len(ttls) {
			t.Errorf("%d %s keys with TTLs %v, want %d", len(got[typ]), typ, got[typ], len(ttls))
			continue
		}
		for _, ttl := range ttls {
			if !ttlNear(got[typ], ttl) {
				t.Errorf("%s keys have TTLs %v, want one near %v", typ, got[typ], ttl)
			}
		}
	}
}

func ttlNear(ttls []time.Duration, want time.Duration) bool {
	for _, d := range ttls {
		if d <= want && d > want-time.Minute {
			return true
		}
	}
	return false
}

// TestFamilyIndexExpires: expired tokens leave the family index on the next
// write, and the index itself vanishes with the family's last token.
func TestFamilyIndexExpires(t *testing.T) {
	t.Parallel()
	s, prefix := openWithPrefix(t)
	ctx, now := t.Context(), time.Now()

	family := rand.Text()
	short := ttlToken(family, now, 200*time.Millisecond)
	long := ttlToken(family, now, 500*time.Millisecond)
	for _, tok := range []*store.RefreshToken{long, short} {
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	index := onlyKeyOfType(t, s.Client(), prefix, "zset")
	if pttl := s.Client().PTTL(ctx, index).Val(); pttl <= 200*time.Millisecond || pttl > 500*time.Millisecond {
		t.Errorf("index PTTL = %v, want the longest token's (<= 500ms, > 200ms)", pttl)
	}

	time.Sleep(time.Until(short.ExpiresAt) + 50*time.Millisecond)
	later := ttlToken(family, time.Now(), 200*time.Millisecond)
	if err := s.CreateRefreshToken(ctx, later); err != nil {
		t.Fatal(err)
	}
	if n := s.Client().ZCard(ctx, index).Val(); n != 2 {
		t.Errorf("index holds %d IDs after the short token expired, want 2", n)
	}

	last := later.ExpiresAt
	if long.ExpiresAt.After(last) {
		last = long.ExpiresAt
	}
	time.Sleep(time.Until(last) + 50*time.Millisecond)
	if keys := keysByType(t, ctx, s.Client(), prefix); len(keys) != 0 {
		t.Errorf("keys left after every token expired: %v", keys)
	}
	if n := s.Client().Exists(ctx, index).Val(); n != 0 {
		t.Errorf("family index %s still exists", index)
	}
}

func onlyKeyOfType(t *testing.T, c redis.UniversalClient, prefix, typ string) string {
	t.Helper()
	var found []string
	for k, kt := range keysByType(t, t.Context(), c, prefix) {
		if kt == typ {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s keys under %s: %v, want exactly one", typ, prefix, found)
	}
	return found[0]
}
