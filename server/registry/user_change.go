package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Roles    *[]string
	Disabled *bool
	// Claims and PrivateClaims replace the user's extra claims: a JSON
	// object, or null to remove them; nil keeps them.
	Claims        json.RawMessage
	PrivateClaims json.RawMessage
}

// UpdateUser applies p. Disabling a user also revokes every token issued to
// them: a disabled user cannot log in, refresh, or use what they hold.
func (r *Registry) UpdateUser(ctx context.Context, id string, p UserPatch) (*store.User, error) {
	ctx, done := r.begin(ctx)
	defer done()
	u, err := r.users.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	before := ViewUser(u)
	var v ValidationError
	if p.Roles != nil {
		checkValues(&v, "roles", *p.Roles)
	}
	claims, private := checkSubjectClaims(&v, patchClaims(u.Claims, p.Claims), patchClaims(u.PrivateClaims, p.PrivateClaims))
	if err := v.err(); err != nil {
		return nil, err
	}
	if p.Roles != nil {
		u.Roles = *p.Roles
	}
	u.Claims, u.PrivateClaims = claims, private
	disabling := p.Disabled != nil && *p.Disabled && !u.Disabled
	set(&u.Disabled, p.Disabled)
	now := r.now().UTC()
	u.UpdatedAt = now
	if disabling {
		u.TokensRevokedAt = now
	}
	if err := r.users.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if disabling {
		if err := r.revokeUserSubject(ctx, u.ID, now); err != nil {
			return nil, err
		}
		if err := r.revokeOwnerKeys(ctx, store.OwnerUser, u.ID, now); err != nil {
			return nil, err
		}
	}
	return u, r.record(ctx, "user.update", target(store.SubjectUser, u.ID), before, ViewUser(u))
}

// SetPassword replaces the user's password (argon2id) and revokes every
// token issued to the user until now, as disabling does: whoever logged in
// with the old password (the reason to change it, often) loses the refresh
// families and access tokens it got. The user's API keys are separate
// credentials and keep working.
func (r *Registry) SetPassword(ctx context.Context, id, password string) error {
	ctx, done := r.begin(ctx)
	defer done()
	if len(password) < minPasswordLen || len(password) > maxPasswordLen {
		return &ValidationError{Fields: []FieldError{{Field: "password", Message: "must be 8 to 1024 bytes long"}}}
	}
	u, err := r.users.GetUser(ctx, id)
	if err != nil {
		return err
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	now := r.now().UTC()
	u.PasswordHash, u.UpdatedAt, u.TokensRevokedAt = hash, now, now
	if err := r.users.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := r.revokeUserSubject(ctx, u.ID, now); err != nil {
		return err
	}
	return r.record(ctx, "user.set_password", target(store.SubjectUser, u.ID), nil, map[string]string{"password": "[redacted]"})
}

// DeleteUser deletes the user, their API keys, and revokes their tokens.
func (r *Registry) DeleteUser(ctx context.Context, id string) error {
	ctx, done := r.begin(ctx)
	defer done()
	u, err := r.users.GetUser(ctx, id)
	if err != nil {
		return err
	}
	now := r.now().UTC()
	if err := r.revokeUserSubject(ctx, u.ID, now); err != nil {
		return err
	}
	if err := r.revokeOwnerKeys(ctx, store.OwnerUser, u.ID, now); err != nil {
		return err
	}
	if r.apiKeys != nil {
		if err := r.apiKeys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, u.ID); err != nil {
			return err
		}
	}
	if err := r.users.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	return r.record(ctx, "user.delete", target(store.SubjectUser, u.ID), ViewUser(u), nil)
}

// revokeUserSubject records a subject revocation for the user's access
// tokens, kept as long as the longest of them can live.
func (r *Registry) revokeUserSubject(ctx context.Context, id string, at time.Time) error {
	ttl, err := r.longestAccessTTL(ctx)
	if err != nil {
		return err
	}
	return r.revokeSubject(ctx, store.SubjectUser+id, at, ttl)
}
