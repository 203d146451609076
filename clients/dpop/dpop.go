// Package dpop makes and checks DPoP proofs (RFC 9449): a JWT, signed with
// a key the client holds, that binds each request (method and URL) and,
// at a resource server, the access token to that key.
//
// Tollgate's token endpoint and the resource-server middleware in
// clients/bearer check proofs with a Checker; programs make them with a
// Prover (clients/tokensource does so on every request).
package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Header is the HTTP header that carries a proof (RFC 9449 §4.1); Scheme
// is the Authorization scheme of a DPoP-bound token (§7.1).
const (
	Header = "DPoP"
	Scheme = "DPoP"
	// NonceHeader carries a server-provided nonce (§8).
	NonceHeader = "DPoP-Nonce"
	typ         = "dpop+jwt"
)

// Algorithms lists the proof signature algorithms a Checker accepts, for
// dpop_signing_alg_values_supported (RFC 9449 §5.1) and the algs
// parameter of a WWW-Authenticate challenge (§7.1). No HMAC and no none:
// a proof must be signed by a private key.
var Algorithms = []string{"EdDSA", "ES256"}

// ErrInvalidProof is wrapped by every error about a proof itself; the
// token endpoint answers it as invalid_dpop_proof, a resource server with
// a 401 DPoP challenge.
var ErrInvalidProof = errors.New("dpop: invalid proof")

// ErrUseNonce is wrapped when the proof lacks the server's current nonce
// (RFC 9449 §8: answer use_dpop_nonce with a fresh DPoP-Nonce header).
var ErrUseNonce = errors.New("dpop: use the server's nonce")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, args...))
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url without padding: the cnf.jkt a bound token carries (RFC 9449
// §6.1).
func Thumbprint(pub crypto.PublicKey) (string, error) {
	t, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return b64(t), nil
}

// TokenHash is the "ath" of a proof for an access token (RFC 9449 §4.2):
// base64url of its SHA-256.
func TokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// NormalizeURL returns the htu form of a request URL (RFC 9449 §4.2,
// §4.3): no query or fragment, scheme and host in lower case, no default
// port, and "/" for an empty path.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("dpop: %q is not an absolute URL", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}
