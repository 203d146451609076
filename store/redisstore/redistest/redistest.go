// Package redistest gives tests of any package a real Redis-backed store,
// isolated under its own key prefix. Tests read the address from
// TOLLGATE_TEST_REDIS_URL: unset, they are skipped, or fail when CI=true.
package redistest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/store/redisstore"
)

// EnvURL names the variable holding the test Redis URL.
const EnvURL = testenv.EnvRedisURL

// URL returns the test Redis URL. When it is unset the test is skipped, or
// fails if CI=true.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url != "" {
		return url
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set (CI=true requires Redis)", EnvURL)
	}
	t.Skipf("%s is not set: skipping Redis tests", EnvURL)
	return ""
}

// Open returns a store on the test Redis whose keys live under a fresh
// random prefix. Cleanup deletes those keys and closes the client.
func Open(t testing.TB) *redisstore.Store {
	t.Helper()
	return OpenShared(t, 1)[0]
}

// OpenShared returns n stores, each with a client of its own, whose keys
// live under one fresh random prefix: n server processes sharing a Redis.
// Cleanup deletes those keys and closes the clients.
func OpenShared(t testing.TB, n int) []*redisstore.Store {
	t.Helper()
	url := URL(t)
	prefix := newPrefix()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stores := make([]*redisstore.Store, n)
	for i := range stores {
		s, err := redisstore.Open(ctx, url, redisstore.Options{
			Prefix: prefix,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		stores[i] = s
	}
	t.Cleanup(func() {
		if err := deleteKeys(stores[0].Client(), prefix); err != nil {
			t.Errorf("redistest: cleanup: %v", err)
		}
		for _, s := range stores {
			if err := s.Close(); err != nil {
				t.Errorf("redistest: close: %v", err)
			}
		}
	})
	return stores
}

// Prefix returns the test Redis URL and a fresh key prefix, for a test
// whose code under test opens its own clients (a server, a limiter). It
// reads the URL now: a test may later point its code at a proxy. The
// cleanup, which runs after those registered later (servers stopped
// first), deletes every key under the prefix and fails the test if any
// remains or Redis cannot be reached.
func Prefix(t testing.TB) (url, prefix string) {
	t.Helper()
	url = URL(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redistest: %s: %v", EnvURL, err)
	}
	prefix = newPrefix()
	t.Cleanup(func() {
		c := redis.NewClient(opt)
		defer c.Close()
		if err := deleteKeys(c, prefix); err != nil {
			t.Errorf("redistest: cleanup of %s*: %v", prefix, err)
		}
	})
	return url, prefix
}

// Keys returns the keys under prefix (a test that checks its cleanup).
func Keys(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func newPrefix() string { return "tollgate-test:" + rand.Text() + ":" }

// deleteKeys deletes every key under prefix, which holds no glob
// metacharacters, then checks that none is left. It runs after the test's
// context is canceled, so it bounds itself.
func deleteKeys(c redis.UniversalClient, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := Keys(ctx, c, prefix)
	if err != nil || len(keys) == 0 {
		return err
	}
	// One DEL per key: keys of different families live in different
	// Cluster slots.
	pipe := c.Pipeline()
	for _, k := range keys {
		pipe.Del(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	left, err := Keys(ctx, c, prefix)
	if err == nil && len(left) > 0 {
		err = fmt.Errorf("%d keys left after deleting them (written meanwhile?): %v", len(left), left)
	}
	return err
}
