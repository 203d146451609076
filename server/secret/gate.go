package secret

import (
	"context"
	"errors"
	"time"
)

// ErrBusy means every password-hashing slot stayed taken for the whole
// queue wait: the server is over capacity, and the caller should retry
// shortly.
var ErrBusy = errors.New("secret: every password-hashing slot is busy")

// PasswordGate bounds how many argon2id runs happen at once (each holds
// about 19 MiB, see HashPassword) and how long a caller queues for one.
// Without the deadline a burst of logins queues without bound in time: a
// caller would wait until it gave up, and everyone behind it with it.
type PasswordGate struct {
	slots chan struct{}
	wait  time.Duration
}

// NewPasswordGate returns a gate of n slots (at least 1) whose callers
// queue at most wait.
func NewPasswordGate(n int, wait time.Duration) *PasswordGate {
	return &PasswordGate{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// Acquire takes a slot, waiting at most the gate's wait, and returns the
// func that gives it back. The error is ErrBusy after the wait, or ctx's
// error if ctx ends first (a caller that left).
func (g *PasswordGate) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
