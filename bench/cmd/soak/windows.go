package main

import (
	"sync"
	"time"
)

// component is a store the soak restarts.
type component int

const (
	compRedis component = iota
	compPostgres
	compCount
)

func (c component) String() string {
	if c == compRedis {
		return "Redis"
	}
	return "PostgreSQL"
}

// outage is one component's restart. The window is from stopped to
// recovered: the first moment after the start at which every node
// answered /readyz with 200 again. Zero times have not happened yet.
type outage struct {
	comp      component
	stopped   time.Time
	started   time.Time // the store accepts connections again
	recovered time.Time
	// firstSuccess is the first 200 of a request that needs the component
	// (refresh for Redis, password login for PostgreSQL) sent after started.
	firstSuccess time.Time
	// timedOut: the nodes were not all ready within -recover-max.
	timedOut bool
}

// windows records the outages; safe for concurrent use. A request belongs
// to a window when it overlaps [stopped, recovered + grace]: it was
// answered after the stop, and sent before the end of the grace (or the
// component has not recovered yet).
type windows struct {
	grace time.Duration
	mu    sync.RWMutex
	o     [compCount]outage
}

func newWindows(grace time.Duration) *windows {
	w := &windows{grace: grace}
	for c := range compCount {
		w.o[c].comp = c
	}
	return w
}

// stop records that c is being stopped now.
func (w *windows) stop(c component, t time.Time) {
	w.mu.Lock()
	w.o[c].stopped = t
	w.mu.Unlock()
}

// start records that c accepts connections again.
func (w *windows) start(c component, t time.Time) {
	w.mu.Lock()
	w.o[c].started = t
	w.mu.Unlock()
}

// recover records that every node is ready again after c's restart.
func (w *windows) recover(c component, t time.Time) {
	w.mu.Lock()
	w.o[c].recovered = t
	w.mu.Unlock()
}

// timeout records that c's nodes did not all recover in time; its window
// then stays open to the end of the run.
func (w *windows) timeout(c component) {
	w.mu.Lock()
	w.o[c].timedOut = true
	w.mu.Unlock()
}

// covers reports whether a request sent at sent and answered at answered
// overlaps any window (grace included).
func (w *windows) covers(sent, answered time.Time) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for c := range compCount {
		if w.o[c].overlaps(sent, answered, w.grace) {
			return true
		}
	}
	return false
}

// coversComp is covers for one component.
func (w *windows) coversComp(c component, sent, answered time.Time) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.o[c].overlaps(sent, answered, w.grace)
}

func (o *outage) overlaps(sent, answered time.Time, grace time.Duration) bool {
	if o.stopped.IsZero() || answered.Before(o.stopped) {
		return false
	}
	if o.recovered.IsZero() {
		return true
	}
	return !sent.After(o.recovered.Add(grace))
}

// success notes a 200 of a request that needs c, sent at sent and
// answered at answered.
func (w *windows) success(c component, sent, answered time.Time) {
	w.mu.RLock()
	o := w.o[c]
	w.mu.RUnlock()
	if o.started.IsZero() || sent.Before(o.started) || (!o.firstSuccess.IsZero() && !answered.Before(o.firstSuccess)) {
		return
	}
	w.mu.Lock()
	if w.o[c].firstSuccess.IsZero() || answered.Before(w.o[c].firstSuccess) {
		w.o[c].firstSuccess = answered
	}
	w.mu.Unlock()
}

// snapshot returns a copy of the outages.
func (w *windows) snapshot() [compCount]outage {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.o
}
