package accesstoken

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/tollgate/tollgate/server/keys"
)

// TokenType is the JWT "typ" header of access tokens (RFC 9068 §2.1).
const TokenType = "at+jwt"

var b64 = base64.RawURLEncoding

// signBuf holds the scratch buffers of one Sign call.
type signBuf struct{ json, out []byte }

// maxPooledBuf keeps a rare huge token from pinning memory in the pool.
const maxPooledBuf = 16 << 10

var signBufs = sync.Pool{New: func() any {
	return &signBuf{json: make([]byte, 0, 1024), out: make([]byte, 0, 1024)}
}}

// Sign returns c as a compact JWS signed with k, with the protected header
// {"alg":k.Algorithm,"kid":k.ID,"typ":"at+jwt"}. It fails if a claim that
// RFC 9068 §2.2 requires is missing (iss, sub, aud, exp, iat, jti,
// client_id), if a scope is not a valid scope-token, or if a string is not
// valid UTF-8.
//
// The serialisation is assembled by hand into pooled buffers: the token
// endpoint calls this on every request. Tests check the output against
// go-jose.
func Sign(k *keys.Key, c *Claims) (string, error) {
	if err := checkClaims(c); err != nil {
		return "", err
	}
	buf := signBufs.Get().(*signBuf)
	defer func() {
		if cap(buf.json) <= maxPooledBuf && cap(buf.out) <= maxPooledBuf {
			signBufs.Put(buf)
		}
	}()

	js := append(buf.json[:0], `{"alg":`...)
	js, ok := appendString(js, k.Algorithm, true)
	js = append(js, `,"kid":`...)
	js, ok = appendString(js, k.ID, ok)
	js = append(js, `,"typ":"`+TokenType+`"}`...)
	if !ok {
		return "", errInvalidUTF8
	}
	out := b64.AppendEncode(buf.out[:0], js)
	out = append(out, '.')

	js, err := appendPayload(js[:0], c)
	if err != nil {
		return "", err
	}
	out = b64.AppendEncode(out, js)

	sig, err := k.AppendSignature(js[:0], out) // RFC 7515 §5.1: sign header.payload
	if err != nil {
		return "", fmt.Errorf("accesstoken: %w", err)
	}
	out = append(out, '.')
	out = b64.AppendEncode(out, sig)
	buf.json, buf.out = sig, out
	return string(out), nil
}

func checkClaims(c *Claims) error {
	var missing string
	switch {
	case c.Issuer == "":
		missing = "iss"
	case c.Subject == "":
		missing = "sub"
	case len(c.Audience) == 0:
		missing = "aud"
	case c.ExpiresAt.IsZero():
		missing = "exp"
	case c.IssuedAt.IsZero():
		missing = "iat"
	case c.ID == "":
		missing = "jti"
	case c.ClientID == "":
		missing = "client_id"
	}
	if missing != "" {
		return fmt.Errorf("accesstoken: claim %q is required", missing)
	}
	for _, s := range c.Scope {
		if !validScope(s) {
			return errors.New("accesstoken: scope is not a valid scope-token")
		}
	}
	return checkExtra(c.Extra)
}

// NewJTI returns a random token ID: 128 bits from crypto/rand, base64url.
func NewJTI() string {
	var b [16]byte
	rand.Read(b[:])
	return b64.EncodeToString(b[:])
}
