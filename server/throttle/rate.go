package throttle

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limiter enforces request rates per key. perSecond (or n) <= 0 means no
// limit. Allow reports whether one more request fits, and if not how long
// to wait; AllowPer is the same for n requests per period, with a burst
// of n. Peek answers as AllowPer would, without spending anything.
type Limiter interface {
	Allow(ctx context.Context, key string, perSecond int) (ok bool, retryAfter time.Duration, err error)
	AllowPer(ctx context.Context, key string, n int, period time.Duration) (ok bool, retryAfter time.Duration, err error)
	Peek(ctx context.Context, key string, n int, period time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// RedisLimiter is a cluster-wide GCRA limiter on Redis (redis_rate): every
// node draws on the same budget.
type RedisLimiter struct {
	l      *redis_rate.Limiter
	prefix string
}

// NewRedisLimiter returns a limiter storing its state under prefix.
func NewRedisLimiter(c redis.UniversalClient, prefix string) *RedisLimiter {
	return &RedisLimiter{l: redis_rate.NewLimiter(c), prefix: prefix}
}

// Allow implements Limiter.
func (r *RedisLimiter) Allow(ctx context.Context, key string, perSecond int) (bool, time.Duration, error) {
	return r.AllowPer(ctx, key, perSecond, time.Second)
}

// AllowPer implements Limiter.
func (r *RedisLimiter) AllowPer(ctx context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	if n <= 0 || period <= 0 {
		return true, 0, nil
	}
	res, err := r.l.Allow(ctx, r.prefix+key, redis_rate.Limit{Rate: n, Burst: n, Period: period})
	if err != nil {
		return true, 0, err
	}
	return res.Allowed > 0, res.RetryAfter, nil
}

// Peek implements Limiter: GCRA at cost 0 reports what remains.
func (r *RedisLimiter) Peek(ctx context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	if n <= 0 || period <= 0 {
		return true, 0, nil
	}
	res, err := r.l.AllowN(ctx, r.prefix+key, redis_rate.Limit{Rate: n, Burst: n, Period: period}, 0)
	if err != nil {
		return true, 0, err
	}
	if res.Remaining >= 1 {
		return true, 0, nil
	}
	// One more fits once the theoretical arrival time is within n-1
	// emission intervals of now.
	return false, max(res.ResetAfter-time.Duration(n-1)*(period/time.Duration(n)), 0), nil
}

// LocalLimiter is an in-process token-bucket limiter for a single node
// (the embedded default).
type LocalLimiter struct {
	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	l      *rate.Limiter
	n      int
	period time.Duration
}

// NewLocalLimiter returns an empty LocalLimiter.
func NewLocalLimiter() *LocalLimiter { return &LocalLimiter{m: map[string]*bucket{}} }

// Allow implements Limiter. The burst equals one second's worth.
func (l *LocalLimiter) Allow(ctx context.Context, key string, perSecond int) (bool, time.Duration, error) {
	return l.AllowPer(ctx, key, perSecond, time.Second)
}

// AllowPer implements Limiter. The burst equals one period's worth.
func (l *LocalLimiter) AllowPer(_ context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	if n <= 0 || period <= 0 {
		return true, 0, nil
	}
	b := l.bucket(key, n, period)
	r := b.l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d, nil
	}
	return true, 0, nil
}

// Peek implements Limiter.
func (l *LocalLimiter) Peek(_ context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	if n <= 0 || period <= 0 {
		return true, 0, nil
	}
	now := time.Now()
	tokens := l.bucket(key, n, period).l.TokensAt(now)
	if tokens >= 1 {
		return true, 0, nil
	}
	return false, time.Duration((1 - tokens) * float64(period/time.Duration(n))), nil
}

// bucket returns the key's bucket for n per period, a full one if it is
// new or its rate changed.
func (l *LocalLimiter) bucket(key string, n int, period time.Duration) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok || b.n != n || b.period != period {
		if !ok && len(l.m) >= maxEntries {
			for k := range l.m { // random eviction: a fresh bucket is full
				delete(l.m, k)
				if len(l.m) < maxEntries*9/10 {
					break
				}
			}
		}
		b = &bucket{l: rate.NewLimiter(rate.Every(period/time.Duration(n)), n), n: n, period: period}
		l.m[key] = b
	}
	return b
}
