// Package redistest gives tests of any package a real Redis-backed store,
// isolated under its own key prefix. Tests read the address from
// TOLLGATE_TEST_REDIS_URL: unset, they are skipped, or fail when CI=true.
package redistest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"testing"
	"time"

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
	prefix := "tollgate-test:" + rand.Text() + ":"
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
		if err := deleteKeys(stores[0], prefix); err != nil {
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

// deleteKeys deletes every key under prefix, which holds no glob
// metacharacters. It runs after the test's context is canceled, so it
// bounds itself.
func deleteKeys(s *redisstore.Store, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := s.Client()
	iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	// One DEL per key: keys of different families live in different
	// Cluster slots.
	pipe := client.Pipeline()
	for _, k := range keys {
		pipe.Del(ctx, k)
	}
	_, err := pipe.Exec(ctx)
	return err
}
