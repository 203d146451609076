package grant

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

var errClientAuth = oauth.New(oauth.InvalidClient, "client authentication failed: check the client_id and client_secret")

// ErrClientDisabled is told only to a caller that proved the secret: it
// reveals nothing to whoever merely guesses client IDs, and it is no
// failed guess for the lockout budgets.
var ErrClientDisabled = oauth.New(oauth.InvalidClient, "this client is disabled; an admin can enable it again (tollgate client update CLIENT_ID --enabled)")

// errDPoPRequired answers a client set to dpop_bound_access_tokens that
// sent no proof (RFC 9449 §5.2).
var errDPoPRequired = oauth.New(oauth.InvalidDPoPProof, "this client must send a DPoP proof with every token request (dpop_bound_access_tokens)")

// Authenticate loads the client and checks its secret in constant time. An
// unknown client costs the same hash work as a known one, so timing does
// not reveal which client IDs exist. A disabled client is invalid_client
// (RFC 6749 §5.2) at every endpoint that authenticates clients.
func (e *Engine) Authenticate(ctx context.Context, clientID, clientSecret string) (*store.Client, error) {
	if clientID == "" {
		return nil, oauth.New(oauth.InvalidClient, "client authentication is required: send client_id and client_secret with HTTP Basic or in the form body")
	}
	c, err := e.opts.Clients.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		e.opts.Hasher.Dummy(clientSecret)
		return nil, errClientAuth
	}
	if err != nil {
		return nil, err
	}
	// A private_key_jwt client has no secret (its hash is empty and never
	// matches): it cannot fall back to one.
	if !e.verifySecret(c, clientSecret) || c.UsesKeys() {
		return nil, errClientAuth
	}
	if c.Disabled {
		return nil, ErrClientDisabled
	}
	return c, nil
}

// AssertionVerifier checks a client's JWT assertion; *assertion.Verifier
// implements it.
type AssertionVerifier interface {
	// Verify returns an *oauth.Error (invalid_client) for an assertion
	// that fails a check; any other error is the server's.
	Verify(ctx context.Context, c *store.Client, assertion string) error
}

var errNoAssertions = oauth.New(oauth.InvalidClient, "this server does not accept client assertions")

// errAssertionClient is the answer for an unknown client and for one that
// authenticates with a secret: the same, so that guesses learn nothing.
var errAssertionClient = oauth.New(oauth.InvalidClient, "client authentication failed: no private_key_jwt client has this client_id (the assertion's sub when client_id is not sent)")

// AuthenticateAssertion loads the client and checks its JWT assertion
// (RFC 7523 §3). Only a client set to private_key_jwt may send one.
func (e *Engine) AuthenticateAssertion(ctx context.Context, clientID, assertion string) (*store.Client, error) {
	if e.opts.Assertions == nil {
		return nil, errNoAssertions
	}
	if clientID == "" {
		return nil, oauth.New(oauth.InvalidClient, "client_assertion must be a signed JWT whose sub is the client_id, or send client_id too")
	}
	c, err := e.opts.Clients.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errAssertionClient
	}
	if err != nil {
		return nil, err
	}
	if !c.UsesKeys() {
		return nil, errAssertionClient
	}
	if err := e.opts.Assertions.Verify(ctx, c, assertion); err != nil {
		return nil, err
	}
	if c.Disabled {
		return nil, ErrClientDisabled
	}
	return c, nil
}

// authenticateRequest authenticates req's client by assertion or secret.
func (e *Engine) authenticateRequest(ctx context.Context, req *Request) (*store.Client, error) {
	if req.ClientAssertion != "" {
		return e.AuthenticateAssertion(ctx, req.ClientID, req.ClientAssertion)
	}
	return e.Authenticate(ctx, req.ClientID, req.ClientSecret)
}

