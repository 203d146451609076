package encryption

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/store"
)

// MaxLen is the longest encrypted token Encrypt makes and Decrypt reads,
// as long as the longest token clients/verify accepts.
const MaxLen = 16 << 10

var (
	// ErrNotEncrypted means the audience does not receive encrypted tokens.
	ErrNotEncrypted = errors.New("encryption: audience is not encrypted")
	// ErrUndecryptable means a token is not a JWE this ring decrypts: not
	// a compact JWE, an algorithm or header Tollgate never issues, an
	// unknown or expired kid, or a failed decryption.
	ErrUndecryptable = errors.New("encryption: token does not decrypt")
	// ErrNoKey means an encrypted audience has no key tokens may be
	// encrypted to now (it was made encrypted on another node that has
	// not been loaded yet, or its keys are only pending).
	ErrNoKey = errors.New("encryption: encrypted audience has no active key")
)

const contentEncryption = jose.A256GCM

// keyAlgorithms and contentAlgorithms are the only "alg" and "enc" values
// Decrypt lets go-jose accept (RFC 8725 §3.1: allow-list the algorithms).
var (
	keyAlgorithms     = []jose.KeyAlgorithm{jose.ECDH_ES_A256KW, jose.RSA_OAEP_256}
	contentAlgorithms = []jose.ContentEncryption{contentEncryption}
)

// headerParams are the protected header parameters Tollgate writes; any
// other (zip, crit, jku, jwk, x5u, apu, ...) is refused.
var headerParams = map[string]bool{"alg": true, "enc": true, "cty": true, "kid": true, "epk": true}

// IsJWE reports whether tok has the shape of a JWE compact serialization:
// five dot-separated parts (RFC 7516 §7.1), where a JWS has three. It
// does not parse anything.
func IsJWE(tok string) bool { return strings.Count(tok, ".") == 4 }

// Encrypt returns jws encrypted to the current key of aud as a nested JWT
// in JWE compact serialization. ErrNotEncrypted if aud is not encrypted;
// ErrNoKey if no key of it is active yet.
func (r *Ring) Encrypt(aud, jws string) (string, error) {
	s := r.snap.Load()
	if s == nil || !s.auds[aud].Encrypted {
		return "", ErrNotEncrypted
	}
	e := s.current(aud, r.opts.Now())
	if e == nil {
		return "", ErrNoKey
	}
	obj, err := e.enc.Encrypt([]byte(jws))
	if err != nil {
		return "", fmt.Errorf("encryption: encrypt to %s: %w", e.id, err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("encryption: encrypt to %s: %w", e.id, err)
	}
	if len(out) > MaxLen {
		return "", fmt.Errorf("encryption: encrypted token is %d bytes, longer than the %d an API accepts: fewer or shorter claims", len(out), MaxLen)
	}
	return out, nil
}

// Decrypt returns the JWS inside an encrypted token and the audience whose
// key decrypted it. It does not verify the JWS: the caller does, and
// checks that its aud names that audience. Every error wraps
// ErrUndecryptable and names no part of the token. An unknown kid reloads
// the keys from the store, at most once per second for all callers, then
// tries again: another node may have just made the key.
func (r *Ring) Decrypt(ctx context.Context, tok string) (jws, aud string, err error) {
	defer func() {
		// go-jose parses attacker input; a panic in it must not take the
		// request down.
		if p := recover(); p != nil {
			jws, aud, err = "", "", undecryptable("malformed JWE")
		}
	}()
	if len(tok) > MaxLen {
		return "", "", undecryptable(fmt.Sprintf("longer than %d bytes", MaxLen))
	}
	if !IsJWE(tok) {
		return "", "", undecryptable("not a JWE compact serialization (five parts)")
	}
	kid, alg, err := checkHeader(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		return "", "", err
	}
	obj, err := jose.ParseEncryptedCompact(tok, keyAlgorithms, contentAlgorithms)
	if err != nil {
		return "", "", undecryptable("malformed JWE or an algorithm Tollgate does not issue")
	}
	e := r.lookup(kid)
	if e == nil && r.reloadOnMiss(ctx) {
		e = r.lookup(kid)
	}
	if e == nil {
		return "", "", undecryptable("unknown or expired kid")
	}
	if e.alg != alg || obj.Header.KeyID != kid {
		return "", "", undecryptable("alg does not fit the key")
	}
	pt, err := obj.Decrypt(e.priv)
	if err != nil {
		return "", "", undecryptable("decryption failed")
	}
	if !isCompactJWS(pt) {
		return "", "", undecryptable("payload is not a compact JWS")
	}
	return string(pt), e.aud, nil
}

// lookup returns the key kid if it may still decrypt now.
func (r *Ring) lookup(kid string) *entry {
	s := r.snap.Load()
	if s == nil {
		return nil
	}
	e := s.byID[kid]
	if e == nil || !e.decrypts(r.opts.Now(), s.retain) {
		return nil
	}
	return e
}

// checkHeader reads the protected header and refuses what Tollgate never
// writes: parameters other than headerParams (zip above all: compression
// before encryption leaks the plaintext's content through its length,
// RFC 8725 §3.6), a cty other than "JWT" (RFC 7519 §5.2), a missing kid,
// or an alg or enc outside the allow-list.
func checkHeader(b64 string) (kid, alg string, err error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(b64)
	if err != nil {
		return "", "", undecryptable("protected header is not base64url")
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", "", undecryptable("protected header is not a JSON object")
	}
	for k := range h {
		if !headerParams[k] {
			return "", "", undecryptable("protected header has a parameter Tollgate does not issue")
		}
	}
	var hs struct{ Alg, Enc, Cty, Kid string }
	for name, dst := range map[string]*string{"alg": &hs.Alg, "enc": &hs.Enc, "cty": &hs.Cty, "kid": &hs.Kid} {
		if v, ok := h[name]; !ok || json.Unmarshal(v, dst) != nil || *dst == "" {
			return "", "", undecryptable("protected header lacks a string " + name)
		}
	}
	switch {
	case hs.Cty != "JWT":
		return "", "", undecryptable(`cty is not "JWT"`)
	case hs.Enc != string(contentEncryption):
		return "", "", undecryptable("enc is not A256GCM")
	case hs.Alg != store.KeyECDHES && hs.Alg != store.KeyRSAOAEP256:
		return "", "", undecryptable("alg is not ECDH-ES+A256KW or RSA-OAEP-256")
	}
	return hs.Kid, hs.Alg, nil
}

// isCompactJWS reports whether b has the shape of a JWS compact
// serialization (RFC 7515 §7.1): three parts, the first not empty.
func isCompactJWS(b []byte) bool {
	return bytes.IndexByte(b, '.') > 0 && bytes.Count(b, []byte{'.'}) == 2
}

func undecryptable(why string) error { return fmt.Errorf("%w: %s", ErrUndecryptable, why) }
