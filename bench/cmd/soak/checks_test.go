package main

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// passingRun is a run in which both stores went away and came back, with
// only what the checks allow: 503 inside the windows, a fail-closed
// inactive answer, a refresh that waited out Redis.
func passingRun(t0 time.Time) (*recorder, *windows) {
	w := newWindows(10 * time.Second)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for c, base := range map[component]int{compRedis: 100, compPostgres: 200} {
		w.stop(c, at(base))
		w.start(c, at(base+10))
		w.recover(c, at(base+11))
	}
	r := newRecorder(w)
	r.add(outcome{op: opClientCredentials, sent: at(1), took: time.Millisecond, status: 200})
	r.add(outcome{op: opRefresh, sent: at(105), took: time.Millisecond, status: 503, code: "temporarily_unavailable"})
	r.add(outcome{op: opRefresh, sent: at(111), took: time.Millisecond, status: 200})
	r.add(outcome{op: opIntrospectLive, sent: at(105), took: time.Millisecond, status: 200, failClosed: true})
	r.add(outcome{op: opPassword, sent: at(215), took: time.Millisecond, status: 503, code: "temporarily_unavailable"})
	r.add(outcome{op: opPassword, sent: at(212), took: time.Millisecond, status: 200})
	r.add(outcome{op: opIntrospectRevoked, sent: at(300), took: time.Millisecond, status: 200})
	return r, w
}

func resultOf(r *recorder, w *windows) *result {
	return &result{tally: r.snapshot(), outages: w.snapshot(), finalReady: true, final: final{checked: 3}}
}

func verdicts(res *result) string {
	var b strings.Builder
	for _, c := range evaluate(res) {
		if c.pass {
			b.WriteString("P")
		} else {
			b.WriteString("F")
		}
	}
	return b.String()
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cases := []struct {
		name   string
		add    []outcome
		change func(*result)
		want   string // one letter per check
	}{
		{name: "clean", want: "PPPP"},
		{name: "503 outside the windows", add: []outcome{{op: opAPIKey, sent: at(50), status: 503}}, want: "FPPP"},
		{name: "503 late in the grace", add: []outcome{{op: opAPIKey, sent: at(120.9), took: time.Second, status: 503}}, want: "PPPP"},
		{name: "503 after the grace", add: []outcome{{op: opAPIKey, sent: at(121.1), status: 503}}, want: "FPPP"},
		{name: "500 inside a window", add: []outcome{{op: opPassword, sent: at(205), status: 500, code: "server_error"}}, want: "FPPP"},
		{name: "no answer", add: []outcome{{op: opJWKS, sent: at(30), code: "timeout"}}, want: "FPPP"},
		{name: "store never recovered", change: func(r *result) { r.outages[compPostgres].timedOut = true }, want: "FPPP"},
		{name: "restart missing", change: func(r *result) { r.outages[compRedis] = outage{comp: compRedis} }, want: "FPPP"},
		{name: "refresh lost", add: []outcome{{op: opRefresh, sent: at(40), status: 400, code: "invalid_grant", wrong: wrongRefreshLost}}, want: "PFPP"},
		{name: "invalid_grant after an unanswered refresh", add: []outcome{{op: opRefresh, sent: at(40), status: 400, code: "invalid_grant", doubtful: true}}, want: "PPPP"},
		{name: "revoked active during the load", add: []outcome{{op: opIntrospectRevoked, sent: at(40), status: 200, wrong: wrongRevokedActive}}, want: "PPFP"},
		{name: "revoked active at the end", change: func(r *result) { r.final.active = 1 }, want: "PPFP"},
		{name: "final check unanswered", change: func(r *result) { r.final.other = 1 }, want: "PPFP"},
		{name: "nodes not ready at the end", change: func(r *result) { r.finalReady = false }, want: "PPFP"},
		{name: "live token inactive", add: []outcome{{op: opIntrospectLive, sent: at(40), status: 200, wrong: wrongLiveInactive}}, want: "PPPF"},
		{name: "unexpected 4xx", add: []outcome{{op: opClientCredentials, sent: at(40), status: 401, code: "invalid_client"}}, want: "PPPF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, w := passingRun(t0)
			for _, o := range c.add {
				r.add(o)
			}
			res := resultOf(r, w)
			if c.change != nil {
				c.change(res)
			}
			if got := verdicts(res); got != c.want {
				for _, ch := range evaluate(res) {
					t.Log(ch.name, ":", ch.value)
				}
				t.Errorf("verdicts %s, want %s", got, c.want)
			}
			if res.passed() != (c.want == "PPPP") {
				t.Errorf("passed() = %v", res.passed())
			}
		})
	}
}

func TestRecorderCounts(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, w := passingRun(t0)
	r.add(outcome{op: opAPIKey, sent: t0.Add(50 * time.Second), status: 503, code: "temporarily_unavailable"})
	res := resultOf(r, w)
	tl := res.tally
	if tl.requests != 8 || tl.byClass[class2xx][0] != 2 || tl.byClass[class2xx][1] != 3 ||
		tl.byClass[class503][1] != 2 || tl.byClass[class503][0] != 1 || tl.faults != 1 {
		t.Errorf("counts: requests %d, byClass %v, faults %d", tl.requests, tl.byClass, tl.faults)
	}
	if tl.ops[opRefresh].ok != 1 || tl.ops[opRefresh].unavailable != 1 || tl.failClosed != 1 {
		t.Errorf("refresh %+v, failClosed %d", tl.ops[opRefresh], tl.failClosed)
	}
	if tl.kinds["apikey exchange 503 temporarily_unavailable"] != 1 || len(tl.notable) != 1 {
		t.Errorf("kinds %v, notable %d", tl.kinds, len(tl.notable))
	}
	o := res.outages
	if o[compRedis].firstSuccess.IsZero() || o[compPostgres].firstSuccess.IsZero() {
		t.Errorf("first successes not recorded: %+v", o)
	}
}

func TestValidateSchedule(t *testing.T) {
	t.Parallel()
	base := options{duration: 5 * time.Minute, workers: 16, down: 10 * time.Second, grace: 10 * time.Second,
		recoverMax: time.Minute, redisAt: 0.3, postgresAt: 0.6, revokedCap: 1000}
	if err := base.validate(); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	for name, change := range map[string]func(*options){
		"outages too close": func(o *options) { o.postgresAt = 0.4 },
		"outage at the end": func(o *options) { o.postgresAt = 0.95 },
		"too short":         func(o *options) { o.duration = 30 * time.Second },
		"no workers":        func(o *options) { o.workers = 0 },
	} {
		o := base
		change(&o)
		if o.validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }
