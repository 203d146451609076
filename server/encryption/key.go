package encryption

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// RSABits is the modulus size of new RSA-OAEP-256 keys. 3072 bits give
// about 128-bit security (NIST SP 800-57 Part 1 Rev. 5, Table 2), which
// 2048 bits do not past 2030; generating one takes about 0.2 s, once per
// rotation, and decryption cost is in docs/ENCRYPTION.md.
const RSABits = 3072

// ErrUnseal means a stored private key could not be decrypted: the master
// key differs from the one that sealed it, or the row was altered or moved
// to another audience.
var ErrUnseal = errors.New("encryption: sealed audience key does not open: wrong TOLLGATE_MASTER_KEY, or the stored key was altered")

// privateKey is an *ecdsa.PrivateKey (P-256) or an *rsa.PrivateKey.
type privateKey interface{ Public() crypto.PublicKey }

// material is an opened audience key. It is immutable and shared between
// snapshots as long as its row is unchanged.
type material struct {
	id, aud, alg string
	priv         privateKey
	pubDER       []byte
	enc          jose.Encrypter
	// jwk is the RFC 7517 JSON of the private key, for DecryptionJWKS.
	jwk []byte
}

// generate returns a new key pair for alg.
func generate(alg string) (privateKey, error) {
	switch alg {
	case store.KeyECDHES:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("encryption: generate: %w", err)
		}
		return k, nil
	case store.KeyRSAOAEP256:
		k, err := rsa.GenerateKey(rand.Reader, RSABits)
		if err != nil {
			return nil, fmt.Errorf("encryption: generate: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("encryption: unsupported key algorithm %q (want %s or %s)", alg, store.KeyECDHES, store.KeyRSAOAEP256)
}

// sealAD is the AES-GCM additional data of a sealed key: its audience and
// ID, so that a sealed key copied into another row, or whose row was moved
// to another audience, fails to open rather than decrypting that
// audience's tokens for the wrong API.
func sealAD(aud, id string) []byte { return []byte(aud + "\x00" + id) }

// seal returns the stored form of a new key of aud: the PKCS #8 private
// key sealed with AES-256-GCM under sealKey (random 12-byte nonce
// prefixed), and the PKIX public key.
func seal(sealKey []byte, aud, alg string, priv privateKey) (*store.AudienceKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encryption: marshal private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("encryption: marshal public key: %w", err)
	}
	aead, err := newAEAD(sealKey)
	if err != nil {
		return nil, err
	}
	id := secret.NewID("")
	return &store.AudienceKey{
		ID:         id,
		Audience:   aud,
		Algorithm:  alg,
		PrivateKey: aead.Seal(nil, nil, der, sealAD(aud, id)),
		PublicKey:  pub,
	}, nil
}

// open reverses seal and prepares the key for use. It checks that the
// private key fits the row's algorithm and matches its public key. The
// error wraps ErrUnseal when decryption fails.
func open(sealKey []byte, row *store.AudienceKey) (*material, error) {
	aead, err := newAEAD(sealKey)
	if err != nil {
		return nil, err
	}
	der, err := aead.Open(nil, nil, row.PrivateKey, sealAD(row.Audience, row.ID))
	if err != nil {
		return nil, fmt.Errorf("encryption: audience key %s: %w", row.ID, ErrUnseal)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("encryption: audience key %s: %w", row.ID, err)
	}
	priv, ok := parsed.(privateKey)
	if !ok || !algorithmFits(row.Algorithm, priv) {
		return nil, fmt.Errorf("encryption: audience key %s: private key type %T does not fit algorithm %q", row.ID, parsed, row.Algorithm)
	}
	pub, err := x509.ParsePKIXPublicKey(row.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encryption: audience key %s: public key: %w", row.ID, err)
	}
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(priv.Public()) {
		return nil, fmt.Errorf("encryption: audience key %s: public key does not match private key", row.ID)
	}
	return newMaterial(row, priv)
}

func newMaterial(row *store.AudienceKey, priv privateKey) (*material, error) {
	alg := jose.KeyAlgorithm(row.Algorithm)
	// RFC 7519 §5.2: cty "JWT" says the payload is itself a JWT (a nested
	// JWT); kid names the audience key (RFC 7516 §4.1.6).
	enc, err := jose.NewEncrypter(contentEncryption, jose.Recipient{Algorithm: alg, Key: priv.Public(), KeyID: row.ID},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("encryption: audience key %s: %w", row.ID, err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: row.ID, Algorithm: row.Algorithm, Use: "enc"})
	if err != nil {
		return nil, fmt.Errorf("encryption: audience key %s: marshal JWK: %w", row.ID, err)
	}
	return &material{
		id: row.ID, aud: row.Audience, alg: row.Algorithm, priv: priv,
		pubDER: append([]byte(nil), row.PublicKey...), enc: enc, jwk: jwk,
	}, nil
}

func algorithmFits(alg string, k privateKey) bool {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		return alg == store.KeyECDHES && k.Curve == elliptic.P256()
	case *rsa.PrivateKey:
		return alg == store.KeyRSAOAEP256 && k.N.BitLen() >= 2048
	}
	return false
}

func newAEAD(sealKey []byte) (cipher.AEAD, error) {
	if len(sealKey) != 32 {
		return nil, fmt.Errorf("encryption: seal key is %d bytes, want 32", len(sealKey))
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("encryption: seal key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("encryption: seal key: %w", err)
	}
	return aead, nil
}
