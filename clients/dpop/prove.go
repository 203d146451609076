package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Prover makes proofs with one private key. It is safe for concurrent use.
type Prover struct {
	signer jose.Signer
	jkt    string
	now    func() time.Time
}

// NewProver returns a Prover for an Ed25519 or P-256 ECDSA private key.
// now may be nil.
func NewProver(key crypto.Signer, now func() time.Time) (*Prover, error) {
	alg := jose.EdDSA
	switch k := key.Public().(type) {
	case ed25519.PublicKey:
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("dpop: ECDSA keys must be P-256")
		}
		alg = jose.ES256
	default:
		return nil, fmt.Errorf("dpop: unsupported key type %T", k)
	}
	jkt, err := Thumbprint(key.Public())
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(typ)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Prover{signer: s, jkt: jkt, now: now}, nil
}

// Thumbprint is the key's RFC 7638 thumbprint, the cnf.jkt of tokens
// bound to it.
func (p *Prover) Thumbprint() string { return p.jkt }

// claims is a proof's payload (RFC 9449 §4.2).
type claims struct {
	ID       string `json:"jti"`
	Method   string `json:"htm"`
	URL      string `json:"htu"`
	IssuedAt int64  `json:"iat"`
	// TokenHash binds the proof to an access token at a resource server.
	TokenHash string `json:"ath,omitempty"`
	Nonce     string `json:"nonce,omitempty"`
}

// Proof returns a proof for one request: method and URL (query and
// fragment are dropped), the access token it presents ("" at the token
// endpoint) and the server's nonce ("" if it sent none).
func (p *Prover) Proof(method, rawURL, accessToken, nonce string) (string, error) {
	htu, err := NormalizeURL(rawURL)
	if err != nil {
		return "", err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	c := claims{ID: b64(id), Method: method, URL: htu, IssuedAt: p.now().Unix(), Nonce: nonce}
	if accessToken != "" {
		c.TokenHash = TokenHash(accessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop: sign: %w", err)
	}
	return jws.CompactSerialize()
}
