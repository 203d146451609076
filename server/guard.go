package server

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/throttle"
	"github.com/tollgate/tollgate/store"
)

// Default failure budgets. A client or username is locked out per caller
// address first, so an attacker elsewhere cannot lock a victim out; an
// address that fails across many identities has its own, larger budget.
var (
	DefaultPairLockout = throttle.LockoutPolicy{Threshold: 10, Base: time.Second, Max: 5 * time.Minute, Forget: 15 * time.Minute}
	DefaultIPLockout   = throttle.LockoutPolicy{Threshold: 100, Base: time.Second, Max: time.Minute, Forget: 15 * time.Minute}
)

// guard applies the failure budgets to client and user authentication
// (RFC 6749 §4.3.2 asks for brute-force protection on the password grant;
// client secrets get the same).
type guard struct {
	pairs, ips *throttle.Lockout
	rates      *throttle.Rates
}

func newGuard(pair, ip throttle.LockoutPolicy, rates *throttle.Rates, now func() time.Time) *guard {
	return &guard{pairs: throttle.NewLockout(pair, now), ips: throttle.NewLockout(ip, now), rates: rates}
}

// attempt names what an authentication attempt is made as.
type attempt struct {
	ip, clientID, username string
}

func (a attempt) keys() []string {
	var ks []string
	if a.clientID != "" {
		ks = append(ks, "client\x00"+a.clientID+"\x00"+a.ip)
	}
	if a.username != "" {
		ks = append(ks, "user\x00"+a.username+"\x00"+a.ip)
	}
	return ks
}

// locked answers 429 and reports true if any of the attempt's keys is
// locked out, or the address is over its request rate; nothing is checked
// then, so a locked-out caller costs no hashing either.
func (g *guard) locked(c *gin.Context, a attempt) bool {
	if err := g.rates.AdmitIP(c.Request.Context(), a.ip); err != nil {
		var oe *oauth.Error
		if errors.As(err, &oe) {
			c.Set(ctxErrorCode, "rate_limited")
			tooMany(c, oe.RetryAfter, "request rate limit exceeded")
			return true
		}
	}
	wait := g.ips.Locked(a.ip)
	for _, k := range a.keys() {
		wait = max(wait, g.pairs.Locked(k))
	}
	if wait <= 0 {
		return false
	}
	tooMany(c, wait, "too many failed attempts")
	return true
}

// failed records a failed authentication.
func (g *guard) failed(a attempt) {
	g.ips.Fail(a.ip)
	for _, k := range a.keys() {
		g.pairs.Fail(k)
	}
}

// succeeded clears the identities' budgets (not the address's: successes
// with one identity must not buy failures with others).
func (g *guard) succeeded(a attempt) {
	for _, k := range a.keys() {
		g.pairs.Succeed(k)
	}
}

// authFailure reports whether err means the caller's credentials were
// wrong: a bad client secret, a bad username or password, or a bad API key.
func authFailure(err error, grantType string) bool {
	oe, ok := err.(*oauth.Error)
	if !ok {
		return false
	}
	return oe.Code == oauth.InvalidClient ||
		(oe.Code == oauth.InvalidGrant && (grantType == grant.Password || grantType == grant.TokenExchange))
}

// errAnswered is returned by helpers that have already written the
// response (a lockout's 429).
var errAnswered = errors.New("response already written")

// authenticate checks client credentials under the failure budgets.
func (g *guard) authenticate(c *gin.Context, auth ClientAuthenticator, cc clientCredentials) (*store.Client, error) {
	a := attempt{ip: c.ClientIP(), clientID: cc.ID}
	if g.locked(c, a) {
		return nil, errAnswered
	}
	cl, err := auth.Authenticate(c.Request.Context(), cc.ID, cc.Secret)
	if err != nil {
		if authFailure(err, "") {
			g.failed(a)
		}
		return nil, err
	}
	g.succeeded(a)
	if err := g.rates.AdmitClient(c.Request.Context(), cl); err != nil {
		return nil, err
	}
	c.Set(ctxClientID, cl.ID)
	return cl, nil
}

// tooMany answers 429 with Retry-After, in the OAuth error format, so that
// clients back off instead of retrying.
func tooMany(c *gin.Context, wait time.Duration, why string) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	c.Header("Retry-After", strconv.Itoa(secs))
	if c.GetString(ctxErrorCode) == "" {
		c.Set(ctxErrorCode, "locked_out")
	}
	noStore(c)
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{
		"error":             oauth.TemporarilyUnavailable,
		"error_description": why + "; retry after " + strconv.Itoa(secs) + " seconds",
	})
}
