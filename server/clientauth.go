package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/store"
)

// ScopeIntrospect is the scope a client needs to call introspection and
// the revocation feed.
const ScopeIntrospect = "tollgate:introspect"

// ClientAuthenticator checks client credentials in constant time;
// *grant.Engine implements it.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, clientID, clientSecret string) (*store.Client, error)
	// AuthenticateAssertion checks a JWT client assertion (RFC 7523 §3)
	// instead of a secret.
	AuthenticateAssertion(ctx context.Context, clientID, assertion string) (*store.Client, error)
}

// authenticateForm authenticates the client of a form POST (revocation,
// introspection) the same way the token endpoint does.
func authenticateForm(c *gin.Context, auth ClientAuthenticator, g *guard) (*store.Client, url.Values, error) {
	form, err := parseForm(c.Request)
	if err != nil {
		return nil, nil, err
	}
	cc, err := extractClient(c.Request, form)
	if err != nil {
		return nil, nil, err
	}
	cl, err := g.authenticate(c, auth, cc)
	return cl, form, err
}

// authenticateBasic authenticates a GET request's client from HTTP Basic.
func authenticateBasic(c *gin.Context, auth ClientAuthenticator, g *guard) (*store.Client, error) {
	cc, err := extractClient(c.Request, nil)
	if err != nil {
		return nil, err
	}
	return g.authenticate(c, auth, cc)
}

// requireIntrospector answers 403 unless the client may read token state.
func requireIntrospector(c *gin.Context, cl *store.Client) bool {
	if slices.Contains(cl.Scopes, ScopeIntrospect) {
		return true
	}
	c.Set(ctxErrorCode, "insufficient_scope")
	noStore(c)
	c.JSON(http.StatusForbidden, gin.H{
		"error":             "insufficient_scope",
		"error_description": "this client may not read token state; give it the " + ScopeIntrospect + ` scope (tollgate client create --scopes "` + ScopeIntrospect + `")`,
	})
	return false
}
