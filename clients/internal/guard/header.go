// Package guard holds what the net/http and Gin middleware share: reading
// the bearer token from the Authorization header (RFC 6750 §2.1), the
// scope and role checks, and the RFC 6750 §3 error responses.
package guard

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/clients/verify"
)

// Header errors. ErrNoToken means the request carries no bearer
// credentials at all; the others that its Authorization header is bad.
var (
	ErrNoToken  = errors.New("no bearer token")
	ErrMultiple = errors.New("several Authorization headers")
	ErrSyntax   = errors.New(`the Authorization header is not "Bearer <token>"`)
	ErrTooLong  = errors.New("the bearer token is too long")
)

// Token returns the bearer token of h's Authorization header. Per RFC
// 6750 §2.1 and RFC 9110 §11.1 the scheme is case-insensitive and one or
// more spaces separate it from the token, which must be a b64token. No
// header, an empty one or another scheme (Basic, say) is ErrNoToken: the
// request has no bearer credentials.
func Token(h http.Header) (string, error) {
	tok, bound, err := Credentials(h)
	if err == nil && bound {
		return "", ErrNoToken
	}
	return tok, err
}

// Credentials is Token for both schemes this package reads: Bearer (RFC
// 6750) and DPoP (RFC 9449 §7.1), which it reports as dpopScheme.
func Credentials(h http.Header) (tok string, dpopScheme bool, err error) {
	vals := h.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", false, ErrNoToken
	case 1:
	default:
		return "", false, ErrMultiple
	}
	v := strings.Trim(vals[0], " \t") // RFC 9110 §5.5: OWS around a field value is not part of it
	if v == "" {
		return "", false, ErrNoToken
	}
	scheme, rest, _ := strings.Cut(v, " ")
	dpopScheme = strings.EqualFold(scheme, "DPoP")
	if !strings.EqualFold(scheme, "Bearer") && !dpopScheme {
		if validScheme(scheme) {
			return "", false, ErrNoToken
		}
		return "", false, ErrSyntax
	}
	tok = strings.TrimLeft(rest, " ")
	if len(tok) > verify.MaxTokenLen {
		return "", false, ErrTooLong
	}
	if !b64token(tok) {
		return "", false, ErrSyntax
	}
	return tok, dpopScheme, nil
}

// b64token reports whether s matches RFC 6750 §2.1:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	n := len(strings.TrimRight(s, "="))
	if n == 0 {
		return false
	}
	for i := 0; i < n; i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// validScheme reports whether s is an RFC 9110 token (an auth-scheme).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
