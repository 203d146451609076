package registry

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/tollgate/tollgate/store"
)

// APIKeyPatch is a change to an API key; nil fields stay as they are.
// Claims is a JSON object, or null to remove them.
type APIKeyPatch struct {
	Name   *string
	Scopes *[]string
	Roles  *[]string
	Claims json.RawMessage
}

// UpdateAPIKey changes a key's name, scopes and, for a subject's key,
// roles and claims, under the rules of CreateAPIKey against the owner's
// current powers. Exchanges see the change within the exchange's key
// cache lifetime (seconds); tokens bought before keep what they carry
// until they expire.
func (r *Registry) UpdateAPIKey(ctx context.Context, id string, p APIKeyPatch) (*store.APIKey, error) {
	ctx, done := r.begin(ctx)
	defer done()
	k, err := r.apiKeys.GetAPIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	before := ViewAPIKey(k)
	next := *k
	var v ValidationError
	if p.Name != nil {
		if *p.Name == "" || len(*p.Name) > maxNameLen || printable(*p.Name) != *p.Name {
			v.add("name", "must be 1 to %d printable characters", maxNameLen)
		}
		next.Name = *p.Name
	}
	if p.Scopes != nil {
		checkScopes(&v, "scope", *p.Scopes)
		next.Scopes = *p.Scopes
		if len(next.Scopes) == 0 {
			v.add("scope", "must name at least one scope")
		}
	}
	if p.Roles != nil {
		next.Roles = *p.Roles
	}
	if p.Claims != nil {
		next.Claims = checkClaims(&v, p.Claims)
	}
	if err := r.checkPatchOwner(ctx, &next, p, &v); err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := r.apiKeys.UpdateAPIKey(ctx, &next); err != nil {
		return nil, err
	}
	return &next, r.record(ctx, "apikey.update", target("apikey:", id), before, ViewAPIKey(&next))
}

// checkPatchOwner checks a changed key against what its owner may grant.
func (r *Registry) checkPatchOwner(ctx context.Context, k *store.APIKey, p APIKeyPatch, v *ValidationError) error {
	if k.OwnerKind == store.OwnerSubject {
		app, err := r.clients.GetClient(ctx, k.ClientID)
		if err != nil {
			return err
		}
		checkSubjectGrants(v, app, k.Scopes, k.Roles)
		return nil
	}
	if p.Roles != nil {
		v.add("roles", "only a subject's key (owner_type subject) carries roles")
	}
	if p.Claims != nil {
		v.add("claims", "only a subject's key (owner_type subject) carries claims")
	}
	if p.Scopes == nil {
		return nil
	}
	allowed, err := r.ownerScopes(ctx, k.OwnerKind, k.OwnerID, v)
	if err != nil {
		return err
	}
	for _, s := range k.Scopes {
		switch {
		case k.OwnerKind == store.OwnerClient && !slices.Contains(allowed, s):
			v.add("scope", "%q is not among the owning client's scopes", printable(s))
		case k.OwnerKind == store.OwnerUser && strings.HasPrefix(s, reservedScopePrefix):
			v.add("scope", "%q is reserved for clients; a user's key cannot carry it", printable(s))
		}
	}
	return nil
}
