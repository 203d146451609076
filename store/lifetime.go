package store

import (
	"context"
	"time"
)

// LifetimeMarks are the server-wide high-water marks of access-token
// lifetimes. They never fall: whatever was configured once may still be
// the lifetime of a token that has not expired, so a subject revocation
// and a retired signing key must be kept at least this long (plus the
// clock-skew leeway).
type LifetimeMarks struct {
	// Default is the longest server-default access-token lifetime
	// (TOLLGATE_ACCESS_TOKEN_TTL) any server has started with: the bound
	// for tokens of clients without their own lifetime.
	Default time.Duration
	// Longest is the longest lifetime any access token may have been
	// issued with: at least Default and every client's
	// MaxAccessTokenTTL.
	Longest time.Duration
}

// LifetimeStore persists the server-wide LifetimeMarks.
type LifetimeStore interface {
	// RaiseLifetimes raises each stored mark to the given one if that is
	// longer (Longest to at least Default as well) and returns the marks
	// now stored. Concurrent raises never lose the longer value.
	RaiseLifetimes(ctx context.Context, m LifetimeMarks) (LifetimeMarks, error)
	// Lifetimes returns the stored marks; zero before the first raise.
	Lifetimes(ctx context.Context) (LifetimeMarks, error)
}
