package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Watch deadlines. A watcher learns of a revocation made through another
// instance within revocationNotifyWithin; cancelling a watch returns within
// revocationStopWithin.
const (
	revocationNotifyWithin = 2 * time.Second
	revocationStopWithin   = time.Second
	revocationStartWithin  = 5 * time.Second
)

func revocationTestWatchStart(t *testing.T, a, _ store.RevocationStore) {
	w := revocationStartWatch(t, a)
	w.waitNotify(t, revocationStartWithin, "the first notify")
	w.stop(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errc := make(chan error, 1)
	go func() { errc <- a.WatchRevocations(ctx, func() {}) }()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WatchRevocations(cancelled ctx) = %v, want context.Canceled", err)
		}
	case <-time.After(revocationStopWithin):
		t.Fatal("WatchRevocations(cancelled ctx) did not return")
	}
}

// revocationTestWatchOther: a watcher hears of entries recorded through
// another instance on the same backend, and through its own.
func revocationTestWatchOther(t *testing.T, a, b store.RevocationStore) {
	w := revocationStartWatch(t, a)
	w.waitNotify(t, revocationStartWithin, "the first notify")
	for _, tc := range []struct {
		via    string
		writer store.RevocationStore
	}{{"another instance", b}, {"the same instance", a}, {"another instance again", b}} {
		w.drain()
		r := revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
		revocationRevoke(t, tc.writer, r)
		w.waitNotify(t, revocationNotifyWithin, "a notify after Revoke through "+tc.via)
		if got := revocationOwn(revocationSince(t, a, r.Seq-1, 100), r); len(got) != 1 {
			t.Errorf("entry revoked through %s not readable after the notify", tc.via)
		}
	}
	w.stop(t)
}

// revocationWatch runs WatchRevocations in a goroutine that the test
// owns: it is stopped and waited for in t.Cleanup at the latest.
type revocationWatch struct {
	notes  chan struct{}
	done   chan struct{}
	err    error // set before done is closed
	cancel context.CancelFunc
}

func revocationStartWatch(t *testing.T, s store.RevocationStore) *revocationWatch {
	ctx, cancel := context.WithCancel(t.Context())
	w := &revocationWatch{notes: make(chan struct{}, 1), done: make(chan struct{}), cancel: cancel}
	var inNotify atomic.Int32
	go func() {
		defer close(w.done)
		w.err = s.WatchRevocations(ctx, func() {
			if inNotify.Add(1) != 1 {
				t.Error("notify called concurrently")
			}
			select {
			case w.notes <- struct{}{}:
			default:
			}
			inNotify.Add(-1)
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-w.done
	})
	return w
}

// drain forgets notifications already delivered.
func (w *revocationWatch) drain() {
	select {
	case <-w.notes:
	default:
	}
}

func (w *revocationWatch) waitNotify(t *testing.T, within time.Duration, what string) {
	t.Helper()
	select {
	case <-w.notes:
	case <-w.done:
		t.Fatalf("waiting for %s: WatchRevocations returned %v", what, w.err)
	case <-time.After(within):
		t.Fatalf("no %s within %v", what, within)
	}
}

// stop cancels the watch and checks that it returns ctx.Err() promptly.
func (w *revocationWatch) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	select {
	case <-w.done:
		if !errors.Is(w.err, context.Canceled) {
			t.Errorf("WatchRevocations after cancel = %v, want context.Canceled", w.err)
		}
	case <-time.After(revocationStopWithin):
		t.Fatalf("WatchRevocations did not return within %v of cancel", revocationStopWithin)
	}
}
