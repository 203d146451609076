// Package bearer protects net/http handlers with Tollgate access tokens
// (RFC 6750). Authenticate reads and verifies the bearer token and puts
// its verify.Principal in the request context; Require, RequireScopes and
// RequireRoles then guard individual routes:
//
//	mux.Handle("GET /todos", bearer.RequireScopes("todos:read")(list))
//	mux.Handle("DELETE /todos/{id}", bearer.RequireRoles("admin")(remove))
//	http.ListenAndServe(addr, bearer.Authenticate(verifier)(mux))
//
// Failures follow RFC 6750 §3: 401 with WWW-Authenticate: Bearer (with
// error="invalid_token" or "invalid_request" when a token or header was
// sent and is bad), 403 with error="insufficient_scope", 503 when the
// issuer cannot be asked; each with a small JSON body
// {"error","error_description"[,"scope"]} and Cache-Control: no-store.
package bearer

import (
	"context"
	"net/http"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/clients/internal/guard"
	"github.com/tollgate/tollgate/clients/verify"
)

// Verifier validates a bearer token; *verify.Verifier implements it.
type Verifier interface {
	Verify(ctx context.Context, token string) (*verify.Principal, error)
}

// Authenticate verifies the request's bearer token, if any, and passes the
// request on with the token's Principal in its context (verify.FromContext).
// Without an Authorization header (or with another scheme) the request
// passes on with no Principal; a bad header or a token that fails
// verification is answered 401 (503 if the issuer cannot be asked) and
// goes no further.
func Authenticate(v Verifier, opts ...Option) func(http.Handler) http.Handler {
	d := guard.NewDPoP(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, f := guard.Authenticate(r, v.Verify, d)
			if f != nil {
				f.Write(w)
				return
			}
			if p != nil {
				r = r.WithContext(verify.NewContext(r.Context(), p))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Option configures Authenticate.
type Option func(*guard.DPoP)

// WithExternalURL sets the scheme, host and port clients address, e.g.
// "https://api.example.com", for a service behind a proxy or load
// balancer: DPoP proofs name the URL the client called (RFC 9449 §4.2,
// htu), which the request alone does not tell there. By default it is
// taken from the request (TLS state and Host header).
func WithExternalURL(origin string) Option {
	return func(d *guard.DPoP) { d.ExternalURL = origin }
}

// WithDPoPChecker replaces the checker of DPoP proofs, e.g. for one whose
// replay cache all replicas share (dpop.CheckerOptions.Replay). By
// default each Authenticate has its own, in memory.
func WithDPoPChecker(c *dpop.Checker) Option {
	return func(d *guard.DPoP) { d.Checker = c }
}

// Require answers 401 (RFC 6750 §3.1: with no error code) to requests
// without a Principal, which Authenticate must have set.
func Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := verify.FromContext(r.Context()); !ok {
			guard.NoToken().Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireScopes is Require, and answers 403 insufficient_scope, naming the
// scopes, unless the token has every one of them. It panics if a scope is
// not an RFC 6749 §3.3 scope-token or none is given.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	scopes = guard.MustNames("Scopes", scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := verify.FromContext(r.Context())
			if f := guard.Scopes(p, ok, scopes); f != nil {
				f.Write(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireRoles is Require, and answers 403 insufficient_scope unless the
// token has every one of the roles. It panics on names with spaces,
// quotes or backslashes, or if none is given.
func RequireRoles(roles ...string) func(http.Handler) http.Handler {
	roles = guard.MustNames("Roles", roles)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := verify.FromContext(r.Context())
			if f := guard.Roles(p, ok, roles); f != nil {
				f.Write(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
