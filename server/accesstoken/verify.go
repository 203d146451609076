package accesstoken

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/keys"
)

// Verification errors. Verify wraps exactly one of them; compare with
// errors.Is. Every one means the token is not active (RFC 7662 §2.2).
var (
	ErrMalformed   = errors.New("accesstoken: malformed token")
	ErrAlgorithm   = errors.New("accesstoken: signature algorithm not allowed")
	ErrType        = errors.New("accesstoken: not an at+jwt access token")
	ErrUnknownKey  = errors.New("accesstoken: unknown signing key")
	ErrSignature   = errors.New("accesstoken: invalid signature")
	ErrExpired     = errors.New("accesstoken: token expired")
	ErrNotYetValid = errors.New("accesstoken: token not yet valid")
	ErrIssuer      = errors.New("accesstoken: wrong issuer")
	ErrAudience    = errors.New("accesstoken: wrong audience")
)

// MaxTokenLen bounds the tokens Verify reads, in bytes.
const MaxTokenLen = 16 << 10

// KeySource finds verification keys; *keys.Manager implements it.
type KeySource interface {
	// PublicKey returns the key kid and its JWS algorithm, or false if kid
	// is unknown or may no longer verify tokens.
	PublicKey(kid string) (crypto.PublicKey, string, bool)
}

// VerifyOptions are the expectations a token must meet.
type VerifyOptions struct {
	// Issuer must equal the "iss" claim. Required.
	Issuer string
	// Audience, if set, must be one of the "aud" values.
	Audience string
	// Now is the time to check against; zero means time.Now().
	Now time.Time
	// Leeway tolerates clock skew on exp, nbf and iat.
	Leeway time.Duration
}

type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// Verify checks tok and returns its claims. It accepts only EdDSA and ES256
// (never "none" or HMAC), requires typ at+jwt (RFC 9068 §4), a kid that
// ks knows with that same algorithm, a valid signature, the expected
// issuer, RFC 9068's required claims, unexpired exp and passed nbf and iat
// (with Leeway), and the audience if one is given. Claims are read only
// after the signature checks out. It never panics, whatever tok holds.
func Verify(tok string, ks KeySource, opts VerifyOptions) (*Claims, error) {
	h, signed, payload, sig, err := split(tok)
	if err != nil {
		return nil, err
	}
	if h.Alg != keys.EdDSA && h.Alg != keys.ES256 {
		return nil, ErrAlgorithm
	}
	// RFC 9068 §4: media types compare case-insensitively.
	if !strings.EqualFold(h.Typ, TokenType) && !strings.EqualFold(h.Typ, "application/"+TokenType) {
		return nil, ErrType
	}
	if h.Crit != nil {
		return nil, fmt.Errorf("%w: unsupported crit header", ErrMalformed) // RFC 7515 §4.1.11
	}
	pub, alg, ok := ks.PublicKey(h.Kid)
	if !ok {
		return nil, ErrUnknownKey
	}
	if alg != h.Alg {
		return nil, fmt.Errorf("%w: header algorithm differs from the key's", ErrAlgorithm)
	}
	if !verifySignature(pub, alg, signed, sig) {
		return nil, ErrSignature
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: claims are not a JWT claims set", ErrMalformed)
	}
	c := w.claims()
	if err := checkVerified(c, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// split parses the compact serialisation (RFC 7515 §7.1) and decodes the
// header, payload and signature.
func split(tok string) (h header, signed string, payload, sig []byte, err error) {
	if len(tok) > MaxTokenLen {
		return h, "", nil, nil, fmt.Errorf("%w: too long", ErrMalformed)
	}
	for i := 0; i < len(tok); i++ {
		// Base64 decoding skips CR and LF; refusing everything outside the
		// base64url alphabet keeps tokens from being malleable that way.
		if c := tok[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return h, "", nil, nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
		}
	}
	hb, rest, ok1 := strings.Cut(tok, ".")
	pb, sb, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sb, ".") {
		return h, "", nil, nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	hj, err1 := b64.Strict().DecodeString(hb)
	payload, err2 := b64.Strict().DecodeString(pb)
	sig, err3 := b64.Strict().DecodeString(sb)
	if err1 != nil || err2 != nil || err3 != nil {
		return h, "", nil, nil, fmt.Errorf("%w: bad base64url", ErrMalformed)
	}
	if err := json.Unmarshal(hj, &h); err != nil || !bytes.HasPrefix(bytes.TrimSpace(hj), []byte("{")) {
		return h, "", nil, nil, fmt.Errorf("%w: bad header", ErrMalformed)
	}
	return h, tok[:len(hb)+1+len(pb)], payload, sig, nil
}

func verifySignature(pub crypto.PublicKey, alg, signed string, sig []byte) bool {
	switch alg {
	case keys.EdDSA:
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize &&
			ed25519.Verify(k, []byte(signed), sig)
	case keys.ES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() || len(sig) != 64 {
			return false
		}
		h := sha256.Sum256([]byte(signed))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k, h[:], r, s)
	}
	return false
}

// checkVerified applies the claim rules to the claims of a token whose
// signature is valid.
func checkVerified(c *Claims, opts VerifyOptions) error {
	if opts.Issuer == "" {
		return fmt.Errorf("%w: no expected issuer configured", ErrIssuer)
	}
	if c.Issuer != opts.Issuer {
		return ErrIssuer
	}
	switch {
	case c.Subject == "", len(c.Audience) == 0, c.ExpiresAt.IsZero(), c.IssuedAt.IsZero(), c.ID == "", c.ClientID == "":
		return fmt.Errorf("%w: a required claim is missing", ErrMalformed) // RFC 9068 §2.2
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := max(opts.Leeway, 0)
	// RFC 7519 §4.1.4: the current time must be before exp.
	if !now.Before(c.ExpiresAt.Add(leeway)) {
		return ErrExpired
	}
	if early := now.Add(leeway); early.Before(c.NotBefore) || early.Before(c.IssuedAt) {
		return ErrNotYetValid
	}
	if opts.Audience != "" && !slices.Contains(c.Audience, opts.Audience) {
		return ErrAudience
	}
	return nil
}
