package server

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// pathOpenAPI is where the OpenAPI document is served.
const pathOpenAPI = "/openapi.json"

// openAPIDoc is the OpenAPI 3.1 description of every route, hand-written
// and kept in sync by the route-coverage test and by the end-to-end tests,
// which validate every response against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns a copy of the OpenAPI 3.1 document served at
// /openapi.json.
func OpenAPI() []byte { return bytes.Clone(openAPIDoc) }

// openAPIHandler serves the document. It is public and the same for every
// caller, so it may be cached; its strong ETag, derived from the content,
// lets clients revalidate with If-None-Match.
func openAPIHandler() gin.HandlerFunc {
	sum := sha256.Sum256(openAPIDoc)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Header("ETag", etag)
		if etagListed(c.Request.Header.Values("If-None-Match"), etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json", openAPIDoc)
	}
}

// etagListed reports whether an If-None-Match field names etag or is "*".
// RFC 9110 §13.1.2: If-None-Match uses the weak comparison, so a W/ prefix
// is ignored. Our tags never contain a comma, so splitting on commas cannot
// make a listed tag match by accident.
func etagListed(fields []string, etag string) bool {
	for _, f := range fields {
		for t := range strings.SplitSeq(f, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}
