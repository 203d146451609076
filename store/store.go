// Package store is Tollgate's domain: the records it keeps, the persistence
// interfaces the server depends on, and the sentinel errors every
// implementation translates its driver errors into. It imports only the
// standard library.
package store

import "errors"

// Sentinel errors. Implementations wrap them with %w; callers compare with
// errors.Is.
var (
	// ErrNotFound means the record does not exist (or has expired).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a unique field (ID, name, username) is already taken.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable means the backing database or Redis could not be
	// reached; the request may succeed later (HTTP 503).
	ErrUnavailable = errors.New("store: unavailable")
	// ErrTokenReused means a refresh token that was already rotated was
	// presented again (RFC 9700 §4.14.2).
	ErrTokenReused = errors.New("store: refresh token reused")
)
