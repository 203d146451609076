// Package assertion verifies JWT client assertions (RFC 7523 §2.2, RFC
// 7521 §4.2): private_key_jwt, signed by a key the client registered
// inline or at its jwks_uri.
package assertion

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Algorithms are the JWS algorithms accepted on assertions: asymmetric
// only, never "none" or HMAC (an HMAC "signature" keyed with a public key
// proves nothing).
var Algorithms = []string{"EdDSA", "ES256", "ES384", "PS256", "RS256"}

var joseAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.ES384, jose.PS256, jose.RS256}

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const MinRSABits = 2048

// MaxKeySetBytes bounds a JWK Set, inline or fetched.
const MaxKeySetBytes = 64 << 10

// ParseKeySet parses a client's JWK Set (RFC 7517 §5) and checks every key
// in it: public, asymmetric, of a supported type, RSA of at least
// MinRSABits bits, for signing, and with distinct kids. The error says
// which key is wrong and why, and quotes no key material.
func ParseKeySet(raw []byte) ([]jose.JSONWebKey, error) {
	return parseSet(raw, true)
}

// ParseIssuerKeys parses a trusted issuer's JWK Set (a Kubernetes
// cluster's service-account keys, say): keys for other uses are left out,
// as RFC 7517 §5 allows, but at least one must be a usable public signing
// key.
func ParseIssuerKeys(raw []byte) ([]jose.JSONWebKey, error) {
	keys, err := parseSet(raw, false)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if checkKey(k) == nil {
			return keys, nil
		}
	}
	return nil, errors.New("the JWK Set holds no usable signing key (Ed25519, P-256, P-384 or RSA of at least 2048 bits)")
}

// parseSet parses a JWK Set. Strict, any bad key fails it (what an admin
// registers); otherwise bad keys are left out (RFC 7517 §5: a set
// published elsewhere may hold keys for other uses), and only a set with
// no usable key fails.
func parseSet(raw []byte, strict bool) ([]jose.JSONWebKey, error) {
	if len(raw) > MaxKeySetBytes {
		return nil, fmt.Errorf("the JWK Set is larger than %d KiB", MaxKeySetBytes>>10)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, errors.New(`the JWK Set is not a JSON object {"keys": [...]}`)
	}
	if len(doc.Keys) == 0 {
		return nil, errors.New("the JWK Set holds no keys")
	}
	out := make([]jose.JSONWebKey, 0, len(doc.Keys))
	kids := map[string]bool{}
	for i, rk := range doc.Keys {
		k, err := parseKey(rk)
		if err != nil && !strict {
			continue
		}
		if err == nil && strict {
			// Lenient sets keep unfit keys, so that an assertion naming
			// one is told why it cannot be used (checked per assertion).
			err = checkKey(k)
		}
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if kids[k.KeyID] {
			return nil, fmt.Errorf("key %d: kid %q is used by another key of the set", i, k.KeyID)
		}
		kids[k.KeyID] = true
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("the JWK Set holds no usable signing key")
	}
	return out, nil
}

// parseKey parses and checks one JWK.
func parseKey(raw json.RawMessage) (jose.JSONWebKey, error) {
	var probe struct {
		Kty string `json:"kty"`
		D   string `json:"d"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return jose.JSONWebKey{}, errors.New("not a JSON object")
	}
	switch {
	case probe.Kty == "oct":
		return jose.JSONWebKey{}, errors.New("symmetric (oct) keys are not accepted: register public keys only")
	case probe.D != "":
		return jose.JSONWebKey{}, errors.New("it is a private key: register the public key only, and keep the private key with the client")
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return jose.JSONWebKey{}, errors.New("not a valid JWK (RFC 7517)")
	}
	if !k.IsPublic() {
		return jose.JSONWebKey{}, errors.New("it is a private key: register the public key only")
	}
	if k.Use != "" && k.Use != "sig" {
		return jose.JSONWebKey{}, fmt.Errorf("use is %q; client keys must be for signing (sig)", k.Use)
	}
	return k, nil
}

// checkKey refuses key types and sizes no accepted algorithm may use.
func checkKey(k jose.JSONWebKey) error {
	switch pk := k.Key.(type) {
	case ed25519.PublicKey:
	case *ecdsa.PublicKey:
		if n := pk.Curve.Params().Name; n != "P-256" && n != "P-384" {
			return fmt.Errorf("curve %s is not accepted: use P-256 (ES256) or P-384 (ES384)", n)
		}
	case *rsa.PublicKey:
		if pk.N.BitLen() < MinRSABits {
			return fmt.Errorf("the RSA key has %d bits; at least %d are required", pk.N.BitLen(), MinRSABits)
		}
	default:
		return errors.New("unsupported key type: use OKP (Ed25519), EC (P-256, P-384) or RSA")
	}
	if k.Algorithm != "" && !accepts(k.Algorithm) {
		return fmt.Errorf("alg %q is not accepted; use one of %s", k.Algorithm, strings.Join(Algorithms, ", "))
	}
	return nil
}

func accepts(alg string) bool {
	for _, a := range Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// CheckURI reports whether u may serve a client's keys: an absolute https
// URL, or http to a loopback address (a sidecar or a test).
func CheckURI(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || p.Fragment != "" {
		return errors.New("jwks_uri must be an absolute https URL without credentials or fragment")
	}
	switch p.Scheme {
	case "https":
		return nil
	case "http":
		if h := p.Hostname(); h == "localhost" || isLoopback(h) {
			return nil
		}
	}
	return errors.New("jwks_uri must use https (http only to a loopback address)")
}

func isLoopback(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
