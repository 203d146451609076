package registry

import (
	"context"
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
	Name      string
	// Scopes default to the owner's scopes (a client's) when empty.
	Scopes []string
	// ExpiresIn is the key's lifetime; zero means it never expires.
	ExpiresIn time.Duration
}

// APIKeyView is an API key as shown to admins: never the key or its hash.
type APIKeyView struct {
	ID         string     `json:"id"`
	OwnerType  string     `json:"owner_type"`
	OwnerID    string     `json:"owner_id"`
	Name       string     `json:"name"`
	Scope      string     `json:"scope"`
	Prefix     string     `json:"prefix"`
	Last4      string     `json:"last4"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ViewAPIKey returns k as shown to admins.
func ViewAPIKey(k *store.APIKey) APIKeyView {
	return APIKeyView{
		ID: k.ID, OwnerType: string(k.OwnerKind), OwnerID: k.OwnerID, Name: k.Name,
		Scope: strings.Join(k.Scopes, " "), Prefix: k.Prefix, Last4: k.Last4,
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
	allowed, err := r.ownerScopes(ctx, spec.OwnerKind, spec.OwnerID, &v)
	if err != nil {
		return nil, "", err
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
	if err := v.err(); err != nil {
		return nil, "", err
	}
	key := secret.Generate(secret.APIKeyPrefix)
	now := r.now().UTC()
	k := &store.APIKey{
		ID: secret.NewID(APIKeyIDPrefix), OwnerKind: spec.OwnerKind, OwnerID: spec.OwnerID, Name: spec.Name,
		Scopes: spec.Scopes, Hash: r.hasher.Hash(key), Prefix: key[:len(secret.APIKeyPrefix)+4], Last4: key[len(key)-4:],
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
		v.add("owner_type", "must be user or client")
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
