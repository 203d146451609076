package server

import (
	"context"
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

// Default failure budgets (see the README's "Brute-force protection").
// A failed client secret counts against the client and the caller's
// address, a failed password against the username and the address: first
// per (identity, address), so an attacker elsewhere cannot lock a victim
// out, then per username across every address, so that spreading guesses
// over many addresses does not escape. Addresses are IPv4 addresses and
// IPv6 /64s (throttle.AddressKey). An address that fails across many
// identities (password spraying) has its own, larger budget.
//
// The per-username budget is the one an attacker can spend for a victim
// from anywhere, so it is large (50 free failures) and its lockout short
// and bounded (1 s doubling to at most 1 minute, never longer): it slows
// a distributed guesser to about one guess a minute per node, while a
// victim waits at most a minute after each such guess. Successes do not
// reset it; an hour without a failure does.
var (
	DefaultPairLockout = throttle.LockoutPolicy{Threshold: 10, Base: time.Second, Max: 5 * time.Minute, Forget: 15 * time.Minute}
	DefaultIPLockout   = throttle.LockoutPolicy{Threshold: 100, Base: time.Second, Max: time.Minute, Forget: 15 * time.Minute}
	DefaultUserLockout = throttle.LockoutPolicy{Threshold: 50, Base: time.Second, Max: time.Minute, Forget: time.Hour}
)

// guard applies the failure budgets to client and user authentication
// (RFC 6749 §4.3.2 asks for brute-force protection on the password grant;
// client secrets get the same).
type guard struct {
	pairs, ips *throttle.Lockout
	// users budgets each username across every address.
	users *throttle.Lockout
	rates *throttle.Rates
}

func newGuard(pair, ip throttle.LockoutPolicy, rates *throttle.Rates, now func() time.Time) *guard {
	return &guard{
		pairs: throttle.NewLockout(pair, now), ips: throttle.NewLockout(ip, now),
		users: throttle.NewLockout(DefaultUserLockout, now), rates: rates,
	}
}

// attempt names what an authentication attempt is made as. ip is the
// caller's budget address (callerAddress).
type attempt struct {
	ip, clientID, username string
}

// callerAddress is the request's budget address: the client IP (from
// X-Forwarded-For only behind a trusted proxy), IPv6 by its /64.
func callerAddress(c *gin.Context) string {
	return throttle.AddressKey(c.ClientIP())
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

// userKey is the username's budget across every address.
func (a attempt) userKey() string { return "user\x00" + a.username }

// locked answers 429 and reports true if any of the attempt's keys is
// locked out, or the address or username is over its request rate;
// nothing is checked then, so a locked-out caller costs no hashing either.
func (g *guard) locked(c *gin.Context, a attempt) bool {
	ctx := c.Request.Context()
	if g.overRate(c, g.rates.AdmitIP(ctx, a.ip)) {
		return true
	}
	wait := g.ips.Locked(a.ip)
	for _, k := range a.keys() {
		wait = max(wait, g.pairs.Locked(k))
	}
	if a.username != "" {
		wait = max(wait, g.users.Locked(a.userKey()))
	}
	if wait > 0 {
		tooMany(c, wait, "too many failed attempts")
		return true
	}
	// Only successful logins spend the login rate (succeeded).
	return a.username != "" && g.overRate(c, g.rates.AdmitLogin(ctx, a.username))
}

// overRate answers 429 if err is a rate limit's refusal.
func (g *guard) overRate(c *gin.Context, err error) bool {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return false
	}
	c.Set(ctxErrorCode, "rate_limited")
	tooMany(c, oe.RetryAfter, "request rate limit exceeded")
	return true
}

// failed records a failed authentication against the address and each of
// the attempt's identities (narrow it with blamed first).
func (g *guard) failed(a attempt) {
	g.ips.Fail(a.ip)
	for _, k := range a.keys() {
		g.pairs.Fail(k)
	}
	if a.username != "" {
		g.users.Fail(a.userKey())
	}
}

// succeeded clears the identities' budgets at this address (not the
// address's: successes with one identity must not buy failures with
// others; nor the username's across addresses, which a success from one
// address says nothing about), and spends one of the user's logins.
func (g *guard) succeeded(ctx context.Context, a attempt) {
	for _, k := range a.keys() {
		g.pairs.Succeed(k)
	}
	if a.username != "" {
		g.rates.CountLogin(ctx, a.username)
	}
}

// blamed narrows a to the identity err blames, and reports false if err
// is no credential failure. invalid_client blames the client (RFC 6749
// §5.2). invalid_grant on the password grant blames the user alone: the
// engine authenticates the client first (§4.3.2), so a wrong password says
// nothing about the client's secret, and counting it against the client
// would let guesses at made-up usernames through one web client lock every
// user of that client out. On token exchange it blames the API key, which
// is budgeted by address only. A disabled client proved its secret: no
// failure.
func blamed(a attempt, err error, grantType string) (attempt, bool) {
	oe, ok := err.(*oauth.Error)
	switch {
	case !ok, errors.Is(err, grant.ErrClientDisabled):
		return attempt{}, false
	case oe.Code == oauth.InvalidClient:
		return attempt{ip: a.ip, clientID: a.clientID}, true
	case oe.Code == oauth.InvalidGrant && grantType == grant.Password:
		return attempt{ip: a.ip, username: a.username}, true
	case oe.Code == oauth.InvalidGrant && grantType == grant.TokenExchange:
		return attempt{ip: a.ip}, true
	}
	return attempt{}, false
}

// errAnswered is returned by helpers that have already written the
// response (a lockout's 429).
var errAnswered = errors.New("response already written")

// authenticate checks client credentials under the failure budgets.
func (g *guard) authenticate(c *gin.Context, auth ClientAuthenticator, cc clientCredentials) (*store.Client, error) {
	a := attempt{ip: callerAddress(c), clientID: cc.ID}
	if g.locked(c, a) {
		return nil, errAnswered
	}
	var cl *store.Client
	var err error
	if cc.Assertion != "" {
		cl, err = auth.AuthenticateAssertion(c.Request.Context(), cc.ID, cc.Assertion)
	} else {
		cl, err = auth.Authenticate(c.Request.Context(), cc.ID, cc.Secret)
	}
	if err != nil {
		if b, ok := blamed(a, err, ""); ok {
			g.failed(b)
		}
		return nil, err
	}
	g.succeeded(c.Request.Context(), a)
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
