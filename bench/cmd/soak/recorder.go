package main

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// maxNotable bounds the failures of one kind kept in full for the report.
const maxNotable = 20

// tally is what the recorder has counted; the checks read only this.
type tally struct {
	requests uint64
	// byClass counts answers by status class, [0] outside every window and
	// [1] inside one (grace included).
	byClass [classCount][2]uint64
	ops     [opCount]opTally
	all     histogram
	// kinds counts every non-200 by "op status error".
	kinds map[string]uint64
	// wrong counts wrong answers by kind; doubtful refresh losses apart.
	wrong        map[string]uint64
	doubtfulLoss uint64
	// revoked tokens reported active: on the node that answered the
	// revocation, on another node, and the longest time from the
	// revocation's answer to such an introspection's sending.
	activeSame, activeOther uint64
	maxLag                  time.Duration
	failClosed              uint64
	faults                  uint64 // 503 outside every window, any other 5xx, no answer
	// notable keeps the first maxNotable failures of each kind in full;
	// spans says when each kind was first and last seen.
	notable []outcome
	perKind map[string]int
	spans   map[string][2]time.Time
}

// opTally is one op's counts and latencies.
type opTally struct {
	n           uint64
	ok          uint64
	unavailable uint64 // 503
	hist        histogram
}

// recorder collects outcomes; safe for concurrent use.
type recorder struct {
	win *windows
	mu  sync.Mutex
	t   tally
}

func newRecorder(win *windows) *recorder {
	return &recorder{win: win, t: tally{
		kinds: map[string]uint64{}, wrong: map[string]uint64{},
		perKind: map[string]int{}, spans: map[string][2]time.Time{},
	}}
}

// add records o. A 4xx the worker did not judge is an unexpected status.
func (r *recorder) add(o outcome) {
	inWin := r.win.covers(o.sent, o.answered())
	cls := classOf(o.status)
	if cls == class4xx && o.wrong == "" && !o.doubtful {
		o.wrong, o.detail = wrongStatus, fmt.Sprintf("%d %s", o.status, o.code)
	}
	if o.status == 200 {
		if c, ok := o.op.needs(); ok {
			r.win.success(c, o.sent, o.answered())
		}
	}
	fault := cls == classNone || cls == class5xx || (cls == class503 && !inWin)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.t
	t.requests++
	t.byClass[cls][b2i(inWin)]++
	ot := &t.ops[o.op]
	ot.n++
	switch o.status {
	case 200:
		ot.ok++
	case 503:
		ot.unavailable++
	}
	if o.status != 200 {
		t.kinds[fmt.Sprintf("%s %s %s", o.op, statusText(o.status), o.code)]++
	}
	if o.status != 0 {
		ot.hist.add(o.took)
		t.all.add(o.took)
	}
	if o.failClosed {
		t.failClosed++
	}
	if o.doubtful {
		t.doubtfulLoss++
	}
	if fault {
		t.faults++
	}
	if o.wrong != "" {
		t.wrong[o.wrong]++
	}
	if o.wrong == wrongRevokedActive {
		if o.sameNode {
			t.activeSame++
		} else {
			t.activeOther++
		}
		t.maxLag = max(t.maxLag, o.lag)
	}
	if fault || o.wrong != "" || o.doubtful {
		t.keep(o)
	}
}

// keep notes a failure: its span, and in full if few of its kind are kept.
func (t *tally) keep(o outcome) {
	k := failureKind(o)
	sp, ok := t.spans[k]
	if !ok || o.sent.Before(sp[0]) {
		sp[0] = o.sent
	}
	if o.sent.After(sp[1]) {
		sp[1] = o.sent
	}
	t.spans[k] = sp
	if t.perKind[k] < maxNotable {
		t.perKind[k]++
		t.notable = append(t.notable, o)
	}
}

// failureKind names what was wrong with o.
func failureKind(o outcome) string {
	switch {
	case o.wrong != "":
		return o.wrong
	case o.doubtful:
		return "invalid_grant after an unanswered refresh"
	}
	return fmt.Sprintf("%s %s", statusText(o.status), o.code)
}

// snapshot returns a copy of the tally.
func (r *recorder) snapshot() tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.t
	t.kinds = copyMap(r.t.kinds)
	t.wrong = copyMap(r.t.wrong)
	t.notable = append([]outcome(nil), r.t.notable...)
	t.spans = make(map[string][2]time.Time, len(r.t.spans))
	for k, v := range r.t.spans {
		t.spans[k] = v
	}
	t.perKind = nil
	return t
}

// progress returns the request count and the counts the progress line
// shows, without copying the histograms.
func (r *recorder) progress() (n uint64, byClass [classCount][2]uint64, wrong map[string]uint64, faults uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.t.requests, r.t.byClass, copyMap(r.t.wrong), r.t.faults
}

func copyMap(m map[string]uint64) map[string]uint64 {
	c := make(map[string]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sortedKeys returns m's keys, the largest count first.
func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func statusText(s int) string {
	if s == 0 {
		return "no-answer"
	}
	return fmt.Sprint(s)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// since formats t as an offset from the start of the load.
func since(start, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmtDur(t.Sub(start))
}
