package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// jwksHandler serves the published signing keys (RFC 7517). The document is
// precomputed by the key manager, so serving it is a copy.
func jwksHandler(keys KeySet) gin.HandlerFunc {
	return func(c *gin.Context) {
		// Short caching: resource servers pick up a pre-published key well
		// before it signs anything.
		c.Header("Cache-Control", "public, max-age=60")
		c.Data(http.StatusOK, "application/jwk-set+json", keys.JWKS())
	}
}
