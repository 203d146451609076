package registry

import (
	"context"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RevokeClientTokens revokes every token issued to the client up to now:
// its access tokens through the revocation set (every node drops them
// within moments), its refresh-token families through the client record.
// Tokens issued afterwards are unaffected. It returns store.ErrNotFound
// for an unknown client.
func (r *Registry) RevokeClientTokens(ctx context.Context, clientID string) (time.Time, error) {
	ctx, done := r.begin(ctx)
	defer done()
	c, err := r.clients.GetClient(ctx, clientID)
	if err != nil {
		return time.Time{}, err
	}
	ttl, err := r.clientAccessTTL(ctx, c)
	if err != nil {
		return time.Time{}, err
	}
	now := r.now().UTC()
	c.TokensRevokedAt, c.UpdatedAt = now, now
	if err := r.clients.UpdateClient(ctx, c); err != nil {
		return time.Time{}, err
	}
	if err := r.revokeSubject(ctx, store.SubjectClient+c.ID, now, ttl); err != nil {
		return now, err
	}
	return now, r.record(ctx, "client.revoke_tokens", target(store.SubjectClient, c.ID), nil, map[string]time.Time{"revoked_at": now})
}

// RevokeUserTokens revokes every token whose subject is the user, issued
// through any client up to now. It returns store.ErrNotFound for an
// unknown user.
func (r *Registry) RevokeUserTokens(ctx context.Context, userID string) (time.Time, error) {
	ctx, done := r.begin(ctx)
	defer done()
	u, err := r.users.GetUser(ctx, userID)
	if err != nil {
		return time.Time{}, err
	}
	now := r.now().UTC()
	u.TokensRevokedAt, u.UpdatedAt = now, now
	if err := r.users.UpdateUser(ctx, u); err != nil {
		return time.Time{}, err
	}
	if err := r.revokeUserSubject(ctx, u.ID, now); err != nil {
		return now, err
	}
	return now, r.record(ctx, "user.revoke_tokens", target(store.SubjectUser, u.ID), nil, map[string]time.Time{"revoked_at": now})
}

// revokeSubject records the subject revocation for as long as a token
// issued before it could live: ttl, the longest lifetime such a token may
// have (see lifetime.go), plus the clock-skew allowance.
func (r *Registry) revokeSubject(ctx context.Context, key string, at time.Time, ttl time.Duration) error {
	return r.revocations.Revoke(ctx, r.subjectRevocation(key, at, ttl))
}

func (r *Registry) subjectRevocation(key string, at time.Time, ttl time.Duration) *store.Revocation {
	return &store.Revocation{Kind: store.RevokedSubject, Key: key, RevokedAt: at, ExpiresAt: at.Add(ttl + r.skew)}
}
