package introspection

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tollgate/tollgate/store"
)

// ClientLookup finds the client a token was issued to; the node's client
// store (the client cache where there is one) implements it.
type ClientLookup interface {
	// GetClient returns store.ErrNotFound for a client that does not
	// exist (any more).
	GetClient(ctx context.Context, id string) (*store.Client, error)
}

// clientSeenFor is how long a client found to exist is believed to without
// asking again. Deleting a client first records a subject revocation that
// outlives all its tokens, and every node applies it within moments; this
// check is the backstop for a token that entry did not cover (one issued
// before lifetimes were tracked), so a short belief costs nothing and
// spares the store a read per introspection.
const clientSeenFor = 10 * time.Second

// maxSeenClients bounds the belief map; past it, it starts afresh.
const maxSeenClients = 100_000

// liveClients answers whether a token's client still exists: a token
// whose client no longer exists is never active.
type liveClients struct {
	lookup ClientLookup
	mu     sync.RWMutex
	seen   map[string]time.Time // client_id → believed to exist until
}

func newLiveClients(l ClientLookup) *liveClients {
	return &liveClients{lookup: l, seen: map[string]time.Time{}}
}

// check returns r, or inactive if r is an active access token whose client
// no longer exists; an error if the store could not say. A known client
// costs a map lookup; an unknown one reads the store every time.
func (l *liveClients) check(ctx context.Context, r *Result, now time.Time) (*Result, error) {
	// A user's API key acts as its own client (client_id is the key's
	// ID); its deletion is the key's own subject revocation.
	if l.lookup == nil || !r.Active || r.TokenUse != "access_token" || (r.APIKeyID != "" && r.ClientID == r.APIKeyID) {
		return r, nil
	}
	l.mu.RLock()
	until, ok := l.seen[r.ClientID]
	l.mu.RUnlock()
	if ok && now.Before(until) {
		return r, nil
	}
	_, err := l.lookup.GetClient(ctx, r.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return inactive, nil
	case err != nil:
		return nil, err
	}
	l.mu.Lock()
	if len(l.seen) >= maxSeenClients {
		clear(l.seen)
	}
	l.seen[r.ClientID] = now.Add(clientSeenFor)
	l.mu.Unlock()
	return r, nil
}
