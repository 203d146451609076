package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// maxKeyLifetimeSeconds bounds expires_in: ten years.
const maxKeyLifetimeSeconds = 10 * 365 * 24 * 3600

// createAPIKey serves POST /api-keys. The key is in the response once and
// never again. An application (tollgate:apikeys) creates keys of its own
// subjects only: owner_type "subject", client_id its own or absent.
func createAPIKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			OwnerType string   `json:"owner_type"`
			OwnerID   string   `json:"owner_id"`
			ClientID  string   `json:"client_id"`
			Name      string   `json:"name"`
			Scope     string   `json:"scope"`
			Roles     []string `json:"roles"`
			// Claims is a JSON object of non-secret claims (subject keys).
			Claims json.RawMessage `json:"claims"`
			// ExpiresIn is in seconds; 0 or absent: the key does not expire.
			ExpiresIn int64 `json:"expires_in"`
		}
		if !decode(c, &in) {
			return
		}
		if in.ExpiresIn < 0 || in.ExpiresIn > maxKeyLifetimeSeconds {
			badRequest(c, "expires_in", "must be a number of seconds up to ten years, or 0")
			return
		}
		if app, ok := appOf(c); ok {
			if !appMayOwn(c, app, store.OwnerKind(in.OwnerType), in.ClientID) {
				return
			}
			in.ClientID = app
		}
		k, key, err := d.Registry.CreateAPIKey(c.Request.Context(), registry.APIKeySpec{
			OwnerKind: store.OwnerKind(in.OwnerType), OwnerID: in.OwnerID, ClientID: in.ClientID, Name: in.Name,
			Scopes: strings.Fields(in.Scope), Roles: in.Roles, Claims: in.Claims,
			ExpiresIn: time.Duration(in.ExpiresIn) * time.Second,
		})
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Header("Location", Prefix+"/api-keys/"+k.ID)
		c.JSON(http.StatusCreated, struct {
			APIKey string `json:"api_key"`
			registry.APIKeyView
		}{key, registry.ViewAPIKey(k)})
	}
}

// appMayOwn answers 403 unless an application asks about its own
// subjects' keys.
func appMayOwn(c *gin.Context, app string, kind store.OwnerKind, clientID string) bool {
	if (kind == store.OwnerSubject || kind == "") && (clientID == "" || clientID == app) {
		return true
	}
	c.Header("WWW-Authenticate", `Bearer realm="tollgate-admin", error="insufficient_scope", scope="`+ScopeAdmin+`"`)
	renderProblem(c, problem{Type: problemType + "forbidden", Title: "Forbidden", Status: http.StatusForbidden,
		Detail: "a " + ScopeAPIKeys + " token manages only keys of its own subjects: owner_type subject, client_id its own (or absent)"})
	return false
}

// listAPIKeys serves GET /api-keys[?owner_type=user|client|subject&owner_id=…&client_id=…].
// client_id (the application) goes with owner_type=subject; an
// application lists only its own subjects' keys.
func listAPIKeys(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cursor, limit, ok := pageParams(c)
		if !ok {
			return
		}
		kind, owner, clientID := store.OwnerKind(c.Query("owner_type")), c.Query("owner_id"), c.Query("client_id")
		switch {
		case kind != "" && kind != store.OwnerUser && kind != store.OwnerClient && kind != store.OwnerSubject:
			badRequest(c, "owner_type", "must be user, client or subject")
			return
		case !utf8.ValidString(owner) || strings.ContainsRune(owner, 0) || len(owner) > 256:
			badRequest(c, "owner_id", "must be at most 256 bytes of UTF-8")
			return
		case clientID != "" && kind != store.OwnerSubject && appOrEmpty(c) == "":
			badRequest(c, "client_id", "filters subjects' keys: use it with owner_type=subject")
			return
		}
		if app, ok := appOf(c); ok {
			if !appMayOwn(c, app, kind, clientID) {
				return
			}
			clientID = app
		}
		var rows []store.APIKey
		var err error
		if clientID != "" {
			rows, err = d.APIKeys.ListSubjectAPIKeys(c.Request.Context(), clientID, owner, cursor, limit+1)
		} else {
			rows, err = d.APIKeys.ListAPIKeys(c.Request.Context(), kind, owner, cursor, limit+1)
		}
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

func appOrEmpty(c *gin.Context) string {
	app, _ := appOf(c)
	return app
}

// loadKey reads the key of the path, answering 404 when there is none or
// when it is not the calling application's.
func loadKey(c *gin.Context, d Deps) (*store.APIKey, bool) {
	k, err := d.APIKeys.GetAPIKey(c.Request.Context(), c.Param("id"))
	if app, ok := appOf(c); err == nil && ok && (k.OwnerKind != store.OwnerSubject || k.ClientID != app) {
		err = store.ErrNotFound // another owner's key is none of the app's business
	}
	if err != nil {
		fail(c, d.Logger, err)
		return nil, false
	}
	return k, true
}

func getAPIKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if k, ok := loadKey(c, d); ok {
			c.JSON(http.StatusOK, registry.ViewAPIKey(k))
		}
	}
}

// updateAPIKey serves PATCH /api-keys/{id}: name, scope and, for a
// subject's key, roles and claims (null removes them).
func updateAPIKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Name   *string         `json:"name"`
			Scope  *string         `json:"scope"`
			Roles  *[]string       `json:"roles"`
			Claims json.RawMessage `json:"claims"`
		}
		if !decode(c, &in) {
			return
		}
		if _, ok := loadKey(c, d); !ok {
			return
		}
		p := registry.APIKeyPatch{Name: in.Name, Roles: in.Roles, Claims: in.Claims}
		if in.Scope != nil {
			scopes := strings.Fields(*in.Scope)
			p.Scopes = &scopes
		}
		k, err := d.Registry.UpdateAPIKey(c.Request.Context(), c.Param("id"), p)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, registry.ViewAPIKey(k))
	}
}

// revokeAPIKey serves DELETE /api-keys/{id}: the key is revoked (kept,
// with revoked_at, for the record) and every later exchange fails.
func revokeAPIKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := loadKey(c, d); !ok {
			return
		}
		if err := d.Registry.RevokeAPIKey(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// revokeSubjectKeys serves POST /api-keys/revoke: every key of one
// subject of an application, in one call (the app deleted that user).
func revokeSubjectKeys(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			OwnerType string `json:"owner_type"`
			OwnerID   string `json:"owner_id"`
			ClientID  string `json:"client_id"`
		}
		if !decode(c, &in) {
			return
		}
		if in.OwnerType != string(store.OwnerSubject) {
			badRequest(c, "owner_type", "must be subject: revoke a user's or client's tokens under /users or /clients")
			return
		}
		if app, ok := appOf(c); ok {
			if !appMayOwn(c, app, store.OwnerSubject, in.ClientID) {
				return
			}
			in.ClientID = app
		}
		n, err := d.Registry.RevokeSubjectKeys(c.Request.Context(), in.ClientID, in.OwnerID)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"revoked": n})
	}
}
