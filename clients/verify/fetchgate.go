package verify

import (
	"context"
	"errors"
	"sync"
	"time"
)

var errTooSoon = errors.New("verify: key set was fetched too recently")

// fetchGate runs the fetches of one key set: one at a time (callers that
// arrive meanwhile wait for it), and those caused by unknown kids at most
// once per KeyRefetchInterval, so that tokens with made-up kids cannot
// hammer the issuer. The signing keys and the audience's decryption keys
// each have their own gate under the same rules.
type fetchGate struct {
	mu       sync.Mutex
	last     time.Time     // start of the last fetch attempt
	inflight chan struct{} // closed when the running fetch ends; nil if none
}

// started records a fetch made outside the gate (Open's first one), from
// which the interval runs.
func (g *fetchGate) started(now time.Time) {
	g.mu.Lock()
	g.last = now
	g.mu.Unlock()
}

// run calls fetch with life (the Verifier's lifetime: a fetch outlives the
// request that caused it), or waits for the fetch already running and
// returns nil. Unless force, it does nothing (errTooSoon) if the last
// attempt started less than KeyRefetchInterval ago: failed attempts count
// too, so an unreachable issuer is not retried on every request.
func (g *fetchGate) run(ctx, life context.Context, o *Options, force bool, fetch func(context.Context) error) error {
	g.mu.Lock()
	if ch := g.inflight; ch != nil {
		g.mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	now := o.Now()
	if !force && !g.last.IsZero() && now.Sub(g.last) < o.KeyRefetchInterval {
		g.mu.Unlock()
		return errTooSoon
	}
	ch := make(chan struct{})
	g.inflight, g.last = ch, now
	g.mu.Unlock()

	err := fetch(life)

	g.mu.Lock()
	g.inflight = nil
	g.mu.Unlock()
	close(ch)
	return err
}
