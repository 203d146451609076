package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// ClientPatch changes some fields of a client; nil fields stay as they are.
type ClientPatch struct {
	Name            *string
	GrantTypes      *[]string
	Scopes          *[]string
	DefaultScopes   *[]string
	Audience        *[]string
	Roles           *[]string
	AccessTokenTTL  *time.Duration
	RefreshTokenTTL *time.Duration
	RateLimit       *int
	// Disabled, when true, refuses the client everywhere and revokes every
	// token it holds, as RevokeClientTokens does; false enables it again.
	Disabled *bool
	// DPoPBound, when true, requires a DPoP proof with every token request
	// from then on; tokens already issued keep what they are.
	DPoPBound *bool
	// AuthMethod switches how the client authenticates. Switching to
	// private_key_jwt deletes its secrets; switching back needs a new one
	// (RotateClientSecret). JWKS and JWKSURI replace its keys: setting one
	// clears the other unless both are given.
	AuthMethod *string
	JWKS       *[]byte
	JWKSURI    *string
	// FederatedIssuer, FederatedSubject and FederatedClaims change the
	// client's federation binding; binding it clears its own keys, and
	// giving it keys clears the binding.
	FederatedIssuer  *string
	FederatedSubject *string
	FederatedClaims  *map[string]string
	// Claims and PrivateClaims replace the client's extra claims: a JSON
	// object, or null to remove them; nil keeps them.
	Claims        json.RawMessage
	PrivateClaims json.RawMessage
}

// Bounds of a secret rotation's overlap.
const (
	DefaultSecretOverlap = time.Hour
	MaxSecretOverlap     = 30 * 24 * time.Hour
)

// UpdateClient applies p to the client, validating the result as a whole.
// Disabling a client also revokes every token issued to it until now (its
// access tokens leave introspection, its refresh families die); enabling
// it again lets it get new tokens, never the revoked ones back.
func (r *Registry) UpdateClient(ctx context.Context, id string, p ClientPatch) (*store.Client, error) {
	ctx, done := r.begin(ctx)
	defer done()
	c, err := r.clients.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	before := ViewClient(c)
	spec := ClientSpec{
		Name: c.Name, GrantTypes: c.GrantTypes, Scopes: c.Scopes, DefaultScopes: c.DefaultScopes,
		Audience: c.Audience, Roles: c.Roles, AccessTokenTTL: c.AccessTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL,
		RateLimit: c.RateLimit, AuthMethod: c.AuthMethod, JWKS: c.JWKS, JWKSURI: c.JWKSURI,
		FederatedIssuer: c.FederatedIssuer, FederatedSubject: c.FederatedSubject, FederatedClaims: c.FederatedClaims,
		Claims: patchClaims(c.Claims, p.Claims), PrivateClaims: patchClaims(c.PrivateClaims, p.PrivateClaims),
	}
	set(&spec.Name, p.Name)
	set(&spec.GrantTypes, p.GrantTypes)
	set(&spec.Scopes, p.Scopes)
	set(&spec.DefaultScopes, p.DefaultScopes)
	set(&spec.Audience, p.Audience)
	set(&spec.Roles, p.Roles)
	set(&spec.AccessTokenTTL, p.AccessTokenTTL)
	set(&spec.RefreshTokenTTL, p.RefreshTokenTTL)
	set(&spec.RateLimit, p.RateLimit)
	patchKeys(&spec, p)
	claims, private, err := validateClient(spec)
	if err != nil {
		return nil, err
	}
	if err := r.checkBinding(ctx, spec); err != nil {
		return nil, err
	}
	c.Name, c.GrantTypes, c.Scopes, c.DefaultScopes = spec.Name, spec.GrantTypes, spec.Scopes, spec.DefaultScopes
	c.Audience, c.Roles, c.AccessTokenTTL, c.RefreshTokenTTL = spec.Audience, spec.Roles, spec.AccessTokenTTL, spec.RefreshTokenTTL
	c.RateLimit = spec.RateLimit
	if spec.AuthMethod == store.AuthPrivateKeyJWT && !c.UsesKeys() {
		c.SecretHash, c.PrevSecretHash, c.PrevSecretExpiresAt = nil, nil, time.Time{}
	}
	c.AuthMethod, c.JWKS, c.JWKSURI = spec.AuthMethod, spec.JWKS, spec.JWKSURI
	c.FederatedIssuer, c.FederatedSubject, c.FederatedClaims = spec.FederatedIssuer, spec.FederatedSubject, spec.FederatedClaims
	c.Claims, c.PrivateClaims = claims, private
	disabling := p.Disabled != nil && *p.Disabled && !c.Disabled
	set(&c.Disabled, p.Disabled)
	set(&c.DPoPBound, p.DPoPBound)
	now := r.now().UTC()
	c.UpdatedAt = now
	if disabling {
		c.TokensRevokedAt = now
	}
	if err := r.raiseClientMark(ctx, c); err != nil {
		return nil, err
	}
	if err := r.clients.UpdateClient(ctx, c); err != nil {
		return nil, conflict(err, "client_name", "client name "+spec.Name)
	}
	if disabling {
		ttl, err := r.clientAccessTTL(ctx, c)
		if err != nil {
			return nil, err
		}
		if err := r.revokeSubject(ctx, store.SubjectClient+c.ID, now, ttl); err != nil {
			return nil, err
		}
	}
	return c, r.record(ctx, "client.update", target(store.SubjectClient, c.ID), before, ViewClient(c))
}

