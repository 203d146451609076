package throttle_test

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/throttle"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
)

func TestLimiters(t *testing.T) {
	limiters := map[string]func(t *testing.T) throttle.Limiter{
		"local": func(*testing.T) throttle.Limiter { return throttle.NewLocalLimiter() },
		"redis": func(t *testing.T) throttle.Limiter {
			_, prefix := redistest.Prefix(t)
			return throttle.NewRedisLimiter(redistest.Open(t).Client(), prefix)
		},
	}
	for name, open := range limiters {
		t.Run(name, func(t *testing.T) {
			l := open(t)
			ctx := context.Background()
			allowed := 0
			var wait time.Duration
			for range 25 {
				ok, d, err := l.Allow(ctx, "client:a", 10)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					allowed++
				} else if wait == 0 {
					wait = d
				}
			}
			if allowed < 10 || allowed > 12 {
				t.Errorf("%d of 25 immediate requests allowed at 10/s, want about 10", allowed)
			}
			if wait <= 0 || wait > time.Second {
				t.Errorf("retry after %s", wait)
			}
			if ok, _, _ := l.Allow(ctx, "client:b", 10); !ok {
				t.Error("another key shares the budget")
			}
			if ok, _, _ := l.Allow(ctx, "client:a", 0); !ok {
				t.Error("a zero rate limited")
			}
			time.Sleep(250 * time.Millisecond)
			if ok, _, _ := l.Allow(ctx, "client:a", 10); !ok {
				t.Error("the budget did not refill")
			}
		})
	}
}

// TestLimitersPerMinute: a per-minute budget (the login rate) admits its
// burst, then asks for a wait of about one emission interval (60s/n);
// Peek agrees with it and spends nothing.
func TestLimitersPerMinute(t *testing.T) {
	limiters := map[string]func(t *testing.T) throttle.Limiter{
		"local": func(*testing.T) throttle.Limiter { return throttle.NewLocalLimiter() },
		"redis": func(t *testing.T) throttle.Limiter {
			_, prefix := redistest.Prefix(t)
			return throttle.NewRedisLimiter(redistest.Open(t).Client(), prefix)
		},
	}
	for name, open := range limiters {
		t.Run(name, func(t *testing.T) {
			l := open(t)
			ctx := context.Background()
			for range 10 {
				if ok, _, err := l.Peek(ctx, "login:frank", 6, time.Minute); !ok || err != nil {
					t.Fatalf("Peek on a fresh budget: ok=%v err=%v", ok, err)
				}
			}
			for i := range 6 {
				ok, wait, err := l.AllowPer(ctx, "login:frank", 6, time.Minute)
				if err != nil || !ok {
					t.Fatalf("login %d of a burst of 6: ok=%v wait=%s err=%v", i+1, ok, wait, err)
				}
			}
			ok, wait, err := l.AllowPer(ctx, "login:frank", 6, time.Minute)
			if err != nil || ok {
				t.Fatalf("7th login in a minute at 6/min: ok=%v err=%v", ok, err)
			}
			if wait < 5*time.Second || wait > 10*time.Second {
				t.Errorf("retry after %s, want about 10s", wait)
			}
			ok, peekWait, err := l.Peek(ctx, "login:frank", 6, time.Minute)
			if err != nil || ok || peekWait < 5*time.Second || peekWait > 10*time.Second {
				t.Errorf("Peek on a spent budget: ok=%v wait=%s err=%v, want false and about 10s", ok, peekWait, err)
			}
			if ok, _, _ := l.AllowPer(ctx, "login:grace", 6, time.Minute); !ok {
				t.Error("another username shares the budget")
			}
		})
	}
}
