package main

import (
	"fmt"
	"time"
)

// result is everything a run measured.
type result struct {
	o          options
	env        machine
	start      time.Time
	loadTime   time.Duration
	tally      tally
	outages    [compCount]outage
	finalReady bool // every node ready after the load
	final      final
	revoked    int       // revocations answered 200 and remembered
	capReached time.Time // when -revoked-cap stopped the revocations, or zero
	rss        []memory
	// kidsStart and kidsEnd are the kids of each node's JWKS when the load
	// started and when it ended.
	kidsStart, kidsEnd [][]string
	loadEnd            string
	interrupted        bool
}

// check is one verdict with the figures behind it.
type check struct {
	name  string
	value string
	pass  bool
}

// evaluate judges a run. Checks 1 to 3 are issue 7's; check 4 catches
// every other wrong answer the load can recognise.
func evaluate(r *result) []check {
	t := &r.tally
	return []check{
		checkOutages(r),
		{
			name: "2. No refresh token lost",
			value: fmt.Sprintf("%d lost; %d refreshes answered 200, %d answered 503 and kept their token; %d invalid_grant after an unanswered refresh (not counted as lost)",
				t.wrong[wrongRefreshLost], t.ops[opRefresh].ok, t.ops[opRefresh].unavailable, t.doubtfulLoss),
			pass: t.wrong[wrongRefreshLost] == 0,
		},
		{
			name: "3. No revoked token reported active",
			value: fmt.Sprintf("during the load %d active of %d introspections of revoked tokens (%d on the node that answered the revocation, %d on another node, sent at most %s after the revocation's answer); "+
				"at the end %d active, %d not answered 200, of %d (every revoked token on every node%s)",
				t.wrong[wrongRevokedActive], t.ops[opIntrospectRevoked].n, t.activeSame, t.activeOther, fmtDur(t.maxLag),
				r.final.active, r.final.other, r.final.checked, readyNote(r.finalReady)),
			pass: t.wrong[wrongRevokedActive] == 0 && r.final.active == 0 && r.final.other == 0 && r.finalReady && r.final.checked > 0,
		},
		{
			name: "4. No other wrong answer (beyond issue 7)",
			value: fmt.Sprintf("%d live tokens reported inactive outside a Redis window, %d unexpected 4xx, %d malformed answers",
				t.wrong[wrongLiveInactive], t.wrong[wrongStatus], t.wrong[wrongBody]),
			pass: t.wrong[wrongLiveInactive]+t.wrong[wrongStatus]+t.wrong[wrongBody] == 0,
		},
	}
}

// checkOutages is check 1: both restarts happened and recovered, nothing
// but 503 was answered inside their windows, and no 5xx at all (nor a
// missing answer) outside them.
func checkOutages(r *result) check {
	t := &r.tally
	restarted := true
	for _, o := range r.outages {
		restarted = restarted && !o.stopped.IsZero() && !o.recovered.IsZero() && !o.timedOut
	}
	by := t.byClass
	return check{
		name: "1. No 5xx but 503, and 503 only in the outage windows",
		value: fmt.Sprintf("other 5xx %d (%d in windows), no answer %d (%d in windows), 503 outside the windows %d; 503 inside %d; both stores restarted and recovered: %s",
			by[class5xx][0]+by[class5xx][1], by[class5xx][1], by[classNone][0]+by[classNone][1], by[classNone][1],
			by[class503][0], by[class503][1], yesNo(restarted)),
		pass: t.faults == 0 && restarted,
	}
}

// passed reports whether the run completed and every check passed.
func (r *result) passed() bool {
	if r.interrupted {
		return false
	}
	for _, c := range evaluate(r) {
		if !c.pass {
			return false
		}
	}
	return true
}

func readyNote(ready bool) string {
	if ready {
		return ""
	}
	return "; NOT every node was ready after the load"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
