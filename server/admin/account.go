package admin

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// AccountPrefix is where a user's self-service API is mounted.
const AccountPrefix = "/account/v1"

// userKey is the gin context key of the calling user's token.
const userKey = "tollgate.account.user"

// accountCaller is the user behind a self-service request.
type accountCaller struct {
	userID string
	// scopes are what the user's token carries outside tollgate:*: the
	// most a key the user makes may carry.
	scopes []string
}

// RegisterAccount mounts the self-service routes: a user holding a token
// from the password grant (or its refreshes) lists, creates and revokes
// their own API keys, never anybody else's.
func RegisterAccount(r gin.IRouter, d Deps) {
	g := r.Group(AccountPrefix, requireUser(d.Tokens, d.Logger))
	g.GET("/api-keys", listOwnKeys(d))
	g.POST("/api-keys", createOwnKey(d))
	g.DELETE("/api-keys/:id", revokeOwnKey(d))
}

// requireUser admits an active access token whose subject is a user
// (not a client's own token) and that was not bought with an API key: a
// leaked key must not mint more keys. The user is the audit log's actor.
// No or a bad token: 401 with a Bearer challenge (RFC 6750 §3); any other
// token: 403.
func requireUser(tokens Introspector, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, ok := bearer(c.Request.Header.Values("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="tollgate-account"`)
			renderProblem(c, problem{Type: problemType + "unauthenticated", Title: "Unauthenticated", Status: http.StatusUnauthorized,
				Detail: "send a user's access token from the password grant: Authorization: Bearer <token>"})
			return
		}
		res, err := tokens.Introspect(c.Request.Context(), tok, "access_token")
		if err != nil {
			fail(c, log, err)
			return
		}
		if !res.Active || res.TokenUse != "access_token" {
			c.Header("WWW-Authenticate", `Bearer realm="tollgate-account", error="invalid_token"`)
			renderProblem(c, problem{Type: problemType + "invalid-token", Title: "Invalid token", Status: http.StatusUnauthorized,
				Detail: "the access token is invalid, expired or revoked; log in again"})
			return
		}
		var why string
		switch {
		case res.APIKeyID != "":
			why = "a token bought with an API key cannot manage API keys; use a token from logging in (the password grant)"
		case res.Subject == res.ClientID || res.Subject == "":
			why = "this is a client's token; the account API needs a user's token from the password grant"
		}
		if why != "" {
			c.Header("WWW-Authenticate", `Bearer realm="tollgate-account", error="insufficient_scope"`)
			renderProblem(c, problem{Type: problemType + "forbidden", Title: "Forbidden", Status: http.StatusForbidden, Detail: why})
			return
		}
		var scopes []string
		for _, s := range strings.Fields(res.Scope) {
			if !strings.HasPrefix(s, "tollgate:") {
				scopes = append(scopes, s)
			}
		}
		c.Set(userKey, accountCaller{userID: res.Subject, scopes: scopes})
		actor := store.SubjectUser + res.Subject + " via " + store.SubjectClient + res.ClientID
		c.Request = c.Request.WithContext(registry.WithActor(c.Request.Context(), actor))
		c.Next()
	}
}

func callerOf(c *gin.Context) accountCaller {
	v, _ := c.Get(userKey)
	u, _ := v.(accountCaller)
	return u
}

// listOwnKeys serves GET /account/v1/api-keys: the caller's keys, with
// expiry and last use, never the keys themselves.
func listOwnKeys(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cursor, limit, ok := pageParams(c)
		if !ok {
			return
		}
		rows, err := d.APIKeys.ListAPIKeys(c.Request.Context(), store.OwnerUser, callerOf(c).userID, cursor, limit+1)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		views := make([]registry.APIKeyView, len(rows))
		for i := range rows {
			views[i] = registry.ViewAPIKey(&rows[i])
		}
		c.JSON(http.StatusOK, paged(views, limit, func(v registry.APIKeyView) string { return v.ID }))
	}
}

// createOwnKey serves POST /account/v1/api-keys. The key's scopes are at
// most the caller's token's (outside tollgate:*), all of them by default.
func createOwnKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Name      string `json:"name"`
			Scope     string `json:"scope"`
			ExpiresIn int64  `json:"expires_in"`
		}
		if !decode(c, &in) {
			return
		}
		if in.ExpiresIn < 0 || in.ExpiresIn > maxKeyLifetimeSeconds {
			badRequest(c, "expires_in", "must be a number of seconds up to ten years, or 0")
			return
		}
		u := callerOf(c)
		scopes := strings.Fields(in.Scope)
		if len(scopes) == 0 {
			scopes = u.scopes
		}
		if len(scopes) == 0 {
			badRequest(c, "scope", "name the scopes the key may carry; your token carries none a key may have")
			return
		}
		for _, s := range scopes {
			if !slices.Contains(u.scopes, s) {
				badRequest(c, "scope", "a key may carry at most the scopes of the token you are using ("+strings.Join(u.scopes, " ")+")")
				return
			}
		}
		k, key, err := d.Registry.CreateAPIKey(c.Request.Context(), registry.APIKeySpec{
			OwnerKind: store.OwnerUser, OwnerID: u.userID, Name: in.Name, Scopes: scopes,
			ExpiresIn: time.Duration(in.ExpiresIn) * time.Second,
		})
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, struct {
			APIKey string `json:"api_key"`
			registry.APIKeyView
		}{key, registry.ViewAPIKey(k)})
	}
}

// revokeOwnKey serves DELETE /account/v1/api-keys/{id}; another owner's
// key is 404, as if it did not exist.
func revokeOwnKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		k, err := d.APIKeys.GetAPIKey(c.Request.Context(), c.Param("id"))
		if err == nil && (k.OwnerKind != store.OwnerUser || k.OwnerID != callerOf(c).userID) {
			err = store.ErrNotFound
		}
		if err == nil {
			err = d.Registry.RevokeAPIKey(c.Request.Context(), k.ID)
		}
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
