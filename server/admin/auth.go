package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// requireAdmin admits requests whose bearer token is active (signature,
// expiry, this node's revocation set) and carries the tollgate:admin
// scope, or is a client's own token with tollgate:apikeys (then marked as
// an application's, see appOf and adminOnly). No or a bad token: 401 with
// a Bearer challenge (RFC 6750 §3); a token without the scope: 403; a node
// that cannot vouch for its revocation set: 503. The caller becomes the
// audit log's actor.
func requireAdmin(tokens Introspector, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, ok := bearer(c.Request.Header.Values("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="tollgate-admin"`)
			renderProblem(c, problem{Type: problemType + "unauthenticated", Title: "Unauthenticated", Status: http.StatusUnauthorized,
				Detail: "send an access token with the " + ScopeAdmin + " scope: Authorization: Bearer <token>"})
			return
		}
		res, err := tokens.Introspect(c.Request.Context(), tok, "access_token")
		if errors.Is(err, introspection.ErrCannotVouch) {
			// The token may be good: 503, not 401, so the caller retries
			// instead of discarding it.
			c.Header("Retry-After", "1")
			renderProblem(c, problem{Type: problemType + "unavailable", Title: "Temporarily unavailable", Status: http.StatusServiceUnavailable,
				Detail: "this node's revocation set is resynchronising, so it cannot check the token; retry shortly"})
			return
		}
		if err != nil {
			fail(c, log, err)
			return
		}
		if !res.Active || res.TokenUse != "access_token" {
			c.Header("WWW-Authenticate", `Bearer realm="tollgate-admin", error="invalid_token"`)
			renderProblem(c, problem{Type: problemType + "invalid-token", Title: "Invalid token", Status: http.StatusUnauthorized,
				Detail: "the access token is invalid, expired or revoked; get a new one from /oauth2/token"})
			return
		}
		scopes := strings.Fields(res.Scope)
		switch {
		case slices.Contains(scopes, ScopeAdmin):
		case slices.Contains(scopes, ScopeAPIKeys) && res.Subject == res.ClientID:
			// An application's backend: its own subjects' keys, nothing else.
			c.Set(appKey, res.ClientID)
		default:
			c.Header("WWW-Authenticate", `Bearer realm="tollgate-admin", error="insufficient_scope", scope="`+ScopeAdmin+`"`)
			renderProblem(c, problem{Type: problemType + "forbidden", Title: "Forbidden", Status: http.StatusForbidden,
				Detail: "the token lacks the " + ScopeAdmin + " scope"})
			return
		}
		actor := store.SubjectClient + res.ClientID
		if res.Subject != res.ClientID {
			actor = store.SubjectUser + res.Subject + " via " + actor
		}
		c.Request = c.Request.WithContext(registry.WithActor(c.Request.Context(), actor))
		c.Next()
	}
}

// appKey is the gin context key under which requireAdmin puts the client
// ID of a tollgate:apikeys caller.
const appKey = "tollgate.admin.app"

// appOf returns the application client calling with a tollgate:apikeys
// token (not tollgate:admin): it may manage only its own subjects' keys.
func appOf(c *gin.Context) (string, bool) {
	app, ok := c.Get(appKey)
	id, _ := app.(string)
	return id, ok && id != ""
}

// adminOnly answers 403 to an application's tollgate:apikeys token: every
// admin path but /api-keys needs tollgate:admin.
func adminOnly(c *gin.Context) {
	if _, ok := appOf(c); ok {
		c.Header("WWW-Authenticate", `Bearer realm="tollgate-admin", error="insufficient_scope", scope="`+ScopeAdmin+`"`)
		renderProblem(c, problem{Type: problemType + "forbidden", Title: "Forbidden", Status: http.StatusForbidden,
			Detail: "a " + ScopeAPIKeys + " token reaches only " + Prefix + "/api-keys, for its own subjects' keys; this path needs " + ScopeAdmin})
		return
	}
	c.Next()
}

// bearer extracts the token from exactly one Authorization header with
// the Bearer scheme (case-insensitive, RFC 9110 §11.1).
func bearer(hdr []string) (string, bool) {
	if len(hdr) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(hdr[0]), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}
