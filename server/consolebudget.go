package server

import (
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/oauth"
)

// consoleBudget lets the admin console's sign-in spend the same failure
// budgets and login rates as the password grant (console.Budget): a wrong
// console password counts against the username and the address exactly
// as a wrong password at the token endpoint does, so neither door is a
// way around the other.
type consoleBudget struct{ g *guard }

// Wait returns how long the caller must wait before trying username, 0 if
// it may try now. It answers nothing itself (guard.locked writes an OAuth
// error; the console renders a page), but marks the request for
// tollgate_throttled_total as guard.locked does.
func (b consoleBudget) Wait(c *gin.Context, username string) time.Duration {
	g, ctx := b.g, c.Request.Context()
	a := attempt{ip: callerAddress(c), username: username}
	if w, ok := refusal(g.rates.AdmitIP(ctx, a.ip)); ok {
		c.Set(ctxErrorCode, "rate_limited")
		return w
	}
	wait := g.ips.Locked(a.ip)
	for _, k := range a.keys() {
		wait = max(wait, g.pairs.Locked(k))
	}
	wait = max(wait, g.users.Locked(a.userKey()))
	if wait > 0 {
		c.Set(ctxErrorCode, "locked_out")
		return wait
	}
	if w, ok := refusal(g.rates.AdmitLogin(ctx, username)); ok {
		c.Set(ctxErrorCode, "rate_limited")
		return w
	}
	return 0
}

// Failed records a wrong password for username from the caller's address.
func (b consoleBudget) Failed(c *gin.Context, username string) {
	b.g.failed(attempt{ip: callerAddress(c), username: username})
}

// Succeeded clears the username's budget at the caller's address and
// spends one of its logins.
func (b consoleBudget) Succeeded(c *gin.Context, username string) {
	b.g.succeeded(c.Request.Context(), attempt{ip: callerAddress(c), username: username})
}

// refusal reports the wait of a rate limit's refusal.
func refusal(err error) (time.Duration, bool) {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return 0, false
	}
	return max(oe.RetryAfter, time.Second), true
}
