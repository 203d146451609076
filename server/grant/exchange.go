package grant

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// Token exchange (RFC 8693) of an API key for an access token.
const (
	TokenExchange        = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAPIKey      = "urn:tollgate:params:oauth:token-type:api_key"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

var errBadAPIKey = oauth.New(oauth.InvalidGrant, "the API key is invalid, expired or revoked")

// Exchange serves the token-exchange grant. The grant engine rejects grant
// types it does not know before any hook runs, so this grant is routed
// here, before the engine. The API key authenticates the request: no
// client secret is needed. Client credentials that are sent anyway are
// checked (RFC 8693 §2.1 defers to RFC 6749 §2.3): wrong ones are
// invalid_client, before the key is looked at. A malformed key (wrong
// prefix, length or checksum) is refused before any lookup.
func (e *Engine) Exchange(ctx context.Context, req *Request) (*Token, error) {
	form := req.Form
	key, err := exchangeRequest(form)
	if err != nil {
		return nil, err
	}
	if req.ClientID != "" || req.ClientSecret != "" || req.ClientAssertion != "" {
		if _, err := e.authenticateRequest(ctx, req); err != nil {
			return nil, err
		}
	}
	if !secret.Valid(secret.APIKeyPrefix, key) {
		return nil, errBadAPIKey
	}
	now := e.opts.Now()
	k, o, err := e.lookupKey(ctx, e.opts.Hasher.Hash(key), now)
	if err != nil {
		return nil, err
	}
	if o.dpopBound && req.KeyThumbprint == "" {
		return nil, errDPoPRequired
	}
	scopes, err := narrowScope(form.Get("scope"), k.Scopes, "is not among the API key's scopes; an exchange may only narrow them")
	if err != nil {
		return nil, err
	}
	// The key carries what its owner may still grant: a scope since removed
	// from the owning client, or one the user's roles no longer allow, is
	// left out (UserScopeRoles).
	if scopes, err = grantable(scopes, o.allows, whyKeyOwner); err != nil {
		return nil, err
	}
	aud, err := e.keyAudience(o.audience, form.Get("audience"))
	if err != nil {
		return nil, err
	}
	c := &accesstoken.Claims{
		Subject: k.OwnerID, Audience: aud, ClientID: o.clientID, Scope: scopes, Roles: o.roles,
		APIKeyID: k.ID, KeyThumbprint: req.KeyThumbprint,
	}
	tok, err := e.issue(c, o.claims, now, o.ttl)
	if err != nil {
		return nil, err
	}
	e.usage.touch(k.ID, now)
	return &Token{
		AccessToken: tok, TokenType: req.tokenType(), ExpiresIn: int64(o.ttl.Seconds()), Scope: strings.Join(scopes, " "),
		IssuedTokenType: TokenTypeAccessToken, Subject: c.Subject, JTI: c.ID,
	}, nil
}

// lookupKey finds a usable key and its owner: from the cache when it is
// fresh, else from the database (an owning client always from the client
// store). Revoked (in the store or cluster-wide), expired keys and keys of
// deleted or disabled owners are errBadAPIKey.
func (e *Engine) lookupKey(ctx context.Context, hash []byte, now time.Time) (*store.APIKey, keyOwner, error) {
	k, o, ok := e.keys.get(ctx, hash, now)
	if !ok {
		gen := e.keys.generation()
		var err error
		k, err = e.opts.APIKeys.GetAPIKeyByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, keyOwner{}, errBadAPIKey
		}
		if err != nil {
			return nil, keyOwner{}, err
		}
		if k.RevokedAt.IsZero() {
			if o, err = e.owner(ctx, k); err != nil {
				return nil, keyOwner{}, err
			}
			e.keys.put(hash, k, o, now, gen)
		}
	} else if k.OwnerKind == store.OwnerClient || k.OwnerKind == store.OwnerSubject {
		// Clients are read through the client cache, which every node
		// drops the moment a client changes: a scope removed from the
		// owning client leaves its keys' next exchange at once.
		var err error
		if o, err = e.owner(ctx, k); err != nil {
			return nil, keyOwner{}, err
		}
	}
	if !k.RevokedAt.IsZero() || (!k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)) || e.keys.revoked(k.ID) {
		return nil, keyOwner{}, errBadAPIKey
	}
	return k, o, nil
}

// keyAudience resolves the aud of an API key's token: its owner's
// audiences (the server's when it has none), or the one the audience
// parameter names among them or the server's (RFC 8693 §2.1).
func (e *Engine) keyAudience(own []string, requested string) ([]string, error) {
	if requested == "" {
		if len(own) == 0 {
			own = e.opts.Audience
		}
		return own, e.soleEncrypted(own)
	}
	if !slices.Contains(own, requested) && !slices.Contains(e.opts.Audience, requested) {
		return nil, oauth.New(oauth.InvalidTarget, "this API key may not get tokens for that audience")
	}
	return []string{requested}, nil
}

