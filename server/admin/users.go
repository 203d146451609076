package admin

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
)

func createUser(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Username      string          `json:"username"`
			Password      string          `json:"password"`
			Roles         []string        `json:"roles"`
			Claims        json.RawMessage `json:"claims"`
			PrivateClaims json.RawMessage `json:"private_claims"`
		}
		if !decode(c, &in) {
			return
		}
		u, err := d.Registry.CreateUser(c.Request.Context(), registry.UserSpec{
			Username: in.Username, Password: in.Password, Roles: in.Roles, Claims: in.Claims, PrivateClaims: in.PrivateClaims,
		})
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Location", Prefix+"/users/"+u.ID)
		c.JSON(http.StatusCreated, registry.ViewUser(u))
	}
}

func listUsers(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cursor, limit, ok := pageParams(c)
		if !ok {
			return
		}
		rows, err := d.Users.ListUsers(c.Request.Context(), cursor, limit+1)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		views := make([]registry.UserView, len(rows))
		for i := range rows {
			views[i] = registry.ViewUser(&rows[i])
		}
		c.JSON(http.StatusOK, paged(views, limit, func(v registry.UserView) string { return v.ID }))
	}
}

func getUser(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := d.Users.GetUser(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, registry.ViewUser(u))
	}
}

// updateUser serves PATCH /users/{id}: roles, disabled and claims (null
// removes them). Disabling a user revokes their tokens.
func updateUser(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Roles         *[]string       `json:"roles"`
			Disabled      *bool           `json:"disabled"`
			Claims        json.RawMessage `json:"claims"`
			PrivateClaims json.RawMessage `json:"private_claims"`
		}
		if !decode(c, &in) {
			return
		}
		p := registry.UserPatch{Roles: in.Roles, Disabled: in.Disabled, Claims: in.Claims, PrivateClaims: in.PrivateClaims}
		u, err := d.Registry.UpdateUser(c.Request.Context(), c.Param("id"), p)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, registry.ViewUser(u))
	}
}

func setPassword(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Password string `json:"password"`
		}
		if !decode(c, &in) {
			return
		}
		if err := d.Registry.SetPassword(c.Request.Context(), c.Param("id"), in.Password); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func deleteUser(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := d.Registry.DeleteUser(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func revokeUserTokens(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		at, err := d.Registry.RevokeUserTokens(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"revoked_at": at})
	}
}
