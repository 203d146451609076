package store

import (
	"context"
	"time"
)

// Audience is an API that receives access tokens: Name is the "aud" value
// of its tokens. When Encrypted, every token whose audience it is is issued
// as a nested JWT (RFC 7519 §5.2), a JWE encrypted to one of its
// AudienceKeys, and only such tokens carry private claims.
type Audience struct {
	Name      string
	Encrypted bool
	// KeyAlgorithm is the JWE "alg" of its keys: KeyECDHES (the default
	// when empty) or KeyRSAOAEP256.
	KeyAlgorithm string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// JWE key management algorithms an Audience may use (RFC 7518 §4.6, §4.3).
const (
	KeyECDHES     = "ECDH-ES+A256KW"
	KeyRSAOAEP256 = "RSA-OAEP-256"
)

// KeyAlgorithms lists the values Audience.KeyAlgorithm may take.
var KeyAlgorithms = []string{KeyECDHES, KeyRSAOAEP256}

// AudienceKey is an encryption key pair of an encrypted Audience. Like a
// SigningKey, the store treats the key fields as opaque bytes: PrivateKey
// is sealed by the server before it gets here.
type AudienceKey struct {
	// ID is the JWE "kid".
	ID       string
	Audience string
	// Algorithm is the JWE "alg" the key is used with.
	Algorithm string
	// PrivateKey is the sealed (AES-GCM) PKCS #8 private key.
	PrivateKey []byte
	// PublicKey is the PKIX (DER) public key.
	PublicKey []byte
	CreatedAt time.Time
	// ActiveAt is when tokens start being encrypted to the key; the
	// audience's API can fetch it before then.
	ActiveAt time.Time
	// RetiredAt, when non-zero, is when the key stopped being encrypted
	// to. It stays available for decryption until every token encrypted
	// to it has expired.
	RetiredAt time.Time
}

// AudienceStore persists audiences and their keys.
type AudienceStore interface {
	// CreateAudience stores a. ErrConflict if its Name is taken.
	CreateAudience(ctx context.Context, a *Audience) error
	// GetAudience returns the audience with that name, or ErrNotFound.
	GetAudience(ctx context.Context, name string) (*Audience, error)
	// ListAudiences returns every audience ordered by name.
	ListAudiences(ctx context.Context) ([]Audience, error)
	// UpdateAudience replaces Encrypted, KeyAlgorithm and UpdatedAt of the
	// stored audience, or returns ErrNotFound.
	UpdateAudience(ctx context.Context, a *Audience) error
	// DeleteAudience removes the audience and all its keys, or returns
	// ErrNotFound.
	DeleteAudience(ctx context.Context, name string) error
	// CreateAudienceKey stores k. ErrConflict if its ID is taken,
	// ErrNotFound if its Audience does not exist.
	CreateAudienceKey(ctx context.Context, k *AudienceKey) error
	// ListAudienceKeys returns the keys of every audience, oldest
	// CreatedAt first.
	ListAudienceKeys(ctx context.Context) ([]AudienceKey, error)
	// RetireAudienceKey sets RetiredAt on the key, or returns ErrNotFound.
	RetireAudienceKey(ctx context.Context, id string, at time.Time) error
	// DeleteAudienceKey removes the key, or returns ErrNotFound.
	DeleteAudienceKey(ctx context.Context, id string) error
}
