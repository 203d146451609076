package server

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/throttle"
)

// DefaultRevocationRate is Deps.RevocationRate's default: revocation
// requests per second per client (the burst is one second's worth).
const DefaultRevocationRate = 50

// revocationBudget bounds the revocation requests of each client. Every
// request counts, repeats and unknown tokens too: a repeat writes nothing,
// but a flood of them still costs each node a verification and a lookup.
// RFC 7009 §5 leaves such measures to the server.
type revocationBudget struct {
	limiter throttle.Limiter
	rate    int // <= 0: off
	log     *slog.Logger
}

func newRevocationBudget(l throttle.Limiter, rate int, log *slog.Logger) *revocationBudget {
	if rate == 0 {
		rate = DefaultRevocationRate
	}
	if l == nil {
		l = throttle.NewLocalLimiter()
	}
	return &revocationBudget{limiter: l, rate: rate, log: log}
}

// admit reports whether the client may revoke now; if not it has answered
// 429 with Retry-After. A limiter that cannot be reached admits, as the
// request-rate limits do: revoking must keep working when Redis is not.
func (b *revocationBudget) admit(c *gin.Context, clientID string) bool {
	if b.rate <= 0 {
		return true
	}
	ok, wait, err := b.limiter.Allow(c.Request.Context(), "revoke:"+clientID, b.rate)
	if err != nil {
		b.log.LogAttrs(c.Request.Context(), slog.LevelWarn, "revocation budget unavailable; admitting", slog.String("error", err.Error()))
		return true
	}
	if ok {
		return true
	}
	c.Set(ctxErrorCode, "revocation_budget")
	tooMany(c, max(wait, time.Second), "revocation budget exceeded")
	return false
}

// revocationLimiter is the limiter behind the request-rate limits, if
// any, so that with Redis the revocation budget is cluster-wide too.
func revocationLimiter(r *throttle.Rates) throttle.Limiter {
	if r == nil {
		return nil
	}
	return r.Limiter
}
