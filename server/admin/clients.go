package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/registry"
)

// clientInput is a client as written by admins (RFC 7591 names where they
// exist). Every field is optional on PATCH. TTLs are in seconds.
type clientInput struct {
	ClientName              *string   `json:"client_name"`
	GrantTypes              *[]string `json:"grant_types"`
	Scope                   *string   `json:"scope"`
	DefaultScope            *string   `json:"default_scope"`
	TokenEndpointAuthMethod *string   `json:"token_endpoint_auth_method"`
	Audience                *[]string `json:"audience"`
	Roles                   *[]string `json:"roles"`
	AccessTokenTTL          *int64    `json:"access_token_ttl"`
	RefreshTokenTTL         *int64    `json:"refresh_token_ttl"`
	RateLimit               *int      `json:"rate_limit"`
	Disabled                *bool     `json:"disabled"`
	DPoPBound               *bool     `json:"dpop_bound_access_tokens"`
	// JWKS is a JWK Set object; JWKSURI an https URL (RFC 7591 §2).
	JWKS    *json.RawMessage `json:"jwks"`
	JWKSURI *string          `json:"jwks_uri"`
	// The federation binding: a trusted issuer's name, the sub pattern
	// and claim conditions of its tokens.
	FederatedIssuer  *string            `json:"federated_issuer"`
	FederatedSubject *string            `json:"federated_subject"`
	FederatedClaims  *map[string]string `json:"federated_claims"`
	// Claims and PrivateClaims are JSON objects of extra claims of the
	// client's tokens; null removes them on PATCH.
	Claims        json.RawMessage `json:"claims"`
	PrivateClaims json.RawMessage `json:"private_claims"`
}

// patch converts the input, checking what the registry cannot see.
func (in clientInput) patch() (registry.ClientPatch, *registry.ValidationError) {
	var v registry.ValidationError
	p := registry.ClientPatch{Name: in.ClientName, GrantTypes: in.GrantTypes, Audience: in.Audience, Roles: in.Roles, RateLimit: in.RateLimit, Disabled: in.Disabled, DPoPBound: in.DPoPBound,
		AuthMethod: in.TokenEndpointAuthMethod, JWKSURI: in.JWKSURI,
		FederatedIssuer: in.FederatedIssuer, FederatedSubject: in.FederatedSubject, FederatedClaims: in.FederatedClaims,
		Claims: in.Claims, PrivateClaims: in.PrivateClaims}
	if in.JWKS != nil {
		// null clears the set.
		raw := []byte(*in.JWKS)
		if string(raw) == "null" {
			raw = nil
		}
		p.JWKS = &raw
	}
	if in.Scope != nil {
		s := strings.Fields(*in.Scope)
		p.Scopes = &s
	}
	if in.DefaultScope != nil {
		s := strings.Fields(*in.DefaultScope)
		p.DefaultScopes = &s
	}
	p.AccessTokenTTL = seconds(&v, "access_token_ttl", in.AccessTokenTTL)
	p.RefreshTokenTTL = seconds(&v, "refresh_token_ttl", in.RefreshTokenTTL)
	if len(v.Fields) > 0 {
		return p, &v
	}
	return p, nil
}

func seconds(v *registry.ValidationError, field string, n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	if *n < 0 || *n > 10*365*24*3600 {
		v.Fields = append(v.Fields, registry.FieldError{Field: field, Message: "must be a number of seconds, 0 for the server default"})
		return nil
	}
	d := time.Duration(*n) * time.Second
	return &d
}

func createClient(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in clientInput
		if !decode(c, &in) {
			return
		}
		p, verr := in.patch()
		if verr != nil {
			fail(c, d.Logger, verr)
			return
		}
		spec := registry.ClientSpec{}
		applyPatch(&spec, p)
		cl, sec, err := d.Registry.CreateClient(c.Request.Context(), spec)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Header("Location", Prefix+"/clients/"+cl.ID)
		c.JSON(http.StatusCreated, struct {
			// Absent for a private_key_jwt client, which has none.
			ClientSecret string `json:"client_secret,omitempty"`
			registry.ClientView
		}{sec, registry.ViewClient(cl)})
	}
}

