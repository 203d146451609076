package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/oauth"
)

// Introspector answers RFC 7662 requests; *introspection.Introspector
// implements it.
type Introspector interface {
	Introspect(ctx context.Context, tok, hint string) (*introspection.Result, error)
}

// introspectHandler serves POST /oauth2/introspect (RFC 7662). The caller
// authenticates as a client holding the tollgate:introspect scope; without
// credentials it gets 401, without the scope 403, never token data. A
// node that cannot vouch for its revocation set answers 503 with
// Retry-After for a token that is otherwise valid.
func introspectHandler(auth ClientAuthenticator, g *guard, in Introspector, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, form, err := authenticateForm(c, auth, g)
		if err != nil {
			renderOAuthError(c, log, err, true)
			return
		}
		if !requireIntrospector(c, cl) {
			return
		}
		tok := form.Get("token")
		if tok == "" {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "token is required"), true)
			return
		}
		res, err := in.Introspect(c.Request.Context(), tok, form.Get("token_type_hint"))
		if errors.Is(err, introspection.ErrCannotVouch) {
			// Not {"active":false}: a resource server may keep that as
			// final, and the token may be perfectly good.
			c.Header("Retry-After", "1")
			err = oauth.New(oauth.TemporarilyUnavailable, "this node cannot vouch for its revocation set right now; retry shortly (another node can answer)")
		}
		if err != nil {
			renderOAuthError(c, log, err, true)
			return
		}
		if res.ID != "" {
			c.Set(ctxJTI, res.ID)
		}
		noStore(c)
		c.JSON(http.StatusOK, res)
	}
}
