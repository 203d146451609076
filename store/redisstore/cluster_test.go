package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/server/throttle"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
	"github.com/tollgate/tollgate/store/storetest"
)

// startCluster starts a three-master Redis Cluster (no replicas) of local
// redis-server processes, which the test's cleanup kills, and returns a
// Mode "cluster" URL naming every node as a seed.
func startCluster(t *testing.T) string {
	t.Helper()
	cli := redisBinary(t, "redis-cli")
	dir := t.TempDir()
	nodes := make([]string, 3)
	for i := range nodes {
		nodes[i] = startRedisServer(t, dir, func(port int) []string {
			return []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", "nodes-" + strconv.Itoa(port) + ".conf",
				// The bus port defaults to port+10000, which may be taken
				// or above 65535.
				"--cluster-port", strconv.Itoa(freePort(t)),
			}
		}).addr
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, nodes...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range nodes {
		waitClusterOK(ctx, t, addr)
	}
	return "redis://" + nodes[0] + "?addr=" + nodes[1] + "&addr=" + nodes[2]
}

// waitClusterOK waits until the node reports cluster_state:ok, which it
// does once it knows every slot's master.
func waitClusterOK(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node %s: cluster not ok before the deadline: %v %q", addr, err, info)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// openCluster opens a Mode "cluster" store under prefix; cleanup closes it.
// The cluster is thrown away with the test, so keys are not deleted.
func openCluster(t *testing.T, url, prefix string) *redisstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, url, redisstore.Options{
		Prefix: prefix, Mode: redisstore.ModeCluster, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("Open cluster: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testPrefix() string { return "tollgate-test:" + rand.Text() + ":" }

// TestCluster runs the store's contracts and its other users (client
// change notices, the rate limiter) on a real three-master Redis Cluster:
// every multi-key script must keep to one slot, and messages must cross
// nodes.
func TestCluster(t *testing.T) {
	// Not parallel: starting servers would stall the TTL tests' timing.
	url := startCluster(t)
	t.Run("RefreshTokens", func(t *testing.T) {
		t.Parallel()
		storetest.RunRefreshTokens(t, func(t *testing.T) store.RefreshTokenStore {
			return openCluster(t, url, testPrefix())
		})
	})
	t.Run("Revocations", func(t *testing.T) {
		t.Parallel()
		storetest.RunRevocations(t, func(t *testing.T) (a, b store.RevocationStore) {
			prefix := testPrefix()
			return openCluster(t, url, prefix), openCluster(t, url, prefix)
		})
	})
	t.Run("RevocationRoster", func(t *testing.T) {
		t.Parallel()
		storetest.RunRevocationRoster(t, func(t *testing.T) (a, b store.RevocationRoster) {
			prefix := testPrefix()
			return openCluster(t, url, prefix), openCluster(t, url, prefix)
		})
	})
	t.Run("OpenLogsAndDialSettings", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		s, err := redisstore.Open(t.Context(), url, redisstore.Options{
			Mode: redisstore.ModeCluster, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !strings.Contains(logs.String(), `"mode":"cluster","seeds":["127.0.0.1:`) {
			t.Errorf("connect log lacks the mode and seeds: %s", logs.String())
		}
		o := s.Client().(*redis.ClusterClient).Options()
		if o.DialTimeout != 2*time.Second || o.ReadTimeout != 3*time.Second ||
			o.WriteTimeout != 3*time.Second || o.DialerRetries != 1 {
			t.Errorf("dial %v, read %v, write %v, dialer retries %d; want 2s, 3s, 3s, 1",
				o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.DialerRetries)
		}
	})
	t.Run("FamiliesSpreadOverMasters", func(t *testing.T) {
		t.Parallel()
		clusterTestSpread(t, url)
	})
	t.Run("ClientChangesCrossNodes", func(t *testing.T) {
		t.Parallel()
		clusterTestClientChanges(t, url)
	})
	t.Run("RateLimiter", func(t *testing.T) {
		t.Parallel()
		clusterTestRateLimiter(t, url)
	})
}

// clusterTestSpread: refresh families land on every master, so the
// contract above really ran scripts on several nodes; one family's keys
// share a slot.
func clusterTestSpread(t *testing.T, url string) {
	prefix := testPrefix()
	s := openCluster(t, url, prefix)
	ctx, now := t.Context(), time.Now()
	for range 30 {
		family := rand.Text()
		a := &store.RefreshToken{
			ID: rand.Text(), FamilyID: family, ClientID: "c", IssuedAt: now,
			FamilyIssuedAt: now, ExpiresAt: now.Add(time.Hour),
		}
		if err := s.CreateRefreshToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		b := *a
		b.ID = rand.Text()
		if err := s.RotateRefreshToken(ctx, family, a.ID, &b, now); err != nil {
			t.Fatal(err)
		}
	}
	cc, ok := s.Client().(*redis.ClusterClient)
	if !ok {
		t.Fatalf("Client() is %T, want *redis.ClusterClient", s.Client())
	}
	var mu sync.Mutex
	perMaster := map[string]int{}
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		mu.Lock()
		defer mu.Unlock()
		perMaster[c.Options().Addr] = len(keys)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for addr, n := range perMaster {
		if n == 0 {
			t.Errorf("master %s holds none of the 30 families' keys: %v", addr, perMaster)
		}
		total += n
	}
	// Per family: two tokens and the family index.
	if len(perMaster) != 3 || total != 30*3 {
		t.Errorf("keys per master = %v, want 3 masters holding 90 keys", perMaster)
	}
}

// clusterTestClientChanges: a change published through one store reaches a
// watcher on another, even when it is published on a node other than the
// one the watcher is subscribed on (the cluster bus carries it).
func clusterTestClientChanges(t *testing.T, url string) {
	prefix := testPrefix()
	watcher, publisher := openCluster(t, url, prefix), openCluster(t, url, prefix)
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan struct{})
	got := make(chan string, 16)
	errc := make(chan error, 1)
	go func() {
		errc <- watcher.WatchClientChanges(ctx, func() { close(ready) }, func(id string) { got <- id })
	}()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("WatchClientChanges returned %v before it was ready", err)
	case <-time.After(5 * time.Second):
		t.Fatal("WatchClientChanges not ready within 5s")
	}

	if err := publisher.PublishClientChange(ctx, "client-a"); err != nil {
		t.Fatal(err)
	}
	// The same channel name, published on every master by hand: each copy
	// must arrive, whichever node the watcher listens on.
	var mu sync.Mutex
	want := map[string]bool{"client-a": true}
	cc := publisher.Client().(*redis.ClusterClient)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		id := "client-" + c.Options().Addr
		mu.Lock()
		want[id] = true
		mu.Unlock()
		return c.Publish(ctx, prefix+"clients:changed", id).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 4 {
		t.Fatalf("published on %d masters, want 3", len(want)-1)
	}
	for len(want) > 0 {
		select {
		case id := <-got:
			if !want[id] {
				t.Errorf("unexpected client change %q", id)
			}
			delete(want, id)
		case <-time.After(2 * time.Second):
			t.Fatalf("client changes not received within 2s: %v", want)
		}
	}

	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WatchClientChanges after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WatchClientChanges did not return after cancel")
	}
}

// clusterTestRateLimiter: the GCRA limiter's script runs on the cluster,
// and two clients (two nodes of the service) draw on one budget.
func clusterTestRateLimiter(t *testing.T, url string) {
	prefix := testPrefix()
	a := throttle.NewRedisLimiter(openCluster(t, url, prefix).Client(), prefix+"rl:")
	b := throttle.NewRedisLimiter(openCluster(t, url, prefix).Client(), prefix+"rl:")
	ctx := t.Context()
	const perSecond = 5
	allowed := 0
	for i := range 2 * perSecond {
		ok, retry, err := []*throttle.RedisLimiter{a, b}[i%2].Allow(ctx, "client:c1", perSecond)
		if err != nil {
			t.Fatalf("Allow %d: %v", i, err)
		}
		if ok {
			allowed++
		} else if retry <= 0 || retry > time.Second {
			t.Errorf("Allow %d refused with Retry-After %v, want within (0, 1s]", i, retry)
		}
	}
	// A burst of one second's worth passes, then the shared budget is
	// spent (a token or so may refill while the loop runs).
	if allowed < perSecond || allowed > perSecond+1 {
		t.Errorf("%d of %d requests allowed at %d/s, want %d (or one more)", allowed, 2*perSecond, perSecond, perSecond)
	}
	// Other keys have budgets of their own, wherever their slots live.
	for i := range 10 {
		ok, _, err := a.Allow(ctx, "client:other-"+strconv.Itoa(i), perSecond)
		if err != nil || !ok {
			t.Errorf("Allow on a fresh key %d = %v, %v, want allowed", i, ok, err)
		}
	}
}
