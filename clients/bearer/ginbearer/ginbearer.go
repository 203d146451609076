// Package ginbearer protects Gin routes with Tollgate access tokens, with
// the same rules and responses as package bearer:
//
//	r.Use(ginbearer.Authenticate(verifier))
//	r.GET("/todos", ginbearer.RequireScopes("todos:read"), list)
//	r.DELETE("/todos/:id", ginbearer.RequireRoles("admin"), remove)
//
// The Principal is in the request context:
// verify.FromContext(c.Request.Context()).
package ginbearer

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/internal/guard"
	"github.com/tollgate/tollgate/clients/verify"
)

// Verifier validates a bearer token; *verify.Verifier implements it.
type Verifier interface {
	Verify(ctx context.Context, token string) (*verify.Principal, error)
}

// Authenticate verifies the request's bearer token, if any, and puts its
// Principal in c.Request's context. Without a token the request goes on
// with no Principal; a bad header or token is answered 401 (503 if the
// issuer cannot be asked) and the chain is aborted.
func Authenticate(v Verifier, opts ...bearer.Option) gin.HandlerFunc {
	d := guard.NewDPoP(opts)
	return func(c *gin.Context) {
		p, f := guard.Authenticate(c.Request, v.Verify, d)
		if f != nil {
			abort(c, f)
			return
		}
		if p != nil {
			c.Request = c.Request.WithContext(verify.NewContext(c.Request.Context(), p))
		}
	}
}

// Require answers 401 (with no error code) to requests without a
// Principal, which Authenticate must have set.
func Require(c *gin.Context) {
	if _, ok := verify.FromContext(c.Request.Context()); !ok {
		abort(c, guard.NoToken())
	}
}

// RequireScopes is Require, and answers 403 insufficient_scope, naming the
// scopes, unless the token has every one of them. It panics if a scope is
// not an RFC 6749 §3.3 scope-token or none is given.
func RequireScopes(scopes ...string) gin.HandlerFunc {
	scopes = guard.MustNames("Scopes", scopes)
	return func(c *gin.Context) {
		p, ok := verify.FromContext(c.Request.Context())
		if f := guard.Scopes(p, ok, scopes); f != nil {
			abort(c, f)
		}
	}
}

// RequireRoles is Require, and answers 403 insufficient_scope unless the
// token has every one of the roles. It panics on names with spaces,
// quotes or backslashes, or if none is given.
func RequireRoles(roles ...string) gin.HandlerFunc {
	roles = guard.MustNames("Roles", roles)
	return func(c *gin.Context) {
		p, ok := verify.FromContext(c.Request.Context())
		if f := guard.Roles(p, ok, roles); f != nil {
			abort(c, f)
		}
	}
}

func abort(c *gin.Context, f *guard.Failure) {
	c.Abort()
	f.Write(c.Writer)
}
