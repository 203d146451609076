package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
)

// TestOpenModes: in every mode an unreachable Redis is an outage, reported
// before the caller's deadline, and a bad URL or mode a plain error; no
// error shows the password.
func TestOpenModes(t *testing.T) {
	t.Parallel()
	const pw = "s3cret-pw"
	tests := []struct {
		name, mode, url string
		wantUnavailable bool
		wantText        string
	}{
		{"unknown mode", "master", "redis://127.0.0.1:1/0", false, `"standalone" (or empty), "sentinel" or "cluster"`},
		{"standalone unreachable", "standalone", "redis://:" + pw + "@127.0.0.1:1/0", true, ""},
		{"standalone bad escape", "", "redis://u:" + pw + "@127.0.0.1:1/%zz", false, "invalid URL escape"},
		{"standalone sentinel option", "", "redis://127.0.0.1:1/0?master_name=m", false, "master_name"},
		{"sentinel unreachable", "sentinel", "redis://:" + pw + "@127.0.0.1:1/0?master_name=m&password=" + pw, true, ""},
		{"sentinel unreachable two", "sentinel", "redis://127.0.0.1:1/0?master_name=m&addr=127.0.0.1:2", true, ""},
		{"sentinel no master name", "sentinel", "redis://127.0.0.1:1/0", false, "master_name"},
		{"sentinel route randomly", "sentinel", "redis://127.0.0.1:1/0?master_name=m&route_randomly=true", false, "route_randomly"},
		{"sentinel replica only", "sentinel", "redis://127.0.0.1:1/0?master_name=m&replica_only=true", false, "replica_only"},
		{"sentinel bad scheme", "sentinel", "http://127.0.0.1:1/0?master_name=m", false, "scheme"},
		{"sentinel bad escape", "sentinel", "redis://u:" + pw + "@127.0.0.1:1/%zz?master_name=m", false, "invalid URL escape"},
		{"sentinel bad option", "sentinel", "redis://127.0.0.1:1/0?master_name=m&nope=1", false, "nope"},
		{"cluster unreachable", "cluster", "redis://:" + pw + "@127.0.0.1:1?addr=127.0.0.1:2", true, ""},
		{"cluster database", "cluster", "redis://127.0.0.1:1/3", false, "database 0 only"},
		{"cluster bad addr", "cluster", "redis://127.0.0.1:1?addr=nohost", false, "addr"},
		{"cluster read only", "cluster", "redis://127.0.0.1:1?read_only=true", false, "read_only"},
		{"cluster route by latency", "cluster", "redis://127.0.0.1:1?route_by_latency=true", false, "route_by_latency"},
		{"cluster bad scheme", "cluster", "http://127.0.0.1:1", false, "scheme"},
		{"cluster bad escape", "cluster", "redis://u:" + pw + "@127.0.0.1:1/%zz", false, "invalid URL escape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			s, err := redisstore.Open(ctx, tc.url, redisstore.Options{Mode: tc.mode})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tc.wantUnavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.wantUnavailable)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not say %q", err, tc.wantText)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q shows the password", err)
			}
			if ctx.Err() != nil {
				t.Errorf("Open only returned when its context expired: %v", err)
			}
		})
	}
}

// TestOpenDialSettings: timeouts and dial retries the URL leaves unset get
// bounded defaults; those it sets, even "no timeout" (-1), are kept.
func TestOpenDialSettings(t *testing.T) {
	t.Parallel()
	base := redistest.URL(t)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	tests := []struct {
		name, query       string
		dial, read, write time.Duration
		wantDialerRetries int
	}{
		{"defaults", "", 2 * time.Second, 3 * time.Second, 3 * time.Second, 1},
		{"set", "dial_timeout=7s&read_timeout=9s", 7 * time.Second, 9 * time.Second, 9 * time.Second, 1},
		{"write set", "write_timeout=4s", 2 * time.Second, 3 * time.Second, 4 * time.Second, 1},
		// go-redis stores "no timeout" as 0 once the client is built.
		{"unbounded", "read_timeout=-1", 2 * time.Second, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := base
			if tc.query != "" {
				url += sep + tc.query
			}
			s, err := redisstore.Open(t.Context(), url, redisstore.Options{Mode: redisstore.ModeStandalone})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			o := s.Client().(*redis.Client).Options()
			if o.DialTimeout != tc.dial || o.ReadTimeout != tc.read || o.WriteTimeout != tc.write || o.DialerRetries != tc.wantDialerRetries {
				t.Errorf("dial %v, read %v, write %v, dialer retries %d; want %v, %v, %v, %d",
					o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.DialerRetries,
					tc.dial, tc.read, tc.write, tc.wantDialerRetries)
			}
		})
	}
}
