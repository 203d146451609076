// Package admin is Tollgate's admin API (/admin/v1): clients, users, API
// keys, subject-wide revocation, signing keys, trusted issuers, encrypted
// audiences and the audit log. Every
// call needs a bearer access token with the tollgate:admin scope, issued
// by Tollgate itself; errors are application/problem+json (RFC 9457).
package admin

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// ScopeAdmin is the scope an admin token must carry.
const ScopeAdmin = "tollgate:admin"

// ScopeAPIKeys lets a client (an application's backend) manage API keys
// of its own subjects (owner_type "subject") under /api-keys, and reach
// nothing else of the admin API.
const ScopeAPIKeys = "tollgate:apikeys"

// Prefix is where the admin API is mounted.
const Prefix = "/admin/v1"

// Introspector checks admin bearer tokens: signature, expiry and the
// node's revocation set; *introspection.Introspector implements it.
type Introspector interface {
	Introspect(ctx context.Context, tok, hint string) (*introspection.Result, error)
}

// Deps are what the admin handlers need.
type Deps struct {
	Registry *registry.Registry
	Clients  store.ClientStore
	Users    store.UserStore
	APIKeys  store.APIKeyStore
	Audit    store.AuditStore
	Keys     registry.KeyRing
	Tokens   Introspector
	Logger   *slog.Logger
	Now      func() time.Time
}

// Register mounts every admin route on r. The route list is here, with the
// one authentication rule that covers all of them.
func Register(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	k := r.Group(Prefix, requireAdmin(d.Tokens, d.Logger), storableInput)
	// tollgate:admin, or tollgate:apikeys for an application's subjects.
	k.POST("/api-keys", createAPIKey(d))
	k.GET("/api-keys", listAPIKeys(d))
	k.POST("/api-keys/revoke", revokeSubjectKeys(d))
	k.GET("/api-keys/:id", getAPIKey(d))
	k.PATCH("/api-keys/:id", updateAPIKey(d))
	k.DELETE("/api-keys/:id", revokeAPIKey(d))
	// tollgate:admin only.
	g := k.Group("", adminOnly)
	g.POST("/clients", createClient(d))
	g.GET("/clients", listClients(d))
	g.GET("/clients/:id", getClient(d))
	g.PATCH("/clients/:id", updateClient(d))
	g.DELETE("/clients/:id", deleteClient(d))
	g.POST("/clients/:id/secret", rotateSecret(d))
	g.POST("/clients/:id/revoke-tokens", revokeClientTokens(d))
	g.POST("/users", createUser(d))
	g.GET("/users", listUsers(d))
	g.GET("/users/:id", getUser(d))
	g.PATCH("/users/:id", updateUser(d))
	g.PUT("/users/:id/password", setPassword(d))
	g.DELETE("/users/:id", deleteUser(d))
	g.POST("/users/:id/revoke-tokens", revokeUserTokens(d))
	g.GET("/signing-keys", listSigningKeys(d))
	g.POST("/signing-keys/rotate", rotateSigningKey(d))
	g.GET("/audit", listAudit(d))
	// tollgate:admin only: trusted issuers of workload identity federation.
	g.POST("/issuers", createIssuer(d))
	g.GET("/issuers", listIssuers(d))
	g.PATCH("/issuers/:id", updateIssuer(d))
	g.DELETE("/issuers/:id", deleteIssuer(d))
	// tollgate:admin only: audiences that receive encrypted tokens. A
	// name is an aud value, often a URL: its slashes come percent-encoded
	// (%2F), which the engine routes on (UseRawPath).
	g.POST("/audiences", createAudience(d))
	g.GET("/audiences", listAudiences(d))
	g.GET("/audiences/:id", getAudience(d))
	g.PATCH("/audiences/:id", updateAudience(d))
	g.DELETE("/audiences/:id", deleteAudience(d))
	g.POST("/audiences/:id/rotate-key", rotateAudienceKey(d))
}
