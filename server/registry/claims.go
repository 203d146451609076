package registry

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// checkClaimsField validates extra claims given in field and returns them
// compacted: a JSON object of at most maxClaims members and maxClaimsLen
// bytes whose names are not registered claims (a superset of those
// server/accesstoken writes itself, which it would refuse at signing).
// Null or absent means none (nil).
func checkClaimsField(v *ValidationError, field string, raw json.RawMessage) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var members map[string]json.RawMessage
	// encoding/json keeps the bytes of raw values as given: invalid UTF-8
	// would reach the token (and PostgreSQL's text) unreplaced.
	if raw[0] != '{' || !utf8.Valid(raw) || json.Unmarshal(raw, &members) != nil {
		v.add(field, "must be a JSON object in UTF-8, e.g. {\"tenant\": \"acme\"}")
		return nil
	}
	// Re-encoding drops duplicate names (the last one wins, as in
	// encoding/json) and sorts them, so a token never carries two values.
	out, err := json.Marshal(members)
	if err != nil || len(out) > maxClaimsLen || len(members) > maxClaims {
		v.add(field, "must be at most %d bytes of JSON with at most %d members", maxClaimsLen, maxClaims)
		return nil
	}
	bad := false
	for _, name := range sortedNames(members) {
		switch {
		case name == "" || len(name) > maxClaimName || printable(name) != name:
			v.add(field, "claim names must be 1 to %d printable ASCII characters", maxClaimName)
			bad = true
		case slices.ContainsFunc(registeredClaims, func(r string) bool { return strings.EqualFold(r, name) }):
			// Case-insensitively: encoding/json matches struct fields so,
			// the last member winning, and "SUB" would replace a Go API's sub.
			v.add(field, "%q is a registered claim name that Tollgate sets itself; choose another", name)
			bad = true
		}
	}
	if bad {
		return nil
	}
	return out
}

// checkSubjectClaims validates a client's or user's public and private
// claims and returns them compacted. A name may not be in both: the token
// of an encrypted audience carries both sets in one JSON object, and a
// duplicate name would leave its value to the parser (RFC 7519 §4).
func checkSubjectClaims(v *ValidationError, claims, private json.RawMessage) (pub, priv []byte) {
	pub = noneIfEmpty(checkClaimsField(v, "claims", claims))
	priv = noneIfEmpty(checkClaimsField(v, "private_claims", private))
	if pub == nil || priv == nil {
		return pub, priv
	}
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal(pub, &a) // both were just encoded from such maps
	_ = json.Unmarshal(priv, &b)
	// Names differing only by case count as one: a Go API's struct field
	// would take either value (encoding/json folds case).
	folded := make(map[string]bool, len(a))
	for name := range a {
		folded[strings.ToLower(name)] = true
	}
	for _, name := range sortedNames(b) {
		if folded[strings.ToLower(name)] {
			v.add("private_claims", "%q is also a public claim; a name is either public or private", name)
		}
	}
	return pub, priv
}

// noneIfEmpty reads {} as no claims, so that a subject without claims is
// always stored as nil.
func noneIfEmpty(b []byte) []byte {
	if string(b) == "{}" {
		return nil
	}
	return b
}

// patchClaims is what a patch's claims field makes of the stored value:
// nil keeps it, null removes it, an object replaces it.
func patchClaims(stored []byte, patch json.RawMessage) json.RawMessage {
	if patch == nil {
		return stored
	}
	return patch
}

func sortedNames(m map[string]json.RawMessage) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
