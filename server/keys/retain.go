package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Lifetimes reports the high-water marks of access-token lifetimes;
// store.LifetimeStore implements it.
type Lifetimes interface {
	// Lifetimes returns the marks; Longest is the longest lifetime any
	// access token may have been issued with.
	Lifetimes(ctx context.Context) (store.LifetimeMarks, error)
}

// retention is how long a retired key stays published: until the
// longest-lived token it may have signed has expired. A key verifies the
// tokens it signed until their exp, and those may carry a lifetime longer
// than today's default (a client's own access_token_ttl, or a default since
// lowered), so Options.Retain is only the floor; the longest lifetime ever
// issued (plus ClockSkew) is re-read on every load, as it may have risen
// on another node. It never shrinks within a process.
func (m *Manager) retention(ctx context.Context, prev *keySet) (time.Duration, error) {
	retain := m.opts.Retain
	if prev != nil {
		retain = max(retain, prev.retain)
	}
	if m.opts.Lifetimes == nil {
		return retain, nil
	}
	marks, err := m.opts.Lifetimes.Lifetimes(ctx)
	if err != nil {
		return 0, fmt.Errorf("keys: read token lifetimes: %w", err)
	}
	return max(retain, marks.Longest+m.opts.ClockSkew), nil
}

// Retention returns how long a retired key now stays published.
func (m *Manager) Retention() time.Duration {
	if set := m.set.Load(); set != nil {
		return set.retain
	}
	return m.opts.Retain
}

// Published reports whether kid is in the JWKS now, so that claims it
// once vouched for may still be trusted. Unlike PublicKey it never
// reloads and allocates nothing: it is asked on every cached
// introspection.
func (m *Manager) Published(kid string) bool {
	set := m.set.Load()
	if set == nil {
		return false
	}
	e := set.lookup(kid)
	return e != nil && e.published(m.opts.Now(), set.retain)
}
