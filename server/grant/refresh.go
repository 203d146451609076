package grant

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

var errBadRefresh = oauth.New(oauth.InvalidGrant, "the refresh token is invalid, expired or revoked; ask the user to log in again")

// rotatingManager replaces the engine's refresh path (load, create, delete:
// racy, and blind to reuse) with an atomic rotation in our store.
type rotatingManager struct {
	*manage.Manager
	e *Engine
}

// RefreshAccessToken rotates the refresh token (RFC 9700 §4.14.2): the
// presented token dies and its successor is stored in one atomic step; a
// second use of a rotated token revokes its whole family.
func (m rotatingManager) RefreshAccessToken(ctx context.Context, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	st := issuanceFrom(ctx)
	ti, err := m.e.rotate(ctx, st, tgr)
	if err != nil {
		st.err = err
		return nil, oerrors.ErrInvalidGrant
	}
	return ti, nil
}

// errRefreshKey answers a refresh of a DPoP-bound family without a proof
// by its key.
var errRefreshKey = oauth.New(oauth.InvalidDPoPProof, "this refresh token is bound to a DPoP key: send a DPoP proof signed by that key")

func (e *Engine) rotate(ctx context.Context, st *issuance, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	family, ok := secret.ParseRefreshToken(tgr.Refresh)
	if !ok {
		return nil, errBadRefresh
	}
	id := secret.TokenHash(tgr.Refresh)
	old, err := e.opts.Refresh.GetRefreshToken(ctx, family, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	// RFC 6749 §6: the token must have been issued to the authenticated client.
	if old.ClientID != st.client.ID {
		return nil, errBadRefresh
	}
	// A revoke-all for the client kills families it had started by then.
	if !old.FamilyIssuedAt.After(st.client.TokensRevokedAt) {
		return nil, errBadRefresh
	}
	// RFC 9449 §5: a bound family refreshes only with a proof by its key.
	// Checked before reuse: a stolen token without the key revokes nothing.
	if old.KeyThumbprint != "" && st.req.KeyThumbprint != old.KeyThumbprint {
		return nil, errRefreshKey
	}
	now := e.opts.Now()
	if !old.RotatedAt.IsZero() {
		return nil, e.reused(ctx, st.client, family, old.RotatedAt, now)
	}
	subject, roles := st.client.ID, st.client.Roles
	sc := subjectClaims{public: st.client.Claims, private: st.client.PrivateClaims}
	if old.UserID != "" {
		u, err := e.opts.Users.GetUser(ctx, old.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || !old.FamilyIssuedAt.After(u.TokensRevokedAt))) {
			return nil, errBadRefresh
		}
		if err != nil {
			return nil, err
		}
		subject, roles = u.ID, u.Roles
		sc = subjectClaims{public: u.Claims, private: u.PrivateClaims}
	}
	scopes, err := narrowScope(tgr.Scope, old.Scopes, "was not granted originally; a refresh may only narrow the scope")
	if err != nil {
		return nil, err
	}
	// The family keeps only what its client and user may still have: a
	// scope removed from the client, or a role taken from the user, leaves
	// the next token (and the family) without it.
	scopes, err = grantable(scopes, func(s string) bool {
		return slices.Contains(st.client.Scopes, s) && (old.UserID == "" || userMay(s, roles))
	}, whyRefresh)
	if err != nil {
		return nil, err
	}
	ttl := e.accessTTL(st.client)
	access, err := e.sign(st, subject, roles, sc, scopes, now, ttl)
	if err != nil {
		return nil, err
	}
	refresh := secret.NewRefreshToken(family)
	next := &store.RefreshToken{
		ID:             secret.TokenHash(refresh),
		FamilyID:       family,
		ClientID:       old.ClientID,
		UserID:         old.UserID,
		Scopes:         scopes,
		IssuedAt:       now,
		FamilyIssuedAt: old.FamilyIssuedAt,
		ExpiresAt:      now.Add(e.refreshTTL(st.client)),
		KeyThumbprint:  old.KeyThumbprint,
	}
	err = e.opts.Refresh.RotateRefreshToken(ctx, family, id, next, now)
	switch {
	case errors.Is(err, store.ErrTokenReused):
		// Another request rotated it first.
		return nil, e.reused(ctx, st.client, family, now, now)
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadRefresh
	case err != nil:
		return nil, err
	}
	ti := models.NewToken()
	ti.SetClientID(old.ClientID)
	ti.SetUserID(old.UserID)
	ti.SetScope(strings.Join(scopes, " "))
	ti.SetAccess(access)
	ti.SetAccessCreateAt(now)
	ti.SetAccessExpiresIn(ttl)
	ti.SetRefresh(refresh)
	ti.SetRefreshCreateAt(now)
	ti.SetRefreshExpiresIn(e.refreshTTL(st.client))
	return ti, nil
}

// reused handles the presentation of an already rotated token: unless it
// falls within the configured grace window, the whole family is revoked,
// since either the client or an attacker holds a stolen copy.
func (e *Engine) reused(ctx context.Context, c *store.Client, family string, rotatedAt, now time.Time) error {
	if e.opts.ReuseGrace > 0 && now.Sub(rotatedAt) <= e.opts.ReuseGrace {
		return errBadRefresh
	}
	if err := e.opts.Refresh.RevokeRefreshFamily(ctx, family, now.Add(e.refreshTTL(c))); err != nil {
		return err
	}
	e.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "refresh token reuse detected; token family revoked",
		slog.String("client_id", c.ID), slog.String("family_id", family))
	return errBadRefresh
}

// narrowScope lets a request keep or narrow, never widen, what was granted
// (a refresh: RFC 6749 §6; an API key's scopes). A scope outside granted is
// invalid_scope, its message ending with why.
func narrowScope(requested string, granted []string, why string) ([]string, error) {
	want, err := ParseScope(requested)
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		return granted, nil
	}
	for _, s := range want {
		if !slices.Contains(granted, s) {
			return nil, oauth.New(oauth.InvalidScope, "scope "+quote(s)+" "+why)
		}
	}
	return want, nil
}
