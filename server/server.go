// Package server is Tollgate's HTTP layer (Gin). It depends on store
// interfaces and on the grant engine adapter, never on a database driver.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/console"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/metrics"
	"github.com/tollgate/tollgate/server/throttle"
	"github.com/tollgate/tollgate/store"
)

// TokenIssuer runs token requests; *grant.Engine implements it.
type TokenIssuer interface {
	Token(ctx context.Context, req *grant.Request) (*grant.Token, error)
	// Exchange serves the token-exchange grant (API keys, RFC 8693); it
	// checks client credentials only when req carries some.
	Exchange(ctx context.Context, req *grant.Request) (*grant.Token, error)
}

// KeySet publishes the signing keys and finds them for verification;
// *keys.Manager implements it.
type KeySet interface {
	accesstoken.KeySource
	// JWKS returns the JSON Web Key Set document, ready to serve.
	JWKS() []byte
}

// Check is one readiness probe, e.g. a database ping.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Deps are what the handlers need.
type Deps struct {
	Issuer       string
	Tokens       TokenIssuer
	Auth         ClientAuthenticator
	Keys         KeySet
	Clients      store.ClientStore
	Refresh      store.RefreshTokenStore
	Introspector Introspector
	Revocations  RevocationSet
	// Decrypter opens encrypted access tokens presented for revocation
	// (nil: such a token is unknown here).
	Decrypter Decrypter
	// AudienceKeys serves the decryption keys of encrypted audiences at
	// /oauth2/audience-keys (nil: no audience is encrypted).
	AudienceKeys AudienceKeys
	// ClockSkew is the leeway on token times; RefreshTTL the server's
	// default refresh-token lifetime.
	ClockSkew  time.Duration
	RefreshTTL time.Duration
	// PairLockout and IPLockout are the failure budgets (zero values:
	// DefaultPairLockout and DefaultIPLockout).
	PairLockout, IPLockout throttle.LockoutPolicy
	// Tracer, when set, traces every request (OpenTelemetry).
	Tracer trace.TracerProvider
	// Metrics receives request metrics (nil: a private registry).
	Metrics *metrics.Metrics
	// MetricsRoute serves /metrics on this handler (no authentication:
	// keep it off public listeners, or serve metrics on their own port).
	MetricsRoute bool
	// Rates are the request-rate limits (nil: none).
	Rates *throttle.Rates
	// RevocationRate is each client's revocation budget, in requests per
	// second on POST /oauth2/revoke (0: DefaultRevocationRate; negative:
	// off). It draws on Rates' limiter (cluster-wide with Redis), else a
	// local one.
	RevocationRate int
	// Streams caps revocation streams (zero fields: the defaults).
	Streams StreamLimits
	// TrustedProxies are the addresses (IPs or CIDRs) whose
	// X-Forwarded-For is believed; none by default, so the client address
	// is the connection's.
	TrustedProxies []string
	// PublicScopes are the scopes discovery advertises in scopes_supported
	// (none: the field is omitted).
	PublicScopes []string
	// Admin configures the admin API; nil leaves it out.
	Admin *admin.Deps
	// Console configures the admin console at /console (its Budget is
	// filled in here); nil leaves it out.
	Console *console.Deps
	// Checks run on GET /readyz.
	Checks []Check
	// Draining is closed when the server starts shutting down: open
	// revocation streams then end (their clients resume on another node
	// with Last-Event-ID), so that the drain need not wait for them. Nil:
	// streams end only with their connection or the node's feed.
	Draining <-chan struct{}
	// DPoPNonceKey, when set, makes the token endpoint require a nonce of
	// its own in every DPoP proof (RFC 9449 §8), made and checked with this
	// key: the same on every node (derive it from the master key).
	DPoPNonceKey []byte
	Logger       *slog.Logger
	Now          func() time.Time
}

var releaseMode sync.Once

// New returns the HTTP handler serving every Tollgate endpoint.
func New(d Deps) http.Handler {
	releaseMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New(nil, nil, nil)
	}
	if d.PairLockout == (throttle.LockoutPolicy{}) {
		d.PairLockout = DefaultPairLockout
	}
	if d.IPLockout == (throttle.LockoutPolicy{}) {
		d.IPLockout = DefaultIPLockout
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = false
	// Route on the path as sent, so that a percent-encoded slash stays
	// inside one segment: an audience's name is often a URL
	// (/admin/v1/audiences/https:%2F%2Fapi.example.com). Parameters are
	// still decoded.
	r.UseRawPath = true
	// Gin trusts every proxy by default; trust only the configured ones
	// (validated by config), so that X-Forwarded-For cannot dodge the
	// failure budgets.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(requestLog(d.Logger, d.Metrics), recovery(d.Logger))
	if d.Tracer != nil {
		r.Use(tracing(d.Tracer))
	}
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)
	routes(r, d)
	return r
}
