package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// APIKeyIDPrefix starts every API key's public ID.
const APIKeyIDPrefix = "key_"

// reservedScopePrefix names Tollgate's own scopes, which only clients may
// hold: a user's API key never carries them.
const reservedScopePrefix = "tollgate:"

// Bounds on an API key's lifetime.
const (
	minKeyLifetime = time.Minute
	maxKeyLifetime = 10 * 365 * 24 * time.Hour
)

// APIKeySpec is what a caller may set on a new API key.
type APIKeySpec struct {
	OwnerKind store.OwnerKind
	OwnerID   string
	// ClientID is, for an OwnerSubject key, the application client that
	// issues it.
	ClientID string
	Name     string
	// Scopes default to the owner's scopes (a client's) when empty; for a
	// subject's key, to the application client's scopes outside tollgate:*.
	Scopes []string
	// Roles and Claims (a JSON object) are a subject's key's only.
	Roles  []string
	Claims json.RawMessage
	// ExpiresIn is the key's lifetime; zero means it never expires.
	ExpiresIn time.Duration
}

// APIKeyView is an API key as shown to admins: never the key or its hash.
type APIKeyView struct {
	ID         string          `json:"id"`
	OwnerType  string          `json:"owner_type"`
	OwnerID    string          `json:"owner_id"`
	ClientID   string          `json:"client_id,omitempty"`
	Name       string          `json:"name"`
	Scope      string          `json:"scope"`
	Roles      []string        `json:"roles,omitempty"`
	Claims     json.RawMessage `json:"claims,omitempty"`
	Prefix     string          `json:"prefix"`
	Last4      string          `json:"last4"`
	ExpiresAt  *time.Time      `json:"expires_at"`
	CreatedAt  time.Time       `json:"created_at"`
	LastUsedAt *time.Time      `json:"last_used_at"`
	RevokedAt  *time.Time      `json:"revoked_at"`
}

// ViewAPIKey returns k as shown to admins.
func ViewAPIKey(k *store.APIKey) APIKeyView {
	return APIKeyView{
		ID: k.ID, OwnerType: string(k.OwnerKind), OwnerID: k.OwnerID, ClientID: k.ClientID, Name: k.Name,
		Scope: strings.Join(k.Scopes, " "), Roles: k.Roles, Claims: json.RawMessage(k.Claims), Prefix: k.Prefix, Last4: k.Last4,
		ExpiresAt: timePtr(k.ExpiresAt), CreatedAt: k.CreatedAt, LastUsedAt: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt),
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateAPIKey validates spec, generates the key (256 bits, prefix tgk_,
// with a checksum) and stores only its keyed hash. The key is returned
// once.
func (r *Registry) CreateAPIKey(ctx context.Context, spec APIKeySpec) (*store.APIKey, string, error) {
	ctx, done := r.begin(ctx)
	defer done()
	var v ValidationError
	if spec.Name == "" || len(spec.Name) > maxNameLen || printable(spec.Name) != spec.Name {
		v.add("name", "must be 1 to %d printable characters", maxNameLen)
	}
	if spec.ExpiresIn != 0 && (spec.ExpiresIn < minKeyLifetime || spec.ExpiresIn > maxKeyLifetime) {
		v.add("expires_in", "must be between %s and %s, or 0 for a key that does not expire", minKeyLifetime, maxKeyLifetime)
	}
	checkScopes(&v, "scope", spec.Scopes)
	claims, err := r.checkKeyOwner(ctx, &spec, &v)
	if err != nil {
		return nil, "", err
	}
	if err := v.err(); err != nil {
		return nil, "", err
	}
	if err := r.checkKeyLimit(ctx, spec); err != nil {
		return nil, "", err
	}
	key := secret.Generate(secret.APIKeyPrefix)
	now := r.now().UTC()
	k := &store.APIKey{
		ID: secret.NewID(APIKeyIDPrefix), OwnerKind: spec.OwnerKind, OwnerID: spec.OwnerID, ClientID: spec.ClientID, Name: spec.Name,
		Scopes: spec.Scopes, Roles: spec.Roles, Claims: claims, Hash: r.hasher.Hash(key), Prefix: key[:len(secret.APIKeyPrefix)+4], Last4: key[len(key)-4:],
		CreatedAt: now,
	}
	if spec.ExpiresIn > 0 {
		k.ExpiresAt = now.Add(spec.ExpiresIn)
	}
	if err := r.apiKeys.CreateAPIKey(ctx, k); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", ownerMissing(spec.OwnerKind)
		}
		return nil, "", err
	}
	return k, key, r.record(ctx, "apikey.create", target("apikey:", k.ID), nil, ViewAPIKey(k))
}

