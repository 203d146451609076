package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// plan is one scenario ready to run at one concurrency.
type plan struct {
	targeter vegeta.Targeter
	// valid checks a 2xx answer's body: a wrong answer is an error too.
	valid func(body []byte) bool
	// after sees every result (the refresh scenario takes the next refresh
	// token from it); nil for most scenarios.
	after func(*vegeta.Result)
	// static is the one request of a scenario that repeats it, for wrk;
	// nil when requests differ.
	static *vegeta.Target
}

// closedLoop runs p with c workers for d: each worker has its own
// keep-alive connection and sends its next request as soon as it has read
// the previous answer (vegeta at rate 0 with exactly c workers). limit > 0
// stops after that many requests. progress, if not nil, is called with the
// running count of successes about every 5 seconds.
func closedLoop(ctx context.Context, p plan, c int, d time.Duration, limit int, progress func(ok int, elapsed time.Duration)) measurement {
	atk := vegeta.NewAttacker(
		vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)),
		vegeta.Connections(c), vegeta.MaxConnections(c),
		vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(30*time.Second),
	)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()
	tr := p.targeter
	if limit > 0 {
		tr = limited(tr, limit)
	}
	rec := newRecorder(p.valid)
	start := time.Now()
	next := start.Add(5 * time.Second)
	for res := range atk.Attack(tr, vegeta.ConstantPacer{}, d, "") {
		rec.add(res)
		if p.after != nil {
			p.after(res)
		}
		if progress != nil && res.Timestamp.After(next) {
			progress(rec.OK, time.Since(start))
			next = next.Add(5 * time.Second)
		}
	}
	return rec.summary(time.Since(start))
}

// limited stops the attack after n targets.
func limited(tr vegeta.Targeter, n int) vegeta.Targeter {
	var count atomic.Int64 // workers call the targeter concurrently
	return func(t *vegeta.Target) error {
		if count.Add(1) > int64(n) {
			return vegeta.ErrNoTargets
		}
		return tr(t)
	}
}

// measurement is what one closed-loop run measured.
type measurement struct {
	Requests  int // answers and transport failures
	OK        int // 2xx with the expected body
	Non2xx    int
	Transport int // no answer: connection refused, reset, timeout
	BadBody   int // 2xx with an unexpected body
	Elapsed   time.Duration
	P50, P99  time.Duration
	Example   string // one failure, for the log
}

// Errors is every request that did not succeed.
func (m measurement) Errors() int { return m.Non2xx + m.Transport + m.BadBody }

// RPS is successful requests per second.
func (m measurement) RPS() float64 {
	if m.Elapsed <= 0 {
		return 0
	}
	return float64(m.OK) / m.Elapsed.Seconds()
}

// recorder accumulates results.
type recorder struct {
	valid func([]byte) bool
	lat   []time.Duration
	measurement
}

func newRecorder(valid func([]byte) bool) *recorder {
	return &recorder{valid: valid, lat: make([]time.Duration, 0, 1<<16)}
}

func (r *recorder) add(res *vegeta.Result) {
	if res.Code == 0 && res.Error == vegeta.ErrNoTargets.Error() {
		return // the request limit was reached: nothing was sent
	}
	r.Requests++
	r.lat = append(r.lat, res.Latency)
	switch {
	case res.Code == 0:
		r.Transport++
		r.example(res.Error)
	case res.Code < 200 || res.Code > 299:
		r.Non2xx++
		r.example(fmt.Sprintf("%d %s: %.200s", res.Code, http.StatusText(int(res.Code)), res.Body))
	case r.valid != nil && !r.valid(res.Body):
		r.BadBody++
		r.example(fmt.Sprintf("%d with an unexpected body of %d bytes", res.Code, len(res.Body)))
	default:
		r.OK++
	}
}

func (r *recorder) example(s string) {
	if r.Example == "" {
		r.Example = s
	}
}

func (r *recorder) summary(elapsed time.Duration) measurement {
	m := r.measurement
	m.Elapsed = elapsed
	slices.Sort(r.lat)
	m.P50, m.P99 = percentile(r.lat, 50), percentile(r.lat, 99)
	return m
}

// percentile is the nearest-rank pct-th percentile of sorted latencies:
// the smallest value that at least pct % of them do not exceed.
func percentile(sorted []time.Duration, pct int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (pct*len(sorted) + 99) / 100 // ceil, in integers
	return sorted[min(max(rank, 1), len(sorted))-1]
}