// RotateClientSecret gives the client a new secret. The previous one keeps
// working for overlap, so deployments can switch without downtime; a
// secret older than that stops working at once.
func (r *Registry) RotateClientSecret(ctx context.Context, id string, overlap time.Duration) (*store.Client, string, error) {
	ctx, done := r.begin(ctx)
	defer done()
	if overlap < 0 || overlap > MaxSecretOverlap {
		return nil, "", &ValidationError{Fields: []FieldError{{Field: "overlap", Message: "must be between 0 and " + MaxSecretOverlap.String()}}}
	}
	c, err := r.clients.GetClient(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if c.UsesKeys() {
		return nil, "", &ValidationError{Fields: []FieldError{{Field: "token_endpoint_auth_method", Message: "this client authenticates with private_key_jwt and has no secret; set token_endpoint_auth_method to client_secret_basic first"}}}
	}
	sec := secret.Generate(secret.ClientSecretPrefix)
	now := r.now().UTC()
	c.PrevSecretHash, c.PrevSecretExpiresAt = c.SecretHash, now.Add(overlap)
	if overlap == 0 {
		c.PrevSecretHash, c.PrevSecretExpiresAt = nil, time.Time{}
	}
	c.SecretHash, c.UpdatedAt = r.hasher.Hash(sec), now
	if err := r.clients.UpdateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, sec, r.record(ctx, "client.rotate_secret", target(store.SubjectClient, c.ID), nil,
		map[string]any{"previous_secret_expires_at": c.PrevSecretExpiresAt})
}

// DeleteClient deletes the client and revokes every token it was issued:
// its secret, its API keys and its refresh tokens stop working at once,
// and its access tokens leave every node's introspection within moments.
func (r *Registry) DeleteClient(ctx context.Context, id string) error {
	ctx, done := r.begin(ctx)
	defer done()
	c, err := r.clients.GetClient(ctx, id)
	if err != nil {
		return err
	}
	ttl, err := r.clientAccessTTL(ctx, c)
	if err != nil {
		return err
	}
	now := r.now().UTC()
	if err := r.revokeSubject(ctx, store.SubjectClient+c.ID, now, ttl); err != nil {
		return err
	}
	if err := r.revokeOwnerKeys(ctx, store.OwnerClient, c.ID, now); err != nil {
		return err
	}
	if r.apiKeys != nil {
		if err := r.apiKeys.DeleteAPIKeysOfOwner(ctx, store.OwnerClient, c.ID); err != nil {
			return err
		}
	}
	if err := r.clients.DeleteClient(ctx, c.ID); err != nil {
		return err
	}
	return r.record(ctx, "client.delete", target(store.SubjectClient, c.ID), ViewClient(c), nil)
}

// patchKeys applies the patch's method and keys to spec. A new key
// source replaces the other one unless the patch gives both (which
// validation refuses).
func patchKeys(spec *ClientSpec, p ClientPatch) {
	set(&spec.AuthMethod, p.AuthMethod)
	switch {
	case p.JWKS != nil && p.JWKSURI == nil && len(*p.JWKS) > 0:
		spec.JWKS, spec.JWKSURI = *p.JWKS, ""
	case p.JWKSURI != nil && p.JWKS == nil && *p.JWKSURI != "":
		spec.JWKS, spec.JWKSURI = nil, *p.JWKSURI
	default:
		set(&spec.JWKS, p.JWKS)
		set(&spec.JWKSURI, p.JWKSURI)
	}
	set(&spec.FederatedIssuer, p.FederatedIssuer)
	set(&spec.FederatedSubject, p.FederatedSubject)
	set(&spec.FederatedClaims, p.FederatedClaims)
	ownKeys := p.JWKS != nil && len(*p.JWKS) > 0 || p.JWKSURI != nil && *p.JWKSURI != ""
	bound := p.FederatedIssuer != nil && *p.FederatedIssuer != ""
	switch {
	case bound && !ownKeys && p.JWKS == nil && p.JWKSURI == nil:
		spec.JWKS, spec.JWKSURI = nil, ""
	case ownKeys && p.FederatedIssuer == nil:
		spec.FederatedIssuer, spec.FederatedSubject, spec.FederatedClaims = "", "", nil
	}
	// Back to a secret: the keys and the binding go.
	if spec.AuthMethod != store.AuthPrivateKeyJWT && p.AuthMethod != nil && p.JWKS == nil && p.JWKSURI == nil && p.FederatedIssuer == nil {
		spec.JWKS, spec.JWKSURI = nil, ""
		spec.FederatedIssuer, spec.FederatedSubject, spec.FederatedClaims = "", "", nil
	}
}

// set overwrites *dst with *src when src is given.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}
