package grant

import (
	"context"
	"slices"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// generator replaces the engine's token generator (whose JWTs carry only
// aud, sub and exp) with RFC 9068 access tokens, and mints refresh tokens
// only for clients allowed the refresh_token grant.
type generator struct{ e *Engine }

func (g generator) Token(ctx context.Context, data *oauth2.GenerateBasic, genRefresh bool) (string, string, error) {
	st := issuanceFrom(ctx)
	e := g.e
	ti := data.TokenInfo
	subject, roles := st.client.ID, st.client.Roles
	sc := subjectClaims{public: st.client.Claims, private: st.client.PrivateClaims}
	if st.user != nil {
		subject, roles = st.user.ID, st.user.Roles
		sc = subjectClaims{public: st.user.Claims, private: st.user.PrivateClaims}
	}
	now := e.opts.Now()
	access, err := e.sign(st, subject, roles, sc, st.scopes, now, ti.GetAccessExpiresIn())
	if err != nil {
		return "", "", err
	}
	if !genRefresh || !slices.Contains(st.client.GrantTypes, RefreshToken) {
		return access, "", nil
	}
	family := secret.NewID("")
	refresh := secret.NewRefreshToken(family)
	st.refresh = &store.RefreshToken{
		ID:             secret.TokenHash(refresh),
		FamilyID:       family,
		ClientID:       st.client.ID,
		UserID:         data.UserID,
		Scopes:         st.scopes,
		IssuedAt:       now,
		FamilyIssuedAt: now,
		ExpiresAt:      now.Add(e.refreshTTL(st.client)),
		// A family begun with a DPoP proof stays bound to its key.
		KeyThumbprint: st.req.KeyThumbprint,
	}
	return access, refresh, nil
}

// sign builds and signs (and, for an encrypted audience, encrypts) the
// RFC 9068 claims of one access token for the request's client.
func (e *Engine) sign(st *issuance, subject string, roles []string, sc subjectClaims, scopes []string, now time.Time, ttl time.Duration) (string, error) {
	c := &accesstoken.Claims{
		Subject: subject, Audience: st.aud, ClientID: st.client.ID,
		Scope: scopes, Roles: roles, KeyThumbprint: st.req.KeyThumbprint,
	}
	tok, err := e.issue(c, sc, now, ttl)
	if err != nil {
		return "", err
	}
	st.claims = c
	return tok, nil
}

// issue completes c (issuer, times, jti; the server's audience when c has
// none), adds the subject's claims and signs it. A token whose audience is
// encrypted also gets the private claims and is returned as a nested JWT
// (RFC 7519 §5.2): the JWS encrypted to that audience. A private claim
// never reaches a plain JWS.
func (e *Engine) issue(c *accesstoken.Claims, sc subjectClaims, now time.Time, ttl time.Duration) (string, error) {
	key, err := e.opts.Keys.Signer()
	if err != nil {
		return "", err
	}
	if len(c.Audience) == 0 {
		c.Audience = e.opts.Audience
	}
	c.Issuer, c.IssuedAt, c.ExpiresAt, c.ID = e.opts.Issuer, now, now.Add(ttl), accesstoken.NewJTI()
	aud := e.encryptedTo(c.Audience)
	if aud == "" {
		c.Extra = sc.public
		return accesstoken.Sign(key, c)
	}
	c.Extra = accesstoken.MergeExtra(sc.public, sc.private)
	jws, err := accesstoken.Sign(key, c)
	c.Extra = sc.public // only what a plain token of the subject shows stays around
	if err != nil {
		return "", err
	}
	jwe, err := e.opts.Encrypter.Encrypt(aud, jws)
	if err != nil && !e.opts.Encrypter.Encrypted(aud) {
		// Encryption was turned off since: the token is an ordinary
		// one, without the private claims.
		return accesstoken.Sign(key, c)
	}
	return jwe, err
}

func (e *Engine) accessTTL(c *store.Client) time.Duration {
	if c.AccessTokenTTL > 0 {
		return c.AccessTokenTTL
	}
	return e.opts.AccessTTL
}

func (e *Engine) refreshTTL(c *store.Client) time.Duration {
	if c.RefreshTokenTTL > 0 {
		return c.RefreshTokenTTL
	}
	return e.opts.RefreshTTL
}

// tokenStore is the engine's token storage. Access tokens are never stored
// (issuance is stateless); the only thing kept is a new refresh token, in
// our store. The engine's load and remove paths serve its own refresh
// flow, which rotatingManager replaces, so they find nothing.
type tokenStore struct{ refresh store.RefreshTokenStore }

func (ts tokenStore) Create(ctx context.Context, _ oauth2.TokenInfo) error {
	st := issuanceFrom(ctx)
	if st.refresh == nil {
		return nil
	}
	return ts.refresh.CreateRefreshToken(ctx, st.refresh)
}

func (tokenStore) RemoveByCode(context.Context, string) error    { return nil }
func (tokenStore) RemoveByAccess(context.Context, string) error  { return nil }
func (tokenStore) RemoveByRefresh(context.Context, string) error { return nil }
func (tokenStore) GetByCode(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oerrors.ErrInvalidAuthorizeCode
}
func (tokenStore) GetByAccess(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oerrors.ErrInvalidAccessToken
}
func (tokenStore) GetByRefresh(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, oerrors.ErrInvalidRefreshToken
}
