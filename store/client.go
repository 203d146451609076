package store

import (
	"context"
	"time"
)

// Client is a registered OAuth client. Its secret is never stored, only
// SecretHash, a keyed hash computed by the server.
type Client struct {
	ID         string
	Name       string
	SecretHash []byte
	// PrevSecretHash and PrevSecretExpiresAt keep the previous secret valid
	// for an overlap period after a rotation.
	PrevSecretHash      []byte
	PrevSecretExpiresAt time.Time
	GrantTypes          []string
	// Scopes are the scopes the client may request.
	Scopes []string
	// DefaultScopes are granted when a request names no scope; when empty,
	// all of Scopes are granted.
	DefaultScopes []string
	Audience      []string
	Roles         []string
	// AccessTokenTTL and RefreshTokenTTL override the server defaults when
	// non-zero.
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// MaxAccessTokenTTL is the longest AccessTokenTTL the client has ever
	// had: a high-water mark that never falls, so that a revocation
	// recorded after the lifetime was lowered still outlives the tokens
	// issued before. UpdateClient stores the larger of the stored and the
	// given value.
	MaxAccessTokenTTL time.Duration
	// RateLimit caps the client's token requests per second; zero means
	// the server's per-client limit (if any).
	RateLimit int
	// Disabled refuses the client at every endpoint (invalid_client) and
	// its API keys at exchange, until it is enabled again.
	Disabled bool
	// DPoPBound requires a DPoP proof with every token request of the
	// client (RFC 9449 §5.2, dpop_bound_access_tokens): its access tokens
	// are all sender-constrained.
	DPoPBound bool
	// AuthMethod is how the client authenticates (RFC 7591 §2
	// token_endpoint_auth_method): one of the AuthMethod constants; ""
	// reads as AuthClientSecretBasic.
	AuthMethod string
	// JWKS is the client's public JWK Set (RFC 7517 §5, JSON) and JWKSURI
	// where it is published; a private_key_jwt client has exactly one of
	// them and FederatedIssuer.
	JWKS    []byte
	JWKSURI string
	// FederatedIssuer, when set, names the TrustedIssuer whose tokens
	// authenticate a private_key_jwt client instead of keys of its own:
	// a token whose sub matches FederatedSubject (exact, or a glob with
	// *) and whose claims hold every FederatedClaims value.
	FederatedIssuer  string
	FederatedSubject string
	FederatedClaims  map[string]string
	// Claims and PrivateClaims are JSON objects of extra claims put into
	// the tokens whose subject the client is (nil for none); their names
	// differ from each other and from the claims Tollgate sets itself.
	// PrivateClaims go only into tokens for an encrypted Audience.
	Claims        []byte
	PrivateClaims []byte
	CreatedAt     time.Time
	UpdatedAt     time.Time // TokensRevokedAt, when set, revokes every token of this subject
	// issued at or before it; refresh-token families started by then die.
	TokensRevokedAt time.Time
}

// Client authentication methods (RFC 7591 §2, RFC 7523 §2.2). The two
// secret methods are interchangeable: a client with either may send its
// secret in the Authorization header or in the body.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// AuthMethods lists the values AuthMethod may take.
var AuthMethods = []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT}

// UsesKeys reports whether c authenticates with a signed assertion
// instead of a secret.
func (c *Client) UsesKeys() bool { return c.AuthMethod == AuthPrivateKeyJWT }

// ClientStore persists clients.
type ClientStore interface {
	// CreateClient stores c. ErrConflict if its ID or Name is taken.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client with that ID, or ErrNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns up to limit clients ordered by ID, starting after
	// the ID given as cursor ("" for the first page).
	ListClients(ctx context.Context, after string, limit int) ([]Client, error)
	// UpdateClient replaces every field of the stored client with c's,
	// except ID and CreatedAt, and MaxAccessTokenTTL, which only rises (it
	// becomes the larger of the stored and c's). ErrNotFound if it does not
	// exist; ErrConflict if the new Name is taken by another client.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client, or returns ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
}
