// Package throttle protects authentication from brute force and floods:
// failure budgets that lock a key out with growing delays, and request
// rate limits.
package throttle

import (
	"sync"
	"time"
)

// LockoutPolicy says when a key is locked out and for how long.
type LockoutPolicy struct {
	// Threshold is how many consecutive failures are free; each failure
	// beyond it locks the key, for Base, then twice as long each time, up
	// to Max.
	Threshold int
	Base, Max time.Duration
	// Forget drops a key's failures after this long without one.
	Forget time.Duration
}

// maxEntries bounds the memory a flood of distinct keys can take; past it
// the oldest-looking entries are dropped first.
const maxEntries = 100_000

// Lockout counts consecutive authentication failures per key (a client or
// username with the caller's IP address, or an IP address alone) and
// locks a key out once it has too many. It lives in each node's memory:
// checking it costs no round trip, and an attacker spread over n nodes
// gets at most n times the budget.
type Lockout struct {
	p   LockoutPolicy
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*failures
}

type failures struct {
	n           int
	last        time.Time
	lockedUntil time.Time
}

// NewLockout returns an empty Lockout.
func NewLockout(p LockoutPolicy, now func() time.Time) *Lockout {
	if now == nil {
		now = time.Now
	}
	return &Lockout{p: p, now: now, m: map[string]*failures{}}
}

// Locked returns how long the key stays locked out (0 if it is not).
func (l *Lockout) Locked(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[key]
	if !ok || !now.Before(f.lockedUntil) {
		return 0
	}
	return f.lockedUntil.Sub(now)
}

// Fail records a failure and returns how long the key is now locked out.
func (l *Lockout) Fail(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[key]
	if !ok || now.Sub(f.last) > l.p.Forget {
		if !ok && len(l.m) >= maxEntries {
			l.evict(now)
		}
		f = &failures{}
		l.m[key] = f
	}
	f.n++
	f.last = now
	over := f.n - l.p.Threshold
	if over <= 0 {
		return 0
	}
	d := l.p.Base << min(over-1, 30)
	if d > l.p.Max || d <= 0 {
		d = l.p.Max
	}
	f.lockedUntil = now.Add(d)
	return d
}

// Succeed forgets the key's failures.
func (l *Lockout) Succeed(key string) {
	l.mu.Lock()
	delete(l.m, key)
	l.mu.Unlock()
}

// evict drops forgotten entries, or, if none are, a tenth of all of them
// (map order is random), so memory stays bounded under a flood.
func (l *Lockout) evict(now time.Time) {
	for k, f := range l.m {
		if now.Sub(f.last) > l.p.Forget && !now.Before(f.lockedUntil) {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < maxEntries*9/10 {
			break
		}
		delete(l.m, k)
	}
}
