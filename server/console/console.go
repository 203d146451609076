// Package console is Tollgate's admin web console, served at /console:
// server-rendered pages (html/template) and a few static assets, all
// embedded in the binary. People sign in with the username and password
// of a user whose roles grant tollgate:admin; every change goes through
// the registry, as the admin API's do, and is audited with that user as
// the actor.
package console

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// Prefix is where the console is mounted.
const Prefix = "/console"

// PasswordVerifier checks a username and password as the password grant
// does (same argon2id limits); *grant.Engine implements it. Its error
// contract is grant.Engine.VerifyUser's.
type PasswordVerifier interface {
	VerifyUser(ctx context.Context, username, password string) (*store.User, error)
}

// Budget is the server's failure budgets and login rates, shared with the
// password grant.
type Budget interface {
	// Wait returns how long the caller must wait before trying username
	// (0: it may try now).
	Wait(c *gin.Context, username string) time.Duration
	// Failed records a wrong password; Succeeded a right one.
	Failed(c *gin.Context, username string)
	Succeeded(c *gin.Context, username string)
}

// Deps are what the console needs.
type Deps struct {
	Registry *registry.Registry
	Clients  store.ClientStore
	Users    store.UserStore
	APIKeys  store.APIKeyStore
	Audit    store.AuditStore
	Keys     registry.KeyRing
	// Passwords checks sign-ins; Budget (filled in by package server)
	// applies the failure budgets to them.
	Passwords PasswordVerifier
	Budget    Budget
	// Stats feeds the overview's charts (nil: no charts).
	Stats *Stats
	// Secure marks the session cookie Secure: set it when the issuer is
	// https.
	Secure bool
	// IdleTimeout and MaxAge end sessions (zero: DefaultIdleTimeout and
	// DefaultMaxAge).
	IdleTimeout, MaxAge time.Duration
	Logger              *slog.Logger
	Now                 func() time.Time
}

// Session lifetimes.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 8 * time.Hour
)

// Register mounts the console on r. The route list is here, with its
// authentication rules.
func Register(r gin.IRouter, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handlers{Deps: d, pages: mustParse(), sessions: newSessions(d.Now, cmpOr(d.IdleTimeout, DefaultIdleTimeout), cmpOr(d.MaxAge, DefaultMaxAge))}
	g := r.Group(Prefix, securityHeaders)
	// Public: the assets, and the sign-in form (its POST carries a
	// pre-session CSRF token in a cookie and the form).
	g.GET("/static/:file", static)
	g.GET("/sign-in", h.signInForm)
	g.POST("/sign-in", h.signIn)
	// A session of a user who is (still) an enabled admin; every POST also
	// needs the session's CSRF token.
	s := g.Group("", h.requireSession)
	s.GET("", h.home)
	s.POST("/sign-out", h.signOut)
	s.GET("/overview", h.overview)
	s.GET("/clients", h.listClients)
	s.GET("/clients/new", h.newClient)
	s.POST("/clients/new", h.createClient)
	s.GET("/clients/:id", h.showClient)
	s.POST("/clients/:id", h.updateClient)
	s.POST("/clients/:id/rotate-secret", h.rotateSecret)
	s.POST("/clients/:id/revoke-tokens", h.revokeClientTokens)
	s.POST("/clients/:id/delete", h.deleteClient)
	s.POST("/clients/:id/disable", h.setClientDisabled)
	s.GET("/users", h.listUsers)
	s.GET("/users/new", h.newUser)
	s.POST("/users/new", h.createUser)
	s.GET("/users/:id", h.showUser)
	s.POST("/users/:id", h.updateUser)
	s.POST("/users/:id/password", h.setPassword)
	s.POST("/users/:id/revoke-tokens", h.revokeUserTokens)
	s.POST("/users/:id/delete", h.deleteUser)
	s.GET("/api-keys", h.listAPIKeys)
	s.GET("/api-keys/new", h.newAPIKey)
	s.POST("/api-keys/new", h.createAPIKey)
	s.POST("/api-keys/:id/revoke", h.revokeAPIKey)
	s.GET("/signing-keys", h.signingKeys)
	s.POST("/signing-keys/rotate", h.rotateSigningKey)
	s.GET("/audit", h.audit)
}

// handlers holds the console's state: its templates and sessions.
type handlers struct {
	Deps
	pages    *pages
	sessions *sessions
}

// securityHeaders sets the console's headers on every answer: a strict
// CSP (no inline script or style, no framing, forms only to the console
// itself), no referrer (URLs carry IDs), no MIME sniffing, and no caching
// of pages that may show a secret once.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Next()
}

func (h *handlers) home(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, Prefix+"/overview")
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
