package grant

import (
	"slices"
	"strings"

	"github.com/tollgate/tollgate/server/oauth"
)

// Tollgate's own scopes start with reservedPrefix; the admin API and
// introspection read them.
const (
	reservedPrefix = "tollgate:"
	scopeAdmin     = "tollgate:admin"
	// RoleAdmin is the user role whose tokens may carry tollgate:admin.
	RoleAdmin = "admin"
)

// UserScopeRoles is the one rule for which of Tollgate's own scopes a token
// whose subject is a user may carry: a scope listed here, when the user has
// one of its roles. A client's tollgate:* scopes are the client's own
// powers; a user's token that borrowed them through a password client, a
// refresh or an API key would make every user as powerful as the client.
// Any other tollgate:* scope is never granted to a user's token
// (tollgate:introspect in particular: introspection and the revocation feed
// authenticate the calling client, never a user's token).
var UserScopeRoles = map[string][]string{
	scopeAdmin: {RoleAdmin},
}

// userMay reports whether a token for a user holding roles may carry s.
// Scopes outside tollgate:* are the client's (or key's) to grant.
func userMay(s string, roles []string) bool {
	if !strings.HasPrefix(s, reservedPrefix) {
		return true
	}
	return slices.ContainsFunc(UserScopeRoles[s], func(r string) bool { return slices.Contains(roles, r) })
}

// grantable keeps the scopes allow accepts, in order. RFC 6749 §3.3 lets the
// server issue fewer scopes than asked for (the response then names the
// ones issued); when none of a non-empty set survives, the request is
// invalid_scope with why, rather than a token that can do nothing.
func grantable(scopes []string, allow func(string) bool, why string) ([]string, error) {
	if !slices.ContainsFunc(scopes, func(s string) bool { return !allow(s) }) {
		return scopes, nil
	}
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if allow(s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, oauth.New(oauth.InvalidScope, why)
	}
	return out, nil
}

// Why a request ends with no grantable scope.
const (
	whyUserRoles = "none of these scopes may be granted to this user: Tollgate's own scopes (tollgate:*) need a role that allows them (tollgate:admin needs the role admin)"
	whyRefresh   = "none of this refresh token's scopes is allowed any more (removed from the client, or from the user's roles); log in again"
	whyKeyOwner  = "none of these scopes is allowed for the API key's owner any more; create a key with the owner's current scopes"
)