// checkKeyOwner checks the owner of a new key and what the key may carry
// (filling in default scopes), adding problems to v; it returns the
// compacted claims of a subject's key.
func (r *Registry) checkKeyOwner(ctx context.Context, spec *APIKeySpec, v *ValidationError) ([]byte, error) {
	if spec.OwnerKind == store.OwnerSubject {
		checkSubject(v, spec.OwnerID)
		if spec.OwnerID == spec.ClientID {
			// sub == client_id reads as the app's own token.
			v.add("owner_id", "must differ from the application's client_id")
		}
		claims := checkClaims(v, spec.Claims)
		app, err := r.appClient(ctx, spec.ClientID)
		if ve, ok := errors.AsType[*ValidationError](err); ok {
			v.Fields = append(v.Fields, ve.Fields...)
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if len(spec.Scopes) == 0 {
			spec.Scopes = appScopes(app)
		}
		checkSubjectGrants(v, app, spec.Scopes, spec.Roles)
		return claims, nil
	}
	if len(spec.Roles) > 0 {
		v.add("roles", "only a subject's key (owner_type subject) carries roles")
	}
	if len(bytes.TrimSpace(spec.Claims)) > 0 && string(bytes.TrimSpace(spec.Claims)) != "null" {
		v.add("claims", "only a subject's key (owner_type subject) carries claims")
	}
	if spec.ClientID != "" {
		v.add("client_id", "names the application client of a subject's key (owner_type subject) only")
	}
	allowed, err := r.ownerScopes(ctx, spec.OwnerKind, spec.OwnerID, v)
	if err != nil {
		return nil, err
	}
	if len(spec.Scopes) == 0 && spec.OwnerKind == store.OwnerClient {
		spec.Scopes = allowed
	}
	for _, s := range spec.Scopes {
		switch {
		case spec.OwnerKind == store.OwnerClient && !slices.Contains(allowed, s):
			v.add("scope", "%q is not among the owning client's scopes", printable(s))
		case spec.OwnerKind == store.OwnerUser && strings.HasPrefix(s, reservedScopePrefix):
			v.add("scope", "%q is reserved for clients; a user's key cannot carry it", printable(s))
		}
	}
	return nil, nil
}

// ownerScopes checks the owner exists and returns the scopes its keys may
// carry (a client's; nil for a user).
func (r *Registry) ownerScopes(ctx context.Context, kind store.OwnerKind, id string, v *ValidationError) ([]string, error) {
	var err error
	var scopes []string
	switch kind {
	case store.OwnerClient:
		var c *store.Client
		if c, err = r.clients.GetClient(ctx, id); err == nil {
			scopes = c.Scopes
		}
	case store.OwnerUser:
		_, err = r.users.GetUser(ctx, id)
	default:
		v.add("owner_type", "must be user, client or subject")
		return nil, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, ownerMissing(kind)
	}
	return scopes, err
}

func ownerMissing(kind store.OwnerKind) error {
	return &ValidationError{Fields: []FieldError{{Field: "owner_id", Message: "no such " + string(kind)}}}
}

// RevokeAPIKey revokes the key: every later exchange of it fails at once,
// and the access tokens it bought become inactive on every node within
// moments.
func (r *Registry) RevokeAPIKey(ctx context.Context, id string) error {
	ctx, done := r.begin(ctx)
	defer done()
	k, err := r.apiKeys.GetAPIKey(ctx, id)
	if err != nil {
		return err
	}
	now := r.now().UTC()
	if err := r.apiKeys.RevokeAPIKey(ctx, id, now); err != nil {
		return err
	}
	ttl, err := r.longestAccessTTL(ctx)
	if err != nil {
		return err
	}
	if err := r.revokeSubject(ctx, store.SubjectAPIKey+id, now, ttl); err != nil {
		return err
	}
	before := ViewAPIKey(k)
	k, err = r.apiKeys.GetAPIKey(ctx, id)
	if err != nil {
		return err
	}
	return r.record(ctx, "apikey.revoke", target("apikey:", id), before, ViewAPIKey(k))
}

// revokeOwnerKeys records a cluster-wide revocation for every key of the
// owner, so that nodes caching those keys stop exchanging them at once
// (the owner is being deleted or disabled). The tokens the keys bought
// become inactive too.
func (r *Registry) revokeOwnerKeys(ctx context.Context, kind store.OwnerKind, ownerID string, at time.Time) error {
	if r.apiKeys == nil {
		return nil
	}
	ttl, err := r.longestAccessTTL(ctx)
	if err != nil {
		return err
	}
	for after := ""; ; {
		page, err := r.apiKeys.ListAPIKeys(ctx, kind, ownerID, after, 500)
		if err != nil {
			return err
		}
		rs := make([]*store.Revocation, len(page))
		for i, k := range page {
			rs[i] = r.subjectRevocation(store.SubjectAPIKey+k.ID, at, ttl)
		}
		if err := r.revocations.RevokeAll(ctx, rs); err != nil {
			return err
		}
		if len(page) < 500 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}
