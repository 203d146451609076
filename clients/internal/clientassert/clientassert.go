// Package clientassert signs private_key_jwt client assertions (RFC 7523
// §2.2) for the packages of clients/.
package clientassert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Type is the client_assertion_type of a JWT client assertion.
const Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Signer makes assertions for one client.
type Signer struct {
	s        jose.Signer
	clientID string
}

// New returns a Signer for key, with the JWS algorithm its type calls
// for: EdDSA, ES256, ES384 or RS256 (RSA of at least 2048 bits). Any
// crypto.Signer other than the standard library's keys (a KMS, an HSM)
// signs through go-jose's opaque adapter. kid, if set, goes in the header.
func New(key crypto.Signer, kid, clientID string) (*Signer, error) {
	if key == nil {
		return nil, errors.New("a private key is required")
	}
	var alg jose.SignatureAlgorithm
	switch pk := key.Public().(type) {
	case ed25519.PublicKey:
		alg = jose.EdDSA
	case *ecdsa.PublicKey:
		switch pk.Curve.Params().Name {
		case "P-256":
			alg = jose.ES256
		case "P-384":
			alg = jose.ES384
		default:
			return nil, errors.New("an ECDSA key must be on P-256 or P-384")
		}
	case *rsa.PublicKey:
		if pk.N.BitLen() < 2048 {
			return nil, errors.New("an RSA key must have at least 2048 bits")
		}
		alg = jose.RS256
	default:
		return nil, errors.New("the key must be Ed25519, ECDSA or RSA")
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	var k any = key
	switch key.(type) {
	case ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey:
	default:
		k = cryptosigner.Opaque(key)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("assertion signer: %w", err)
	}
	return &Signer{s: s, clientID: clientID}, nil
}

// Sign makes an assertion for aud, valid from now for life, with a new
// random jti: iss and sub are the client ID (RFC 7523 §3).
func (s *Signer) Sign(aud string, now time.Time, life time.Duration) (string, error) {
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	return jwt.Signed(s.s).Claims(jwt.Claims{
		Issuer: s.clientID, Subject: s.clientID, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(life)),
		ID: base64.RawURLEncoding.EncodeToString(jti),
	}).Serialize()
}
