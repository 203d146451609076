package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
)

// issuerInput is a trusted issuer as admins write it. MaxLifetime is in
// seconds.
type issuerInput struct {
	Name        string          `json:"name"`
	Issuer      string          `json:"issuer"`
	JWKSURI     string          `json:"jwks_uri"`
	JWKS        json.RawMessage `json:"jwks"`
	Audience    string          `json:"audience"`
	MaxLifetime int64           `json:"max_lifetime"`
}

func createIssuer(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in issuerInput
		if !decode(c, &in) {
			return
		}
		if in.MaxLifetime < 0 || in.MaxLifetime > 365*24*3600 {
			fail(c, d.Logger, &registry.ValidationError{Fields: []registry.FieldError{{Field: "max_lifetime", Message: "must be a number of seconds"}}})
			return
		}
		jwks := []byte(in.JWKS)
		if string(jwks) == "null" {
			jwks = nil
		}
		i, err := d.Registry.CreateIssuer(c.Request.Context(), registry.IssuerSpec{
			Name: in.Name, Issuer: in.Issuer, JWKSURI: in.JWKSURI, JWKS: jwks, Audience: in.Audience,
			MaxLifetime: time.Duration(in.MaxLifetime) * time.Second,
		})
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Location", Prefix+"/issuers/"+i.Name)
		c.JSON(http.StatusCreated, registry.ViewIssuer(i))
	}
}

func listIssuers(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		list, err := d.Registry.ListIssuers(c.Request.Context())
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"items": list})
	}
}

func deleteIssuer(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := d.Registry.DeleteIssuer(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// issuerPatchInput is PATCH /issuers/{id}: every field optional.
type issuerPatchInput struct {
	Issuer      *string          `json:"issuer"`
	JWKSURI     *string          `json:"jwks_uri"`
	JWKS        *json.RawMessage `json:"jwks"`
	Audience    *string          `json:"audience"`
	MaxLifetime *int64           `json:"max_lifetime"`
}

func updateIssuer(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in issuerPatchInput
		if !decode(c, &in) {
			return
		}
		p := registry.IssuerPatch{Issuer: in.Issuer, JWKSURI: in.JWKSURI, Audience: in.Audience}
		if in.JWKS != nil {
			raw := []byte(*in.JWKS)
			p.JWKS = &raw
		}
		if in.MaxLifetime != nil {
			if *in.MaxLifetime < 0 || *in.MaxLifetime > 365*24*3600 {
				fail(c, d.Logger, &registry.ValidationError{Fields: []registry.FieldError{{Field: "max_lifetime", Message: "must be a number of seconds"}}})
				return
			}
			ml := time.Duration(*in.MaxLifetime) * time.Second
			p.MaxLifetime = &ml
		}
		i, err := d.Registry.UpdateIssuer(c.Request.Context(), c.Param("id"), p)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, registry.ViewIssuer(i))
	}
}
