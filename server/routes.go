package server

import "github.com/gin-gonic/gin"

// Endpoint paths, also advertised in the RFC 8414 metadata.
const (
	pathToken    = "/oauth2/token"
	pathJWKS     = "/.well-known/jwks.json"
	pathMetadata = "/.well-known/oauth-authorization-server"
)

// routes lists every route and its authentication rule.
func routes(r *gin.Engine, d Deps) {
	// Client authentication (Basic or form credentials), inside the engine.
	r.POST(pathToken, tokenHandler(d.Tokens, d.Logger))
	// Public: discovery documents and probes carry no secrets.
	r.GET(pathMetadata, metadataHandler(d.Issuer, d.Clients, d.Logger))
	r.GET(pathJWKS, jwksHandler(d.Keys))
	r.GET("/healthz", healthHandler)
	r.GET("/readyz", readyHandler(d.Checks, d.Logger))
}
