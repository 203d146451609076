package registry

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strings"
	"time"

	"github.com/tollgate/tollgate/store"
)

// ClientView is a client as shown to admins, with RFC 7591 field names
// where they exist. It never carries the secret's hash.
type ClientView struct {
	ClientID   string   `json:"client_id"`
	ClientName string   `json:"client_name"`
	GrantTypes []string `json:"grant_types"`
	// Scope is space-delimited, as in RFC 7591 §2.
	Scope                   string `json:"scope"`
	DefaultScope            string `json:"default_scope,omitempty"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	// JWKS and JWKSURI are a private_key_jwt client's public keys.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI string          `json:"jwks_uri,omitempty"`
	// The federation binding of a client authenticated by a trusted
	// issuer's tokens.
	FederatedIssuer  string            `json:"federated_issuer,omitempty"`
	FederatedSubject string            `json:"federated_subject,omitempty"`
	FederatedClaims  map[string]string `json:"federated_claims,omitempty"`
	// Claims go into every token of the client, PrivateClaims only into
	// those for an encrypted audience (JSON objects; absent when none).
	Claims          json.RawMessage `json:"claims,omitempty"`
	PrivateClaims   json.RawMessage `json:"private_claims,omitempty"`
	Audience        []string        `json:"audience"`
	Roles           []string        `json:"roles"`
	AccessTokenTTL  int64           `json:"access_token_ttl"`
	RefreshTokenTTL int64           `json:"refresh_token_ttl"`
	// RateLimit is requests per second; 0 means the server's limit.
	RateLimit int `json:"rate_limit"`
	// Disabled clients get invalid_client everywhere until enabled.
	Disabled bool `json:"disabled"`
	// DPoPBound clients must send a DPoP proof with every token request
	// (RFC 9449 §5.2's client metadata name).
	DPoPBound bool      `json:"dpop_bound_access_tokens"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ViewClient returns c as shown to admins. TTLs are in seconds; 0 means the
// server default.
func ViewClient(c *store.Client) ClientView {
	return ClientView{
		ClientID:                c.ID,
		ClientName:              c.Name,
		GrantTypes:              nonNil(c.GrantTypes),
		Scope:                   strings.Join(c.Scopes, " "),
		DefaultScope:            strings.Join(c.DefaultScopes, " "),
		TokenEndpointAuthMethod: cmp.Or(c.AuthMethod, store.AuthClientSecretBasic),
		JWKS:                    compactJSON(c.JWKS),
		JWKSURI:                 c.JWKSURI,
		FederatedIssuer:         c.FederatedIssuer,
		FederatedSubject:        c.FederatedSubject,
		FederatedClaims:         c.FederatedClaims,
		Claims:                  compactJSON(c.Claims),
		PrivateClaims:           compactJSON(c.PrivateClaims),
		Audience:                nonNil(c.Audience),
		Roles:                   nonNil(c.Roles),
		AccessTokenTTL:          int64(c.AccessTokenTTL / time.Second),
		RefreshTokenTTL:         int64(c.RefreshTokenTTL / time.Second),
		RateLimit:               c.RateLimit,
		Disabled:                c.Disabled,
		DPoPBound:               c.DPoPBound,
		CreatedAt:               c.CreatedAt,
		UpdatedAt:               c.UpdatedAt,
	}
}

// UserView is a user as shown to admins, without the password hash.
type UserView struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
	// Claims and PrivateClaims are as on ClientView.
	Claims        json.RawMessage `json:"claims,omitempty"`
	PrivateClaims json.RawMessage `json:"private_claims,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// ViewUser returns u as shown to admins.
func ViewUser(u *store.User) UserView {
	return UserView{
		ID: u.ID, Username: u.Username, Roles: nonNil(u.Roles), Disabled: u.Disabled,
		Claims: compactJSON(u.Claims), PrivateClaims: compactJSON(u.PrivateClaims), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// compactJSON returns raw compacted, or nil when it is empty or invalid.
func compactJSON(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if len(raw) == 0 || json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}
