// Package grant is Tollgate's adapter around the grant engine
// (github.com/go-oauth2/oauth2/v4), and the only package that imports it.
// It keeps the engine's known defects inside: client secrets are checked in
// constant time through ClientPasswordVerifier, access tokens are RFC 9068
// JWTs that are never stored, refresh tokens rotate atomically in our store,
// and the engine's errors (and its 401-for-everything status codes) are
// mapped to *oauth.Error values in one table.
package grant

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	engine "github.com/go-oauth2/oauth2/v4/server"

	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// Grant types Tollgate serves through the engine.
const (
	ClientCredentials = "client_credentials"
	Password          = "password"
	RefreshToken      = "refresh_token"
)

// Supported lists the grant types the engine serves, for metadata and
// for rejecting unknown ones with unsupported_grant_type.
var Supported = []string{ClientCredentials, Password, RefreshToken}

// Signer hands out the key that signs access tokens now.
type Signer interface {
	Signer() (*keys.Key, error)
}

// Options configure an Engine.
type Options struct {
	Clients store.ClientStore
	Users   store.UserStore
	Refresh store.RefreshTokenStore
	APIKeys store.APIKeyStore
	// KeyRevocations, when set, lets exchanges cache API keys (see
	// keyCache); without it every exchange reads the database.
	KeyRevocations KeyRevocations
	// KeyChanges, with KeyRevocations, also drops cached API keys on every
	// change in the database's change log, and caches them only while
	// Engine.RunKeyChanges watches it (the embedded store, where no
	// Redis carries changes).
	KeyChanges KeyChanges
	Hasher     *secret.Hasher
	Keys       Signer
	// Encrypter, when set, encrypts the tokens of the audiences it says
	// are encrypted, and only those carry their subject's private claims;
	// without it every token is a plain JWS.
	Encrypter Encrypter
	// Issuer is the "iss" of every token.
	Issuer string
	// Audience is used when a client has none of its own.
	Audience   []string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// ReuseGrace tolerates the reuse of a rotated refresh token within this
	// window without revoking its family (0: every reuse revokes).
	ReuseGrace time.Duration
	// LoginQueueTimeout is how long a password login waits for a free
	// argon2id slot before it is answered 503 (0: DefaultLoginQueueTimeout).
	LoginQueueTimeout time.Duration
	// Admit, if set, is asked after a client has authenticated whether it
	// may proceed (rate limits); its error is answered as is.
	Admit func(ctx context.Context, c *store.Client) error
	// Assertions, when set, verifies the client assertions of
	// private_key_jwt clients (RFC 7523 §2.2); without it they are refused.
	Assertions AssertionVerifier
	Now        func() time.Time
	Logger     *slog.Logger
}

// Request is a token request whose form was parsed and whose client
// credentials were extracted by the HTTP layer.
type Request struct {
	GrantType    string
	ClientID     string
	ClientSecret string
	// ClientAssertion is a JWT client assertion (RFC 7521 §4.2), sent
	// instead of a secret.
	ClientAssertion string
	// Form holds the body parameters, each with exactly one value.
	Form url.Values
	// KeyThumbprint, when set, is the RFC 7638 thumbprint of the key whose
	// DPoP proof came with the request (checked by the HTTP layer): the
	// access token is bound to it (RFC 9449 §5).
	KeyThumbprint string
}

// tokenType is the token_type of the answer: DPoP for a bound token
// (RFC 9449 §5), else Bearer.
func (r *Request) tokenType() string {
	if r.KeyThumbprint != "" {
		return "DPoP"
	}
	return "Bearer"
}

// Token is a successful token response (RFC 6749 §5.1).
type Token struct {
	AccessToken  string
	TokenType    string
	ExpiresIn    int64
	RefreshToken string
	Scope        string
	// IssuedTokenType is set for token exchange (RFC 8693 §2.2.1).
	IssuedTokenType string
	// Subject and JTI identify the issued token for logs.
	Subject string
	JTI     string
}

// Engine issues tokens.
type Engine struct {
	opts Options
	srv  *engine.Server
	// argon bounds concurrent password checks and their queueing.
	argon *secret.PasswordGate
	usage *usage
	keys  *keyCache
}

// New builds an Engine.
func New(opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{opts: opts, argon: secret.NewPasswordGate(2*runtime.GOMAXPROCS(0), cmp.Or(opts.LoginQueueTimeout, DefaultLoginQueueTimeout)), usage: newUsage()}
	if opts.KeyRevocations != nil {
		e.keys = newKeyCache(opts.KeyRevocations, opts.KeyChanges)
	}

	m := manage.NewManager()
	m.MapClientStorage(clientStore{e: e})
	m.MapTokenStorage(tokenStore{refresh: opts.Refresh})
	m.MapAccessGenerate(generator{e: e})
	// The per-request lifetime is set from the client in scopeHandler; these
	// are the server defaults.
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: opts.AccessTTL})
	m.SetPasswordTokenCfg(&manage.Config{AccessTokenExp: opts.AccessTTL, RefreshTokenExp: opts.RefreshTTL, IsGenerateRefresh: true})

	cfg := engine.NewConfig()
	cfg.TokenType = "Bearer"
	cfg.AllowedGrantTypes = []oauth2.GrantType{oauth2.ClientCredentials, oauth2.PasswordCredentials, oauth2.Refreshing}
	srv := engine.NewServer(cfg, rotatingManager{Manager: m, e: e})
	srv.ClientInfoHandler = e.clientInfo
	srv.ClientScopeHandler = e.clientScope
	srv.PasswordAuthorizationHandler = e.passwordAuthorization
	srv.RefreshTokenResolveHandler = engine.RefreshTokenFormResolveHandler
	e.srv = srv
	return e
}

// Token runs req through the engine. Errors are *oauth.Error for anything
// the client did wrong; any other error is the server's (wrapping
// store.ErrUnavailable when a store is down).
func (e *Engine) Token(ctx context.Context, req *Request) (*Token, error) {
	st := &issuance{req: req}
	ctx = withIssuance(ctx, st)
	// The engine reads everything from an *http.Request; hand it one that
	// carries only the already-validated form.
	r := (&http.Request{Method: http.MethodPost, Form: req.Form, PostForm: req.Form}).WithContext(ctx)

	gt, tgr, err := e.srv.ValidationTokenRequest(r)
	if err != nil {
		return nil, e.engineError(st, err)
	}
	ti, err := e.srv.GetAccessToken(ctx, gt, tgr)
	if err != nil {
		return nil, e.engineError(st, err)
	}
	tok := &Token{
		AccessToken:  ti.GetAccess(),
		TokenType:    req.tokenType(),
		ExpiresIn:    int64(ti.GetAccessExpiresIn() / time.Second),
		RefreshToken: ti.GetRefresh(),
		Scope:        ti.GetScope(),
	}
	if st.claims != nil {
		tok.Subject, tok.JTI = st.claims.Subject, st.claims.ID
	}
	return tok, nil
}

// engineError prefers the precise error our hooks recorded over the
// engine's flattened value.
func (e *Engine) engineError(st *issuance, err error) error {
	if st.err != nil {
		return st.err
	}
	return mapEngineError(err)
}
