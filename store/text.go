package store

import (
	"strings"
	"unicode/utf8"
)

// StorableText reports whether s is valid UTF-8 without NUL characters:
// text every store can hold and look up. PostgreSQL's text type refuses
// both (SQLSTATE 22021), so identifiers from outside (client IDs,
// usernames, IDs in paths) are checked with this before any query, and
// refused in the protocol's own format.
func StorableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
