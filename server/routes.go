package server

import (
	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/console"
)

// Endpoint paths, also advertised in the RFC 8414 metadata.
const (
	pathToken           = "/oauth2/token"
	pathIntrospect      = "/oauth2/introspect"
	pathRevoke          = "/oauth2/revoke"
	pathRevocations     = "/oauth2/revocations"
	pathRevocationsFeed = "/oauth2/revocations/stream"
	pathAudienceKeys    = "/oauth2/audience-keys"
	pathJWKS            = "/.well-known/jwks.json"
	pathMetadata        = "/.well-known/oauth-authorization-server"
	pathMetrics         = "/metrics"
)

// routes lists every route and its authentication rule.
func routes(r *gin.Engine, d Deps) {
	// Every client, user and API-key authentication runs under these
	// failure budgets.
	g := newGuard(d.PairLockout, d.IPLockout, d.Rates, d.Now)
	// Client authentication (Basic or form credentials), inside the engine.
	r.POST(pathToken, tokenHandler(d.Tokens, g, newTokenProofs(d), d.Logger))
	// Client authentication; a client may revoke only its own tokens.
	rv := &revoker{keys: d.Keys, dec: d.Decrypter, set: d.Revocations, refresh: d.Refresh, issuer: d.Issuer, skew: d.ClockSkew, refreshTTL: d.RefreshTTL, now: d.Now}
	r.POST(pathRevoke, revokeHandler(d.Auth, g, newRevocationBudget(revocationLimiter(d.Rates), d.RevocationRate, d.Logger), rv, d.Logger))
	// Client authentication and the tollgate:introspect scope.
	r.POST(pathIntrospect, introspectHandler(d.Auth, g, d.Introspector, d.Logger))
	r.GET(pathRevocations, revocationsHandler(d.Auth, g, d.Revocations, d.Logger))
	slots := newStreamSlots(d.Streams, func(n int) { d.Metrics.RevocationStreams.Set(float64(n)) })
	r.GET(pathRevocationsFeed, revocationStreamHandler(d.Auth, g, d.Revocations, slots, d.Draining, d.Logger))
	// Client authentication as for introspection (GET: HTTP Basic; POST:
	// form credentials or private_key_jwt) and the tollgate:decrypt
	// scope; only the keys of the client's own encrypted audiences.
	keysH := audienceKeysHandler(d.Auth, g, d.AudienceKeys, d.Logger)
	r.GET(pathAudienceKeys, keysH)
	r.POST(pathAudienceKeys, keysH)
	// Public: discovery documents and probes carry no secrets.
	r.GET(pathMetadata, metadataHandler(d.Issuer, d.PublicScopes))
	r.GET(pathJWKS, jwksHandler(d.Keys))
	// Public (authentication: none): the OpenAPI document holds no secrets.
	r.GET(pathOpenAPI, openAPIHandler())
	r.GET("/healthz", healthHandler)
	// Bearer token with the tollgate:admin scope (see package admin).
	if d.Admin != nil {
		admin.Register(r, *d.Admin)
		// Bearer token of a user from the password grant (not bought with
		// an API key): the user's own API keys.
		admin.RegisterAccount(r, *d.Admin)
	}
	// A console session: the username and password of a user whose roles
	// grant tollgate:admin, under the password grant's failure budgets,
	// and the session's CSRF token on every POST (see package console).
	if d.Console != nil {
		cd := *d.Console
		cd.Budget = consoleBudget{g}
		console.Register(r, cd)
	}
	r.GET("/readyz", readyHandler(d.Checks, d.Logger))
	// None: Prometheus metrics carry no secrets or identities; operators
	// move them to their own port with TOLLGATE_METRICS_ADDR.
	if d.MetricsRoute {
		r.GET(pathMetrics, gin.WrapH(d.Metrics.Handler()))
	}
}