// verifySecret accepts the current secret, or the previous one during the
// overlap period after a rotation. Both hashes are always computed.
func (e *Engine) verifySecret(c *store.Client, s string) bool {
	cur := e.opts.Hasher.Equal(c.SecretHash, s)
	prev := false
	if len(c.PrevSecretHash) > 0 {
		prev = e.opts.Hasher.Equal(c.PrevSecretHash, s) && e.opts.Now().Before(c.PrevSecretExpiresAt)
	}
	return cur || prev
}

// clientInfo is the engine's ClientInfoHandler: it is the first hook the
// engine runs, so the client is authenticated before anything else (in
// particular before a user's password is checked).
func (e *Engine) clientInfo(r *http.Request) (string, string, error) {
	st := issuanceFrom(r.Context())
	c, err := e.authenticateRequest(r.Context(), st.req)
	if err != nil {
		st.err = err
		return "", "", oerrors.ErrInvalidClient
	}
	if !slices.Contains(c.GrantTypes, st.req.GrantType) {
		st.err = oauth.New(oauth.UnauthorizedClient, "this client may not use the "+st.req.GrantType+" grant; add it to the client's grant types")
		return "", "", oerrors.ErrUnauthorizedClient
	}
	if c.DPoPBound && st.req.KeyThumbprint == "" {
		st.err = errDPoPRequired
		return "", "", oerrors.ErrInvalidClient
	}
	if e.opts.Admit != nil {
		if err := e.opts.Admit(r.Context(), c); err != nil {
			st.err = err
			return "", "", oerrors.ErrInvalidClient
		}
	}
	// Before a password is checked or a refresh token rotated: a request
	// for an audience it may not have costs nothing.
	aud, err := e.clientAudience(c.Audience, st.req.Form.Get("audience"))
	if err != nil {
		st.err = err
		return "", "", oerrors.ErrInvalidRequest
	}
	st.client, st.aud = c, aud
	return c.ID, st.req.ClientSecret, nil
}

// clientScope is the engine's ClientScopeHandler. It resolves the granted
// scope and the client's token lifetime into the engine's request. The
// engine runs it after passwordAuthorization, so a user's token is held to
// the user's roles (UserScopeRoles).
func (e *Engine) clientScope(tgr *oauth2.TokenGenerateRequest) (bool, error) {
	st := issuanceFrom(tgr.Request.Context())
	scopes, err := resolveScope(tgr.Scope, st.client.Scopes, st.client.DefaultScopes)
	if err == nil && st.user != nil {
		roles := st.user.Roles
		scopes, err = grantable(scopes, func(s string) bool { return userMay(s, roles) }, whyUserRoles)
	}
	if err != nil {
		st.err = err
		return false, nil
	}
	st.scopes = scopes
	tgr.Scope = strings.Join(scopes, " ")
	tgr.AccessTokenExp = e.accessTTL(st.client)
	return true, nil
}

// clientStore hands the engine the client that clientInfo authenticated.
// It answers only for that client: the engine never needs another.
type clientStore struct{ e *Engine }

func (cs clientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	st := issuanceFrom(ctx)
	if st.client == nil || st.client.ID != id {
		return nil, oerrors.ErrInvalidClient
	}
	return clientInfo{c: st.client, e: cs.e, byAssertion: st.req.ClientAssertion != ""}, nil
}

// clientInfo adapts store.Client to the engine. GetSecret is empty: the
// secret is never known, and the engine must use VerifyPassword.
type clientInfo struct {
	c *store.Client
	e *Engine
	// byAssertion: clientInfo already verified the client's assertion,
	// and there is no secret to check.
	byAssertion bool
}

func (ci clientInfo) GetID() string     { return ci.c.ID }
func (ci clientInfo) GetSecret() string { return "" }
func (ci clientInfo) GetDomain() string { return "" }
func (ci clientInfo) IsPublic() bool    { return false }
func (ci clientInfo) GetUserID() string { return "" }
func (ci clientInfo) VerifyPassword(s string) bool {
	return ci.byAssertion || ci.e.verifySecret(ci.c, s)
}

var _ oauth2.ClientPasswordVerifier = clientInfo{}
