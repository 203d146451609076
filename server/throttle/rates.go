package throttle

import (
	"context"
	"log/slog"
	"time"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// Rates applies the request-rate limits: per client (a client's own
// RateLimit, else Client) and per caller address (IP). Zero rates are
// off. A nil *Rates admits everything.
type Rates struct {
	Limiter    Limiter
	Client, IP int
	Logger     *slog.Logger
}

// AdmitClient reports an error if the client is over its rate.
func (r *Rates) AdmitClient(ctx context.Context, c *store.Client) error {
	if r == nil {
		return nil
	}
	rate := r.Client
	if c.RateLimit > 0 {
		rate = c.RateLimit
	}
	return r.admit(ctx, "client:"+c.ID, rate)
}

// AdmitIP reports an error if the address is over its rate.
func (r *Rates) AdmitIP(ctx context.Context, ip string) error {
	if r == nil {
		return nil
	}
	return r.admit(ctx, "ip:"+ip, r.IP)
}

func (r *Rates) admit(ctx context.Context, key string, rate int) error {
	if rate <= 0 {
		return nil
	}
	ok, wait, err := r.Limiter.Allow(ctx, key, rate)
	if err != nil {
		// A limiter that cannot be reached must not take the token service
		// down with it: admit, and say so.
		if r.Logger != nil {
			r.Logger.LogAttrs(ctx, slog.LevelWarn, "rate limiter unavailable; admitting", slog.String("error", err.Error()))
		}
		return nil
	}
	if ok {
		return nil
	}
	return &oauth.Error{Code: oauth.TemporarilyUnavailable, Description: "rate limit exceeded; retry after the time in Retry-After", RetryAfter: max(wait, time.Second)}
}
