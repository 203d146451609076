package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
)

// Passwords of the Sentinel setup, which no log line or error may show.
const (
	masterPassword   = "master-s3cret-pw"
	sentinelPassword = "sentinel-s3cret-pw"
)

// sentinelSetup is a password-protected master and one sentinel
// monitoring it as "mymaster", both local processes.
type sentinelSetup struct {
	master, sentinel string
}

func startSentinel(t *testing.T) sentinelSetup {
	t.Helper()
	dir := t.TempDir()
	master := startRedisServer(t, dir, func(int) []string {
		return []string{"--requirepass", masterPassword}
	}).addr
	host, port, _ := strings.Cut(master, ":")
	sentinel := startRedisServer(t, dir, func(p int) []string {
		// Sentinel rewrites its config file, so each gets its own.
		conf := filepath.Join(dir, "sentinel-"+strconv.Itoa(p)+".conf")
		text := "sentinel monitor mymaster " + host + " " + port + " 1\n" +
			"sentinel auth-pass mymaster " + masterPassword + "\n" +
			"requirepass " + sentinelPassword + "\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{conf, "--sentinel"}
	}).addr
	return sentinelSetup{master: master, sentinel: sentinel}
}

func (s sentinelSetup) url(masterName string) string {
	return "redis://:" + sentinelPassword + "@" + s.sentinel + "/0?master_name=" + masterName +
		"&password=" + masterPassword
}

func (s sentinelSetup) open(t *testing.T, masterName string, log *slog.Logger) (*redisstore.Store, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	st, err := redisstore.Open(ctx, s.url(masterName), redisstore.Options{
		Mode: redisstore.ModeSentinel, Prefix: testPrefix(), Logger: log,
	})
	if ctx.Err() != nil {
		t.Errorf("Open returned only when its context expired: %v", err)
	}
	if err == nil {
		t.Cleanup(func() { _ = st.Close() })
	}
	return st, err
}

// TestSentinel: through a real sentinel, the store finds the master and
// works on it, logs where it went without a password, and reads a master
// no sentinel knows as an outage, never as a missing record.
func TestSentinel(t *testing.T) {
	// Not parallel: starting servers would stall the TTL tests' timing.
	setup := startSentinel(t)
	var logs bytes.Buffer
	st, err := setup.open(t, "mymaster", slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open sentinel: %v", err)
	}
	for _, want := range []string{`"mode":"sentinel"`, `"master_name":"mymaster"`, setup.sentinel} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("connect log lacks %s: %s", want, logs.String())
		}
	}
	for _, secret := range []string{masterPassword, sentinelPassword} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("connect log shows a password: %s", logs.String())
		}
	}
	wantDialDefaults(t, st.Client().(*redis.Client).Options())

	ctx, now := t.Context(), time.Now()
	tok := &store.RefreshToken{
		ID: rand.Text(), FamilyID: rand.Text(), ClientID: "c", Scopes: []string{"read"},
		IssuedAt: now, FamilyIssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	if err := st.CreateRefreshToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetRefreshToken(ctx, tok.FamilyID, tok.ID); err != nil || got.ClientID != "c" {
		t.Fatalf("GetRefreshToken = %+v, %v", got, err)
	}
	master := redis.NewClient(&redis.Options{Addr: setup.master, Password: masterPassword})
	defer master.Close()
	if n := master.DBSize(ctx).Val(); n == 0 {
		t.Error("the master holds no keys after a write through the sentinel")
	}

	t.Run("UnknownMasterAtOpen", func(t *testing.T) {
		_, err := setup.open(t, "no-such-master", nil)
		if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Open with an unknown master = %v, want ErrUnavailable and not ErrNotFound", err)
		}
	})
	t.Run("MasterForgottenLater", func(t *testing.T) {
		sentinel := redis.NewSentinelClient(&redis.Options{Addr: setup.sentinel, Password: sentinelPassword})
		defer sentinel.Close()
		if err := sentinel.Remove(ctx, "mymaster").Err(); err != nil {
			t.Fatalf("SENTINEL REMOVE: %v", err)
		}
		// Drop the store's connections, so that it must ask the sentinel.
		if err := master.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
			t.Fatalf("CLIENT KILL: %v", err)
		}
		_, err := st.GetRefreshToken(ctx, tok.FamilyID, tok.ID)
		if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetRefreshToken once no sentinel knows the master = %v, want ErrUnavailable, not ErrNotFound", err)
		}
	})
}

// wantDialDefaults checks the dial and read settings Open applies when the
// URL leaves them unset.
func wantDialDefaults(t *testing.T, o *redis.Options) {
	t.Helper()
	if o.DialTimeout != 2*time.Second || o.ReadTimeout != 3*time.Second ||
		o.WriteTimeout != 3*time.Second || o.DialerRetries != 1 {
		t.Errorf("dial %v, read %v, write %v, dialer retries %d; want 2s, 3s, 3s, 1",
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.DialerRetries)
	}
}
