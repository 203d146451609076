package admin

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
)

// audienceInput is an audience as admins write it. An audience's name is
// its tokens' aud value, often a URL: in paths it is percent-encoded, its
// slashes as %2F.
type audienceInput struct {
	Name         string `json:"name"`
	Encrypted    bool   `json:"encrypted"`
	KeyAlgorithm string `json:"key_algorithm"`
}

func createAudience(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in audienceInput
		if !decode(c, &in) {
			return
		}
		a, err := d.Registry.CreateAudience(c.Request.Context(), registry.AudienceSpec{Name: in.Name, Encrypted: in.Encrypted, KeyAlgorithm: in.KeyAlgorithm})
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Location", Prefix+"/audiences/"+url.PathEscape(a.Name))
		c.JSON(http.StatusCreated, a)
	}
}

func listAudiences(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		list, err := d.Registry.ListAudiences(c.Request.Context())
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"items": list})
	}
}

func getAudience(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, err := d.Registry.GetAudience(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, a)
	}
}

// updateAudience serves PATCH /audiences/{name}: encrypted and
// key_algorithm, each optional.
func updateAudience(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in struct {
			Encrypted    *bool   `json:"encrypted"`
			KeyAlgorithm *string `json:"key_algorithm"`
		}
		if !decode(c, &in) {
			return
		}
		a, err := d.Registry.UpdateAudience(c.Request.Context(), c.Param("id"), registry.AudiencePatch{Encrypted: in.Encrypted, KeyAlgorithm: in.KeyAlgorithm})
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, a)
	}
}

func deleteAudience(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := d.Registry.DeleteAudience(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// rotateAudienceKey serves POST /audiences/{name}/rotate-key: the answer
// is the audience with its keys, the new one pending.
func rotateAudienceKey(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, err := d.Registry.RotateAudienceKey(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, a)
	}
}
