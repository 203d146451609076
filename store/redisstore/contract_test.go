package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/storetest"
)

func TestContract(t *testing.T) {
	redistest.URL(t) // skip once, not in every subtest
	storetest.RunRefreshTokens(t, func(t *testing.T) store.RefreshTokenStore {
		return redistest.Open(t)
	})
	t.Run("Revocations", func(t *testing.T) { storetest.RunRevocations(t, openRevocationPair) })
	t.Run("Replays", func(t *testing.T) {
		storetest.RunReplays(t, func(t *testing.T) store.ReplayStore { return redistest.Open(t) })
	})
	t.Run("RevocationRoster", func(t *testing.T) {
		storetest.RunRevocationRoster(t, func(t *testing.T) (a, b store.RevocationRoster) {
			first, prefix := openWithPrefix(t)
			return first, openSamePrefix(t, redistest.URL(t), prefix)
		})
	})
}

// TestContractSharedStore runs the suite with every subtest on one store,
// as a server process does.
func TestContractSharedStore(t *testing.T) {
	s := redistest.Open(t) // skips without Redis
	storetest.RunRefreshTokens(t, func(*testing.T) store.RefreshTokenStore { return s })
}

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		url             string
		prefix          string
		wantUnavailable bool
	}{
		// max_retries=-1 and a short dial timeout keep the failure quick.
		{"unreachable", "redis://127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1", "", true},
		{"bad scheme", "http://127.0.0.1:6379", "", false},
		{"bad option", "redis://127.0.0.1:6379/0?no_such_option=1", "", false},
		{"brace in prefix", "redis://127.0.0.1:1/0", "a{b}:", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			s, err := redisstore.Open(ctx, tc.url, redisstore.Options{Prefix: tc.prefix})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tc.wantUnavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.wantUnavailable)
			}
			if ctx.Err() != nil {
				t.Errorf("Open only returned when its context expired: %v", err)
			}
		})
	}
}

func TestOpenDoesNotLeakPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := redisstore.Open(ctx, "redis://user:s3cret-pw@127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1", redisstore.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open error = %v, want an error without the password", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	s, err := redisstore.Open(t.Context(), redistest.URL(t), redisstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = s.GetRefreshToken(t.Context(), "family", "id")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("GetRefreshToken on a closed client: err = %v, want ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping on a closed client: err = %v, want ErrUnavailable", err)
	}
}
