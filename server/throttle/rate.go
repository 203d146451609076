package throttle

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limiter enforces request rates per key. perSecond <= 0 means no limit.
// Allow reports whether one more request fits, and if not how long to wait.
type Limiter interface {
	Allow(ctx context.Context, key string, perSecond int) (ok bool, retryAfter time.Duration, err error)
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
	if perSecond <= 0 {
		return true, 0, nil
	}
	res, err := r.l.Allow(ctx, r.prefix+key, redis_rate.PerSecond(perSecond))
	if err != nil {
		return true, 0, err
	}
	return res.Allowed > 0, res.RetryAfter, nil
}

// LocalLimiter is an in-process token-bucket limiter for a single node
// (the embedded default).
type LocalLimiter struct {
	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	l    *rate.Limiter
	rate int
}

// NewLocalLimiter returns an empty LocalLimiter.
func NewLocalLimiter() *LocalLimiter { return &LocalLimiter{m: map[string]*bucket{}} }

// Allow implements Limiter. The burst equals one second's worth.
func (l *LocalLimiter) Allow(_ context.Context, key string, perSecond int) (bool, time.Duration, error) {
	if perSecond <= 0 {
		return true, 0, nil
	}
	l.mu.Lock()
	b, ok := l.m[key]
	if !ok || b.rate != perSecond {
		if !ok && len(l.m) >= maxEntries {
			for k := range l.m { // random eviction: a fresh bucket is full
				delete(l.m, k)
				if len(l.m) < maxEntries*9/10 {
					break
				}
			}
		}
		b = &bucket{l: rate.NewLimiter(rate.Limit(perSecond), perSecond), rate: perSecond}
		l.m[key] = b
	}
	l.mu.Unlock()
	r := b.l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d, nil
	}
	return true, 0, nil
}