// exchangeRequest checks the RFC 8693 §2.1 parameters and returns the key.
func exchangeRequest(form url.Values) (string, error) {
	key := form.Get("subject_token")
	switch {
	case key == "":
		return "", oauth.New(oauth.InvalidRequest, "subject_token is required: the API key")
	case form.Get("subject_token_type") != TokenTypeAPIKey:
		return "", oauth.New(oauth.InvalidRequest, "subject_token_type must be "+TokenTypeAPIKey)
	case form.Has("actor_token") || form.Has("actor_token_type"):
		return "", oauth.New(oauth.InvalidRequest, "delegation (actor_token) is not supported")
	case form.Has("requested_token_type") && form.Get("requested_token_type") != TokenTypeAccessToken:
		return "", oauth.New(oauth.InvalidRequest, "requested_token_type may only be "+TokenTypeAccessToken)
	case form.Has("resource"):
		return "", oauth.New(oauth.InvalidTarget, "resource is not supported; use audience")
	}
	return key, nil
}

// keyOwner is what an API key's owner contributes to its tokens.
type keyOwner struct {
	clientID string
	audience []string
	roles    []string
	ttl      time.Duration
	// user marks a user's key; scopes are an owning client's current ones.
	user   bool
	scopes []string
	// claims are the extra claims of the token's subject: a subject key's
	// own (public only), else the owning client's or user's.
	claims subjectClaims
	// dpopBound: the owning client requires DPoP proofs (RFC 9449 §5.2).
	dpopBound bool
}

// allows reports whether the owner may still grant s: a client the scopes
// it holds now (an application the ones outside tollgate:* for its
// subjects), a user what its roles allow (userMay).
func (o keyOwner) allows(s string) bool {
	if o.user {
		return userMay(s, o.roles)
	}
	return slices.Contains(o.scopes, s)
}

// owner loads the key's owner. A deleted or disabled owner makes the key
// useless at once.
func (e *Engine) owner(ctx context.Context, k *store.APIKey) (keyOwner, error) {
	switch k.OwnerKind {
	case store.OwnerClient:
		c, err := e.opts.Clients.GetClient(ctx, k.OwnerID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && c.Disabled) {
			return keyOwner{}, errBadAPIKey
		}
		if err != nil {
			return keyOwner{}, err
		}
		return keyOwner{clientID: c.ID, audience: c.Audience, roles: c.Roles, ttl: e.accessTTL(c), scopes: c.Scopes, dpopBound: c.DPoPBound,
			claims: subjectClaims{public: c.Claims, private: c.PrivateClaims}}, nil
	case store.OwnerSubject:
		return e.subjectOwner(ctx, k)
	case store.OwnerUser:
		u, err := e.opts.Users.GetUser(ctx, k.OwnerID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			return keyOwner{}, errBadAPIKey
		}
		if err != nil {
			return keyOwner{}, err
		}
		// A user's key acts as its own client: client_id is the key's ID.
		return keyOwner{clientID: k.ID, roles: u.Roles, ttl: e.opts.AccessTTL, user: true,
			claims: subjectClaims{public: u.Claims, private: u.PrivateClaims}}, nil
	}
	return keyOwner{}, errBadAPIKey
}

// subjectOwner is the owner of an application's key for one of its own
// users: the token is the app's (client_id, audience, lifetime), its
// subject the app's user. Roles and scopes are the key's, as far as the
// app still holds them; Tollgate's own scopes never reach a subject. The
// key is useless once the app client is gone or while it is disabled.
func (e *Engine) subjectOwner(ctx context.Context, k *store.APIKey) (keyOwner, error) {
	c, err := e.opts.Clients.GetClient(ctx, k.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Disabled) {
		return keyOwner{}, errBadAPIKey
	}
	if err != nil {
		return keyOwner{}, err
	}
	var roles, scopes []string
	for _, r := range k.Roles {
		if slices.Contains(c.Roles, r) {
			roles = append(roles, r)
		}
	}
	for _, s := range c.Scopes {
		if !strings.HasPrefix(s, reservedPrefix) {
			scopes = append(scopes, s)
		}
	}
	return keyOwner{clientID: c.ID, audience: c.Audience, roles: roles, ttl: e.accessTTL(c), scopes: scopes, claims: subjectClaims{public: k.Claims}, dpopBound: c.DPoPBound}, nil
}