// applyPatch fills a new client's spec from the input.
func applyPatch(s *registry.ClientSpec, p registry.ClientPatch) {
	if p.Name != nil {
		s.Name = *p.Name
	}
	for dst, src := range map[*[]string]*[]string{&s.GrantTypes: p.GrantTypes, &s.Scopes: p.Scopes, &s.DefaultScopes: p.DefaultScopes, &s.Audience: p.Audience, &s.Roles: p.Roles} {
		if src != nil {
			*dst = *src
		}
	}
	if p.AccessTokenTTL != nil {
		s.AccessTokenTTL = *p.AccessTokenTTL
	}
	if p.RefreshTokenTTL != nil {
		s.RefreshTokenTTL = *p.RefreshTokenTTL
	}
	if p.RateLimit != nil {
		s.RateLimit = *p.RateLimit
	}
	if p.Disabled != nil {
		s.Disabled = *p.Disabled
	}
	if p.DPoPBound != nil {
		s.DPoPBound = *p.DPoPBound
	}
	if p.AuthMethod != nil {
		s.AuthMethod = *p.AuthMethod
	}
	if p.JWKS != nil {
		s.JWKS = *p.JWKS
	}
	if p.JWKSURI != nil {
		s.JWKSURI = *p.JWKSURI
	}
	if p.FederatedIssuer != nil {
		s.FederatedIssuer = *p.FederatedIssuer
	}
	if p.FederatedSubject != nil {
		s.FederatedSubject = *p.FederatedSubject
	}
	if p.FederatedClaims != nil {
		s.FederatedClaims = *p.FederatedClaims
	}
	s.Claims, s.PrivateClaims = p.Claims, p.PrivateClaims
}

func listClients(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cursor, limit, ok := pageParams(c)
		if !ok {
			return
		}
		rows, err := d.Clients.ListClients(c.Request.Context(), cursor, limit+1)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		views := make([]registry.ClientView, len(rows))
		for i := range rows {
			views[i] = registry.ViewClient(&rows[i])
		}
		c.JSON(http.StatusOK, paged(views, limit, func(v registry.ClientView) string { return v.ClientID }))
	}
}

func getClient(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, err := d.Clients.GetClient(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, registry.ViewClient(cl))
	}
}

func updateClient(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in clientInput
		if !decode(c, &in) {
			return
		}
		p, verr := in.patch()
		if verr != nil {
			fail(c, d.Logger, verr)
			return
		}
		cl, err := d.Registry.UpdateClient(c.Request.Context(), c.Param("id"), p)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, registry.ViewClient(cl))
	}
}

func deleteClient(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := d.Registry.DeleteClient(c.Request.Context(), c.Param("id")); err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// rotateSecret serves POST /clients/{id}/secret: a new secret, with the
// previous one valid for overlap seconds (default one hour).
func rotateSecret(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		in := struct {
			Overlap *int64 `json:"overlap"`
		}{}
		if c.Request.ContentLength != 0 && !decode(c, &in) {
			return
		}
		overlap := registry.DefaultSecretOverlap
		if in.Overlap != nil {
			overlap = time.Duration(*in.Overlap) * time.Second
		}
		cl, sec, err := d.Registry.RotateClientSecret(c.Request.Context(), c.Param("id"), overlap)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		out := gin.H{"client_id": cl.ID, "client_secret": sec}
		if !cl.PrevSecretExpiresAt.IsZero() {
			out["previous_secret_expires_at"] = cl.PrevSecretExpiresAt
		}
		c.JSON(http.StatusOK, out)
	}
}

func revokeClientTokens(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		at, err := d.Registry.RevokeClientTokens(c.Request.Context(), c.Param("id"))
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"revoked_at": at})
	}
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
