package throttle

import (
	"context"
	"log/slog"
	"time"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// Rates applies the request-rate limits: per client (a client's own
// RateLimit, else Client) and per caller address (IP), per second, and
// password logins per username (Login, per minute). Zero rates are off. A
// nil *Rates admits everything.
type Rates struct {
	Limiter    Limiter
	Client, IP int
	// Login bounds successful password logins per username per minute,
	// so that one account's logins (a client looping, or a leaked
	// password in use) cannot take every argon2id slot. Only successes
	// count (CountLogin): wrong passwords are the lockouts' business, and
	// counting them would let anyone lock a user out for free.
	Login  int
	Logger *slog.Logger
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

// AdmitLogin reports an error if the username has used up its login
// rate; it spends nothing (CountLogin does).
func (r *Rates) AdmitLogin(ctx context.Context, username string) error {
	if r == nil || r.Login <= 0 {
		return nil
	}
	ok, wait, err := r.Limiter.Peek(ctx, loginKey(username), r.Login, time.Minute)
	return r.answer(ctx, ok, wait, err)
}

// CountLogin spends one of the username's logins.
func (r *Rates) CountLogin(ctx context.Context, username string) {
	if r == nil || r.Login <= 0 {
		return
	}
	_, _, err := r.Limiter.AllowPer(ctx, loginKey(username), r.Login, time.Minute)
	_ = r.answer(ctx, true, 0, err)
}

func loginKey(username string) string { return "login:" + username }

func (r *Rates) admit(ctx context.Context, key string, rate int) error {
	if rate <= 0 {
		return nil
	}
	ok, wait, err := r.Limiter.Allow(ctx, key, rate)
	return r.answer(ctx, ok, wait, err)
}

// answer turns a limiter's verdict into nil or a 429 error.
func (r *Rates) answer(ctx context.Context, ok bool, wait time.Duration, err error) error {
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
