package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) of signing keys.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
)

// ErrUnseal means a stored private key could not be decrypted: the master
// key differs from the one that sealed it, or the row was altered.
var ErrUnseal = errors.New("keys: sealed private key does not open: wrong TOLLGATE_MASTER_KEY, or the stored key was altered")

// Key is a usable signing key. Its private half never leaves the package:
// sign with AppendSignature. A Key is immutable and safe for concurrent use.
type Key struct {
	// ID is the JWS "kid".
	ID string
	// Algorithm is the JWS "alg": EdDSA or ES256.
	Algorithm string
	signer    crypto.Signer // ed25519.PrivateKey or *ecdsa.PrivateKey
}

// GenerateKey returns a new random key for alg (EdDSA or ES256) with a
// random ID.
func GenerateKey(alg string) (*Key, error) {
	var signer crypto.Signer
	switch alg {
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate: %w", err)
		}
		signer = priv
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate: %w", err)
		}
		signer = priv
	default:
		return nil, fmt.Errorf("keys: unsupported algorithm %q (want %s or %s)", alg, EdDSA, ES256)
	}
	return &Key{ID: secret.NewID(""), Algorithm: alg, signer: signer}, nil
}

// Public returns the public key: ed25519.PublicKey or *ecdsa.PublicKey.
func (k *Key) Public() crypto.PublicKey { return k.signer.Public() }

// AppendSignature appends the JWS signature of signingInput (RFC 7515 §5.1)
// to dst: 64 bytes for Ed25519 (RFC 8037 §3.1), R||S of 32 bytes each for
// ES256 (RFC 7518 §3.4).
func (k *Key) AppendSignature(dst, signingInput []byte) ([]byte, error) {
	switch priv := k.signer.(type) {
	case ed25519.PrivateKey:
		return append(dst, ed25519.Sign(priv, signingInput)...), nil
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(signingInput)
		der, err := ecdsa.SignASN1(rand.Reader, priv, h[:])
		if err != nil {
			return nil, fmt.Errorf("keys: sign: %w", err)
		}
		return appendRawECDSA(dst, der, 32)
	}
	return nil, fmt.Errorf("keys: key %s has unsupported type %T", k.ID, k.signer)
}

// appendRawECDSA converts an ASN.1 ECDSA signature to the fixed-width
// R||S form JWS uses.
func appendRawECDSA(dst, der []byte, size int) ([]byte, error) {
	var seq, r, s cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("keys: sign: malformed ECDSA signature")
	}
	for _, n := range [...][]byte{r, s} {
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) > size {
			return nil, errors.New("keys: sign: malformed ECDSA signature")
		}
		for range size - len(n) {
			dst = append(dst, 0)
		}
		dst = append(dst, n...)
	}
	return dst, nil
}

// String returns the key's ID and algorithm, never key material.
func (k *Key) String() string { return k.ID + " (" + k.Algorithm + ")" }

// GoString keeps %#v from printing the private key.
func (k *Key) GoString() string { return "keys.Key{ID:" + k.ID + ", Algorithm:" + k.Algorithm + "}" }

// LogValue keeps slog from printing the private key.
func (k *Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.ID), slog.String("alg", k.Algorithm))
}

// seal returns the stored form of k: PKCS #8 private key sealed with
// AES-256-GCM under sealKey (random 12-byte nonce prefixed, kid as
// additional data so that a key copied into another row fails to open),
// and PKIX public key.
func seal(sealKey []byte, k *Key) (*store.SigningKey, error) {
	priv, err := x509.MarshalPKCS8PrivateKey(k.signer)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, fmt.Errorf("keys: marshal public key: %w", err)
	}
	aead, err := newAEAD(sealKey)
	if err != nil {
		return nil, err
	}
	return &store.SigningKey{
		ID:         k.ID,
		Algorithm:  k.Algorithm,
		PrivateKey: aead.Seal(nil, nil, priv, []byte(k.ID)),
		PublicKey:  pub,
	}, nil
}

// open reverses seal. It checks that the private key is of the row's
// algorithm and matches the row's public key. The error wraps ErrUnseal
// when decryption fails.
func open(sealKey []byte, row *store.SigningKey) (*Key, error) {
	aead, err := newAEAD(sealKey)
	if err != nil {
		return nil, err
	}
	der, err := aead.Open(nil, nil, row.PrivateKey, []byte(row.ID))
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %s: %w", row.ID, ErrUnseal)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %s: %w", row.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !algorithmMatches(row.Algorithm, signer) {
		return nil, fmt.Errorf("keys: signing key %s: private key type %T does not fit algorithm %q", row.ID, priv, row.Algorithm)
	}
	pub, err := x509.ParsePKIXPublicKey(row.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %s: public key: %w", row.ID, err)
	}
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(signer.Public()) {
		return nil, fmt.Errorf("keys: signing key %s: public key does not match private key", row.ID)
	}
	return &Key{ID: row.ID, Algorithm: row.Algorithm, signer: signer}, nil
}

func algorithmMatches(alg string, s crypto.Signer) bool {
	switch k := s.(type) {
	case ed25519.PrivateKey:
		return alg == EdDSA
	case *ecdsa.PrivateKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	}
	return false
}

func newAEAD(sealKey []byte) (cipher.AEAD, error) {
	if len(sealKey) != 32 {
		return nil, fmt.Errorf("keys: seal key is %d bytes, want 32", len(sealKey))
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("keys: seal key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keys: seal key: %w", err)
	}
	return aead, nil
}
