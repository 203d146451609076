package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Tollgate encrypts access tokens for encrypted audiences as nested JWTs
// (RFC 7519 §5.2, §11.2): a JWE in compact serialization (RFC 7516 §7.1)
// whose payload is the signed access token. These are the only algorithms
// a verifier accepts: key agreement or RSA key transport to the
// audience's key, never "dir" (a shared key), "none" or a password-based
// one; AES-GCM content encryption.
var (
	allowedKeyAlgs = map[string]bool{string(jose.ECDH_ES_A256KW): true, string(jose.RSA_OAEP_256): true}
	allowedEnc     = jose.A256GCM
)

// isJWE reports whether tok has the five parts of a compact JWE (a JWS
// has three). Cheap: it decides which path a token takes.
func isJWE(tok string) bool { return strings.Count(tok, ".") == 4 }

// jweHeader is what the verifier reads of a JWE's protected header.
type jweHeader struct {
	Alg, Enc, Cty, Kid string
}

// parseJWEHeader checks the compact form and the protected header of a
// JWE without any key: an allowed alg and enc, cty JWT (RFC 7519 §5.2:
// the payload is itself a JWT), a kid, and no zip or crit. Encoding
// problems are ErrMalformed, a header the verifier does not accept
// ErrUndecryptable.
func parseJWEHeader(tok string) (*jweHeader, error) {
	if !compactChars(tok) || !isJWE(tok) {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrMalformed)
	}
	parts := strings.SplitN(tok, ".", 5)
	// Strict decoding of every part: each token has a single spelling, as
	// for a JWS (the header's spelling is authenticated anyway, as AAD).
	enc := base64.RawURLEncoding.Strict()
	for _, p := range parts[1:] {
		if !canonical(enc, p) {
			return nil, fmt.Errorf("%w: bad base64url", ErrMalformed)
		}
	}
	raw, err := enc.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64url header", ErrMalformed)
	}
	// A map, not a struct: member names match exactly (encoding/json
	// matches struct fields case-insensitively), as go-jose reads them.
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, fmt.Errorf("%w: JWE header is not a JSON object", ErrMalformed)
	}
	var h jweHeader
	for name, dst := range map[string]*string{"alg": &h.Alg, "enc": &h.Enc, "cty": &h.Cty, "kid": &h.Kid} {
		if v, ok := m[name]; ok && json.Unmarshal(v, dst) != nil {
			return nil, fmt.Errorf("%w: JWE header %s is not a string", ErrMalformed, name)
		}
	}
	switch {
	case !allowedKeyAlgs[h.Alg]:
		return nil, fmt.Errorf("%w: JWE alg %.40q is not ECDH-ES+A256KW or RSA-OAEP-256", ErrUndecryptable, h.Alg)
	case h.Enc != string(allowedEnc):
		return nil, fmt.Errorf("%w: JWE enc %.40q is not A256GCM", ErrUndecryptable, h.Enc)
	case m["zip"] != nil:
		// Compression before encryption leaks the plaintext's content
		// through the ciphertext's length; Tollgate never compresses.
		return nil, fmt.Errorf("%w: compressed (zip) JWE", ErrUndecryptable)
	case m["crit"] != nil:
		return nil, fmt.Errorf("%w: JWE crit header not supported", ErrUndecryptable) // RFC 7516 §4.1.13
	case !strings.EqualFold(h.Cty, "JWT"):
		return nil, fmt.Errorf("%w: JWE cty is not JWT: not a nested token", ErrUndecryptable)
	case h.Kid == "":
		return nil, fmt.Errorf("%w: JWE without kid", ErrUndecryptable)
	}
	return &h, nil
}

// checkEncrypted decrypts tok with the audience's key named by its kid,
// then applies every rule of checkSigned to the inner token: a JWE whose
// payload is not a JWS signed by the issuer fails as a plain token with
// that signature would.
func (v *Verifier) checkEncrypted(ctx context.Context, tok string, now time.Time) (*entry, error) {
	h, err := parseJWEHeader(tok)
	if err != nil {
		return nil, err
	}
	dk, err := v.dkeys.lookup(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	// The header's alg must be the key's: an RSA key is never used for
	// ECDH-ES and vice versa.
	if string(dk.alg) != h.Alg {
		return nil, fmt.Errorf("%w: header alg %q, key alg %q", ErrUndecryptable, h.Alg, dk.alg)
	}
	obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{dk.alg}, []jose.ContentEncryption{allowedEnc})
	if err != nil {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrMalformed)
	}
	// go-jose's error texts say nothing of the key, but a fixed message
	// keeps it that way.
	inner, err := obj.Decrypt(dk.key)
	if err != nil {
		return nil, fmt.Errorf("%w: decryption failed", ErrUndecryptable)
	}
	e, err := v.checkSigned(ctx, string(inner), now)
	if err != nil {
		return nil, err
	}
	e.p.Encrypted = true // not shared yet
	return e, nil
}
