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
			s := redistest.Open(t)
			return throttle.NewRedisLimiter(s.Client(), "tgtest:rl:"+time.Now().Format("150405.000000000")+":")
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
