package main

import (
	"context"
	"net/url"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store/redisstore/redistest"
)

// TestRedisKeysCleanedUp: a test that logs in and refreshes on Redis,
// reached through a proxy as the fault tests do, leaves no key under its
// prefix once its cleanups ran (refresh tokens live for 30 days).
func TestRedisKeysCleanedUp(t *testing.T) {
	t.Parallel()
	var redisURL, prefix string
	t.Run("refresh through a proxy", func(t *testing.T) {
		e, id, secret, _ := passwordSetup(t, postgresRedis)
		redisURL, prefix = e.vars["TOLLGATE_REDIS_URL"], e.vars["TOLLGATE_REDIS_PREFIX"]
		e.stop()
		ru, err := url.Parse(redisURL)
		if err != nil {
			t.Fatal(err)
		}
		p := newProxy(t, ru.Host)
		ru.Host = p.addr
		e.vars["TOLLGATE_REDIS_URL"] = ru.String()
		e.addr = "" // any port: nothing here needs the old issuer
		e.start()
		rt := e.login(id, secret, "alice", "correct horse battery").body["refresh_token"].(string)
		if r := e.refresh(id, secret, rt); r.status != 200 {
			t.Fatalf("refresh: %d %s", r.status, r.raw)
		}
		c := newRedisClient(t, redisURL)
		if keys, err := redistest.Keys(context.Background(), c, prefix); err != nil || len(keys) == 0 {
			t.Fatalf("no keys under %s during the test (%v): the check below would prove nothing", prefix, err)
		}
	})
	if prefix == "" {
		t.Skip("the flow did not run")
	}
	keys, err := redistest.Keys(context.Background(), newRedisClient(t, redisURL), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("%d keys left under %s after the test's cleanup: %v", len(keys), prefix, keys)
	}
}

func newRedisClient(t *testing.T, rawURL string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
