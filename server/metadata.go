package server

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/server/assertion"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/store"
)

// metadata is the RFC 8414 authorization server metadata document.
//
// response_types_supported is left out: RFC 8414 §3.2 says a claim with
// zero elements MUST be omitted, and response types belong to the
// authorization endpoint (RFC 6749 §3.1.1), which Tollgate does not have,
// so the list would be empty. §2 marks the field REQUIRED without
// exception; erratum 7793 proposes exempting servers without an
// authorization endpoint, as authorization_endpoint already is.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// The JWS algorithms of private_key_jwt assertions (RFC 8414 §2).
	TokenEndpointAuthSigningAlgs []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	// ScopesSupported is only what the operator marks public (RFC 8414 §2:
	// a server may leave out scopes it supports); none omits the field.
	ScopesSupported          []string `json:"scopes_supported,omitempty"`
	IntrospectionEndpoint    string   `json:"introspection_endpoint"`
	IntrospectionAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionAuthAlgs    []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpoint       string   `json:"revocation_endpoint"`
	RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationAuthAlgs       []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	// Tollgate's revocation feed for resource servers that validate
	// tokens locally (RFC 8414 §2 allows additional metadata).
	RevocationFeedEndpoint       string `json:"revocation_feed_endpoint"`
	RevocationFeedStreamEndpoint string `json:"revocation_feed_stream_endpoint"`
	// AudienceKeysEndpoint serves the decryption keys of encrypted
	// audiences to their APIs; the algorithms are those of encrypted
	// access tokens (nested JWTs, RFC 7519 §5.2). Tollgate's own names, as
	// RFC 8414 §2 allows.
	AudienceKeysEndpoint string   `json:"audience_keys_endpoint"`
	EncryptionAlgs       []string `json:"access_token_encryption_alg_values_supported"`
	EncryptionEncs       []string `json:"access_token_encryption_enc_values_supported"`
	// DPoPAlgs are the proof algorithms the token endpoint accepts (RFC 9449 §5.1).
	DPoPAlgs []string `json:"dpop_signing_alg_values_supported"`
}

// authMethods are the client authentication methods of every endpoint.
var authMethods = []string{store.AuthClientSecretBasic, store.AuthClientSecretPost, store.AuthPrivateKeyJWT}

// metadataHandler serves the RFC 8414 document. It is public, so it never
// lists the registered clients' scopes (Tollgate's own tollgate:admin
// among them): scopes_supported holds publicScopes only.
func metadataHandler(issuer string, publicScopes []string) gin.HandlerFunc {
	doc := metadata{
		Issuer:                            issuer,
		TokenEndpoint:                     issuer + pathToken,
		JWKSURI:                           issuer + pathJWKS,
		GrantTypesSupported:               append(slices.Clone(grant.Supported), grant.TokenExchange),
		TokenEndpointAuthMethodsSupported: authMethods,
		TokenEndpointAuthSigningAlgs:      assertion.Algorithms,
		ScopesSupported:                   slices.Clone(publicScopes),
		IntrospectionEndpoint:             issuer + pathIntrospect,
		IntrospectionAuthMethods:          authMethods,
		IntrospectionAuthAlgs:             assertion.Algorithms,
		RevocationEndpoint:                issuer + pathRevoke,
		RevocationAuthMethods:             authMethods,
		RevocationAuthAlgs:                assertion.Algorithms,
		RevocationFeedEndpoint:            issuer + pathRevocations,
		RevocationFeedStreamEndpoint:      issuer + pathRevocationsFeed,
		DPoPAlgs:                          dpop.Algorithms,
		AudienceKeysEndpoint:              issuer + pathAudienceKeys,
		EncryptionAlgs:                    store.KeyAlgorithms,
		EncryptionEncs:                    []string{"A256GCM"},
	}
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=60")
		c.JSON(http.StatusOK, doc)
	}
}
