// Package accesstoken signs and verifies Tollgate's access tokens: JWTs in
// the RFC 9068 profile ("typ":"at+jwt"), signed with EdDSA or ES256.
package accesstoken

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Claims are the claims of an access token (RFC 9068 §2.2). Times are
// encoded as whole seconds (NumericDate, RFC 7519 §2).
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt time.Time
	IssuedAt  time.Time
	// NotBefore is omitted when zero.
	NotBefore time.Time
	// ID is the "jti"; make it with NewJTI.
	ID       string
	ClientID string
	// Scope is encoded space-delimited (RFC 9068 §2.2.3); each scope must be
	// a valid RFC 6749 §3.3 scope-token. Omitted when empty.
	Scope []string
	// Roles (RFC 9068 §2.2.3.1, RFC 7643 roles) are omitted when empty.
	Roles []string
	// APIKeyID names the API key the token was issued for; omitted when
	// empty.
	APIKeyID string
	// KeyThumbprint binds the token to a DPoP key: "cnf":{"jkt":…} (RFC 9449
	// §6.1), the key's RFC 7638 thumbprint. Omitted when empty.
	KeyThumbprint string
	// Extra is a JSON object whose members are added to the payload (an
	// application's non-secret claims on its subject's API key). Its names
	// must differ from every claim above; Sign refuses it otherwise.
	Extra []byte
}

// ownClaims are the names appendPayload writes itself.
var ownClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "roles", "api_key_id", "cnf"}

var errInvalidUTF8 = errors.New("accesstoken: claim is not valid UTF-8")

// appendPayload appends the JSON of c, validated by checkClaims, to dst.
func appendPayload(dst []byte, c *Claims) ([]byte, error) {
	ok := true
	str := func(name, v string) {
		dst = append(dst, ',', '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
		dst, ok = appendString(dst, v, ok)
	}
	num := func(name string, t time.Time) {
		dst = append(dst, ',', '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
		dst = strconv.AppendInt(dst, t.Unix(), 10)
	}
	dst = append(dst, `{"iss":`...)
	dst, ok = appendString(dst, c.Issuer, ok)
	str("sub", c.Subject)
	if len(c.Audience) == 1 {
		str("aud", c.Audience[0])
	} else {
		dst = append(dst, `,"aud":`...)
		dst, ok = appendStrings(dst, c.Audience, ok)
	}
	num("exp", c.ExpiresAt)
	num("iat", c.IssuedAt)
	if !c.NotBefore.IsZero() {
		num("nbf", c.NotBefore)
	}
	str("jti", c.ID)
	str("client_id", c.ClientID)
	if len(c.Scope) > 0 {
		dst = append(dst, `,"scope":"`...)
		for i, s := range c.Scope {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, s...) // scope-tokens need no JSON escaping
		}
		dst = append(dst, '"')
	}
	if len(c.Roles) > 0 {
		dst = append(dst, `,"roles":`...)
		dst, ok = appendStrings(dst, c.Roles, ok)
	}
	if c.APIKeyID != "" {
		str("api_key_id", c.APIKeyID)
	}
	if c.KeyThumbprint != "" {
		dst = append(dst, `,"cnf":{"jkt":`...)
		dst, ok = appendString(dst, c.KeyThumbprint, ok)
		dst = append(dst, '}')
	}
	if inner := extraMembers(c.Extra); len(inner) > 0 {
		dst = append(dst, ',')
		dst = append(dst, inner...)
	}
	if !ok {
		return nil, errInvalidUTF8
	}
	return append(dst, '}'), nil
}

// MergeExtra joins two Extra objects whose names differ (a subject's
// public and private claims, which the registry keeps apart) without
// parsing them: the token endpoint is the hot path, and Sign vets the
// result, refusing it if either was not a JSON object.
func MergeExtra(a, b []byte) []byte {
	ma, mb := extraMembers(a), extraMembers(b)
	switch {
	case len(mb) == 0:
		return a
	case len(ma) == 0:
		return b
	}
	out := make([]byte, 0, len(ma)+len(mb)+3)
	out = append(out, '{')
	out = append(out, ma...)
	out = append(out, ',')
	out = append(out, mb...)
	return append(out, '}')
}

// extraMembers returns the members of the JSON object extra without its
// braces (checkExtra vets the object).
func extraMembers(extra []byte) []byte {
	b := bytes.TrimSpace(extra)
	if len(b) < 2 {
		return nil
	}
	return bytes.TrimSpace(b[1 : len(b)-1])
}

// checkExtra accepts an empty Extra or a JSON object none of whose names
// Claims writes itself: a duplicate name would let the extra claims
// override sub, aud or scope for some JSON parsers (RFC 7519 §4 leaves
// duplicates to the parser).
func checkExtra(extra []byte) error {
	b := bytes.TrimSpace(extra)
	if len(b) == 0 {
		return nil
	}
	var members map[string]json.RawMessage
	if b[0] != '{' || json.Unmarshal(b, &members) != nil {
		return errors.New("accesstoken: extra claims are not a JSON object")
	}
	for name := range members {
		// Under case folding too: encoding/json matches struct fields
		// case-insensitively, the last member winning, so "SUB" or "ſub"
		// would replace sub for a Go verifier.
		if slices.ContainsFunc(ownClaims, func(own string) bool { return strings.EqualFold(own, name) }) {
			return fmt.Errorf("accesstoken: extra claim %q is one Tollgate sets", name)
		}
	}
	return nil
}

func appendStrings(dst []byte, ss []string, ok bool) ([]byte, bool) {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst, ok = appendString(dst, s, ok)
	}
	return append(dst, ']'), ok
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (RFC 8259 §7). ok becomes false
// if s is not valid UTF-8: replacing bytes would silently change a
// subject or role, so the caller refuses instead.
func appendString(dst []byte, s string, ok bool) ([]byte, bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				ok = false
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), ok
}

// validScope reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// wireClaims is the JSON form of Claims for decoding.
type wireClaims struct {
	Iss      string      `json:"iss"`
	Sub      string      `json:"sub"`
	Aud      audience    `json:"aud"`
	Exp      numericDate `json:"exp"`
	Iat      numericDate `json:"iat"`
	Nbf      numericDate `json:"nbf"`
	Jti      string      `json:"jti"`
	ClientID string      `json:"client_id"`
	Scope    string      `json:"scope"`
	Roles    []string    `json:"roles"`
	APIKeyID string      `json:"api_key_id"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

func (w *wireClaims) claims() *Claims {
	c := &Claims{
		Issuer: w.Iss, Subject: w.Sub, Audience: w.Aud,
		ExpiresAt: w.Exp.t, IssuedAt: w.Iat.t, NotBefore: w.Nbf.t,
		ID: w.Jti, ClientID: w.ClientID, Roles: w.Roles, APIKeyID: w.APIKeyID,
		KeyThumbprint: w.Cnf.JKT,
	}
	if w.Scope != "" {
		c.Scope = strings.Fields(w.Scope)
	}
	return c
}

// audience is "aud": one string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*a = ss
	return nil
}

// numericDate is a JWT NumericDate: a JSON number of seconds since the
// epoch (RFC 7519 §2). JSON null leaves it unset.
type numericDate struct{ t time.Time }

// maxNumericDate bounds NumericDates to year ~5000 so that conversions
// cannot overflow.
const maxNumericDate = 1e11

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || b[0] == '"' || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return errors.New("accesstoken: invalid NumericDate")
	}
	sec, frac := math.Modf(f)
	d.t = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}
