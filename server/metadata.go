package server

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/store"
)

// metadata is the RFC 8414 authorization server metadata document.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	IntrospectionAuthMethods          []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	RevocationAuthMethods             []string `json:"revocation_endpoint_auth_methods_supported"`
	// Tollgate's revocation feed for resource servers that validate
	// tokens locally (RFC 8414 §2 allows additional metadata).
	RevocationFeedEndpoint       string `json:"revocation_feed_endpoint"`
	RevocationFeedStreamEndpoint string `json:"revocation_feed_stream_endpoint"`
}

// authMethods are the client authentication methods of every endpoint.
var authMethods = []string{"client_secret_basic", "client_secret_post"}

// scopesTTL is how long the union of client scopes is cached.
const scopesTTL = 30 * time.Second

// metadataHandler serves the RFC 8414 document. scopes_supported is the
// union of the registered clients' scopes, recomputed at most every
// scopesTTL.
func metadataHandler(issuer string, clients store.ClientStore, log *slog.Logger) gin.HandlerFunc {
	sc := &scopeCache{clients: clients}
	return func(c *gin.Context) {
		scopes, err := sc.get(c.Request.Context())
		if err != nil {
			// Discovery must not fail because the database blinked; the
			// list is advisory (RFC 8414 §2).
			log.LogAttrs(c.Request.Context(), slog.LevelWarn, "listing scopes for metadata", slog.String("error", err.Error()))
		}
		c.Header("Cache-Control", "public, max-age=60")
		c.JSON(http.StatusOK, metadata{
			Issuer:                            issuer,
			TokenEndpoint:                     issuer + pathToken,
			JWKSURI:                           issuer + pathJWKS,
			GrantTypesSupported:               append(slices.Clone(grant.Supported), grant.TokenExchange),
			ResponseTypesSupported:            []string{},
			TokenEndpointAuthMethodsSupported: authMethods,
			ScopesSupported:                   scopes,
			IntrospectionEndpoint:             issuer + pathIntrospect,
			IntrospectionAuthMethods:          authMethods,
			RevocationEndpoint:                issuer + pathRevoke,
			RevocationAuthMethods:             authMethods,
			RevocationFeedEndpoint:            issuer + pathRevocations,
			RevocationFeedStreamEndpoint:      issuer + pathRevocationsFeed,
		})
	}
}

type scopeCache struct {
	clients store.ClientStore
	mu      sync.Mutex
	at      time.Time
	scopes  []string
}

func (sc *scopeCache) get(ctx context.Context) ([]string, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.scopes != nil && time.Since(sc.at) < scopesTTL {
		return sc.scopes, nil
	}
	var all []string
	after := ""
	for {
		page, err := sc.clients.ListClients(ctx, after, 500)
		if err != nil {
			if sc.scopes == nil {
				return []string{}, err
			}
			return sc.scopes, err
		}
		for _, cl := range page {
			all = append(all, cl.Scopes...)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	slices.Sort(all)
	sc.scopes, sc.at = slices.Compact(all), time.Now()
	if sc.scopes == nil {
		sc.scopes = []string{}
	}
	return sc.scopes, nil
}
