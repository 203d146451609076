package store

import (
	"context"
	"time"
)

// SigningKey is a key pair that signs access tokens. The store treats both
// key fields as opaque bytes: PrivateKey is encrypted by the server before it
// gets here.
type SigningKey struct {
	// ID is the JWS "kid".
	ID string
	// Algorithm is the JWS "alg": "EdDSA" or "ES256".
	Algorithm string
	// PrivateKey is the sealed (AES-GCM) PKCS #8 private key.
	PrivateKey []byte
	// PublicKey is the PKIX (DER) public key.
	PublicKey []byte
	CreatedAt time.Time
	// ActiveAt is when the key may start signing; it is published in the
	// JWKS before then so resource servers know it first.
	ActiveAt time.Time
	// RetiredAt, when non-zero, is when the key stopped signing. It stays
	// published until every token it signed has expired.
	RetiredAt time.Time
}

// SigningKeyStore persists signing keys.
type SigningKeyStore interface {
	// CreateSigningKey stores k. ErrConflict if its ID is taken.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every stored key, oldest CreatedAt first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey sets RetiredAt on the key, or returns ErrNotFound.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteSigningKey removes the key, or returns ErrNotFound.
	DeleteSigningKey(ctx context.Context, id string) error
}
