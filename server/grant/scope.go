package grant

import (
	"slices"
	"strings"

	"github.com/tollgate/tollgate/server/oauth"
)

// maxScopes bounds how many scope values one request may name.
const maxScopes = 64

// ParseScope splits a space-delimited scope parameter (RFC 6749 §3.3) into
// its distinct values, in order of first appearance. Every character must be
// %x21 / %x23-5B / %x5D-7E; anything else is invalid_scope.
func ParseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue // tolerate doubled spaces; they carry no scope
		}
		if !validScopeToken(tok) {
			return nil, oauth.New(oauth.InvalidScope, "scope values may contain only printable ASCII other than space, '\"' and '\\'")
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
		if len(out) > maxScopes {
			return nil, oauth.New(oauth.InvalidScope, "too many scope values")
		}
	}
	return out, nil
}

func validScopeToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// resolveScope applies the client's scope policy: no scope requested means
// the defaults (all allowed scopes when none are set); a requested scope
// must be a subset of allowed.
func resolveScope(requested string, allowed, defaults []string) ([]string, error) {
	want, err := ParseScope(requested)
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		if len(defaults) > 0 {
			return defaults, nil
		}
		return allowed, nil
	}
	for _, s := range want {
		if !slices.Contains(allowed, s) {
			return nil, oauth.New(oauth.InvalidScope, "scope "+quote(s)+" is not allowed for this client")
		}
	}
	return want, nil
}

// quote wraps a value already checked to be printable ASCII.
func quote(s string) string { return `"` + s + `"` }
