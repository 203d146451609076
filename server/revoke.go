package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// RevocationSet is the node's revocation set; *revocation.Set implements
// it.
type RevocationSet interface {
	// Revoke records r in the store and in this node's set.
	Revoke(ctx context.Context, r *store.Revocation) error
	// RevokeToken revokes an access token unless the set already covers
	// it (by its jti or one of its subjects revoked at or after
	// issuedAt); covered reports that no-op.
	RevokeToken(ctx context.Context, r *store.Revocation, subjects []string, issuedAt time.Time) (covered bool, err error)
	// Page returns at most limit entries after cursor, the cursor to
	// resume from, whether more entries follow at once, and a channel
	// closed at the next change.
	Page(cursor int64, limit int) (rs []store.Revocation, next int64, more bool, changed <-chan struct{})
	// Ready fails while the set may be incomplete.
	Ready(ctx context.Context) error
}

// Decrypter opens encrypted access tokens (nested JWTs);
// *encryption.Ring implements it.
type Decrypter interface {
	// Decrypt returns the inner JWS and the audience whose key opened
	// it; any error means the token is not one Tollgate can open.
	Decrypt(ctx context.Context, jwe string) (jws, aud string, err error)
}

// revoker revokes tokens presented to POST /oauth2/revoke.
type revoker struct {
	keys       accesstoken.KeySource
	dec        Decrypter // nil: a JWE is a token this server does not know
	set        RevocationSet
	refresh    store.RefreshTokenStore
	issuer     string
	skew       time.Duration
	refreshTTL time.Duration
	now        func() time.Time
}

var errNotYours = oauth.New(oauth.UnauthorizedClient, "the token was issued to another client; a client may revoke only its own tokens")

// revoke implements RFC 7009 §2.1. The token's shape decides how it is
// looked up; token_type_hint is not needed. Tokens that are unknown,
// expired or garbage are not an error (§2.2).
func (rv *revoker) revoke(ctx context.Context, cl *store.Client, tok string) error {
	now := rv.now()
	if family, ok := secret.ParseRefreshToken(tok); ok {
		rt, err := rv.refresh.GetRefreshToken(ctx, family, secret.TokenHash(tok))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rt.ClientID != cl.ID {
			return errNotYours
		}
		// The token dies with its whole family: every successor too.
		ttl := max(rv.refreshTTL, cl.RefreshTokenTTL)
		return rv.refresh.RevokeRefreshFamily(ctx, family, now.Add(ttl))
	}
	c, err := rv.verify(ctx, tok, now)
	if err != nil {
		return nil
	}
	if c.ClientID != cl.ID {
		return errNotYours
	}
	// Kept until the token could no longer pass any check, exp + skew. A
	// token the set already covers (revoked before, or its client, user
	// or API key revoked since it was issued) adds nothing: the set stays
	// as small as the tokens actually revoked.
	subjects := []string{store.SubjectClient + c.ClientID, store.SubjectUser + c.Subject}
	if c.APIKeyID != "" {
		subjects = append(subjects, store.SubjectAPIKey+c.APIKeyID)
	}
	_, err = rv.set.RevokeToken(ctx, &store.Revocation{
		Kind: store.RevokedToken, Key: c.ID, RevokedAt: now, ExpiresAt: c.ExpiresAt.Add(rv.skew),
	}, subjects, c.IssuedAt)
	return err
}

// verify checks an access token, decrypting an encrypted one (a JWE,
// RFC 7516 §7.1) first: its inner JWS must name the audience it was
// encrypted to.
func (rv *revoker) verify(ctx context.Context, tok string, now time.Time) (*accesstoken.Claims, error) {
	aud := ""
	if strings.Count(tok, ".") == 4 {
		if rv.dec == nil {
			return nil, errUnknownToken
		}
		var err error
		if tok, aud, err = rv.dec.Decrypt(ctx, tok); err != nil {
			return nil, err
		}
	}
	c, err := accesstoken.Verify(tok, rv.keys, accesstoken.VerifyOptions{Issuer: rv.issuer, Now: now, Leeway: rv.skew})
	if err == nil && aud != "" && !slices.Contains(c.Audience, aud) {
		return nil, errUnknownToken
	}
	return c, err
}

var errUnknownToken = errors.New("not a token of this server")

// revokeHandler serves POST /oauth2/revoke (RFC 7009). The caller
// authenticates as a client, with Basic or form credentials, and spends
// one unit of its revocation budget per request, whatever the token.
func revokeHandler(auth ClientAuthenticator, g *guard, b *revocationBudget, rv *revoker, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, form, err := authenticateForm(c, auth, g)
		if err != nil {
			renderOAuthError(c, log, err, true)
			return
		}
		if !b.admit(c, cl.ID) {
			return
		}
		tok := form.Get("token")
		if tok == "" {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "token is required"), true)
			return
		}
		if err := rv.revoke(c.Request.Context(), cl, tok); err != nil {
			renderOAuthError(c, log, err, true)
			return
		}
		noStore(c)
		c.Status(http.StatusOK)
	}
}
