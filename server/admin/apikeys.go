package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// createAPIKey serves POST /api-keys. The key is in the response once and
// never again.
func createAPIKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			OwnerType string `json:"owner_type"`
			OwnerID   string `json:"owner_id"`
			Name      string `json:"name"`
			Scope     string `json:"scope"`
			// ExpiresIn is in seconds; 0 or absent: the key does not expire.
			ExpiresIn int64 `json:"expires_in"`
		}
		if !decode(c, &in) {
			return
		}
		if in.ExpiresIn < 0 || in.ExpiresIn > 10*365*24*3600 {
			badRequest(c, "expires_in", "must be a number of seconds up to ten years, or 0")
			return
		}
		k, key, err := d.Registry.CreateAPIKey(c.Request.Context(), registry.APIKeySpec{
			OwnerKind: store.OwnerKind(in.OwnerType), OwnerID: in.OwnerID, Name: in.Name,
			Scopes: strings.Fields(in.Scope), ExpiresIn: time.Duration(in.ExpiresIn) * time.Second,
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

// listAPIKeys serves GET /api-keys[?owner_type=user|client&owner_id=…].
func listAPIKeys(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cursor, limit, ok := pageParams(c)
		if !ok {
			return
		}
		kind := store.OwnerKind(c.Query("owner_type"))
		if kind != "" && kind != store.OwnerUser && kind != store.OwnerClient {
			badRequest(c, "owner_type", "must be user or client")
			return
		}
		rows, err := d.APIKeys.ListAPIKeys(c.Request.Context(), kind, c.Query("owner_id"), cursor, limit+1)
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

func getAPIKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		k, err := d.APIKeys.GetAPIKey(c.Request.Context(), c.Param("id"))
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
		if err := d.Registry.RevokeAPIKey(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
