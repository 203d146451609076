package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// row is one scenario measured at one concurrency in one mode.
type row struct {
	Mode        string
	Scenario    string
	Concurrency int
	Generator   string
	measurement
	RSS  int64  // the server's VmRSS right after the run; 0 unknown
	Skip string // not measured, and why
	// Background is the share of the machine's CPU other processes used
	// during the measurement; -1 unknown.
	Background float64
}

func (r row) summaryLine() string {
	if r.Skip != "" {
		return "not available: " + r.Skip
	}
	s := fmt.Sprintf("%s req/s, p50 %s, p99 %s, %s", fmtInt(int(r.RPS()+0.5)), fmtDur(r.P50), fmtDur(r.P99), fmtErrors(r.measurement))
	if r.RSS > 0 {
		s += ", RSS " + mb(r.RSS)
	}
	if r.Background >= 0 {
		s += fmt.Sprintf(", other processes %.0f %% CPU", r.Background*100)
	}
	return s
}

// millionResult is the RSS check after many issued tokens.
type millionResult struct {
	Target      int
	Concurrency int
	Limit       time.Duration
	measurement
	Before, After memory
	Background    float64
}

// Complete reports whether the target count was reached.
func (m *millionResult) Complete() bool { return m.OK >= m.Target }

// report is everything one run measured.
type report struct {
	Date     time.Time
	Duration time.Duration
	Warmup   time.Duration
	Env      environment
	Rows     []row // vegeta
	Wrk      []row // the wrk cross-check
	Million  *millionResult
}

// find returns the row of scenario s at c in mode.
func find(rows []row, mode, s string, c int) (row, bool) {
	i := slices.IndexFunc(rows, func(r row) bool { return r.Mode == mode && r.Scenario == s && r.Concurrency == c })
	if i < 0 {
		return row{}, false
	}
	return rows[i], true
}

// concurrencies lists the concurrency levels measured in mode, in order.
func concurrencies(rows []row, mode string) []int {
	var cs []int
	for _, r := range rows {
		if r.Mode == mode && !slices.Contains(cs, r.Concurrency) {
			cs = append(cs, r.Concurrency)
		}
	}
	return cs
}

// verdict is one target of issue 6 checked against the figures.
type verdict struct {
	Target      string
	Concurrency int // 0: not per concurrency
	Measured    string
	Result      string // "pass", "miss" or "not measured"
}

// The RSS target: under 100 MB after a million issued tokens.
const (
	rssLimit  = 100_000_000
	rssTokens = 1_000_000
)

// rateTargets are the throughput targets: the minimum ratio to the
// ceiling's requests/s, with no errors.
var rateTargets = []struct {
	scenario string
	minRatio float64
}{{scClientCreds, 0.50}, {scIntrospectValid, 0.50}, {scAPIKey, 0.40}}

// evaluate checks the targets, which apply to PostgreSQL + Redis, against
// rows (measured with one generator) and the million-token run.
func evaluate(rows []row, million *millionResult) []verdict {
	var vs []verdict
	for _, t := range rateTargets {
		for _, c := range concurrencies(rows, modePostgres) {
			vs = append(vs, rateVerdict(rows, t.scenario, t.minRatio, c), p99Verdict(rows, t.scenario, c))
		}
	}
	if million != nil {
		vs = append(vs, rssVerdict(million))
	}
	return vs
}

func rateVerdict(rows []row, s string, minRatio float64, c int) verdict {
	v := verdict{Target: fmt.Sprintf("%s ≥ %.0f %% of the ceiling's requests/s, no errors", title(s), minRatio*100), Concurrency: c, Result: "not measured"}
	r, ok := find(rows, modePostgres, s, c)
	ceil, cok := find(rows, modePostgres, scCeiling, c)
	switch {
	case !ok || !cok:
		v.Measured = "not run"
	case r.Skip != "":
		v.Measured = "not available: " + r.Skip
	case ceil.RPS() == 0:
		v.Measured = "the ceiling answered nothing"
	default:
		ratio := r.RPS() / ceil.RPS()
		v.Measured = fmt.Sprintf("%.2f (%s vs %s req/s), %s", ratio, fmtInt(int(r.RPS()+0.5)), fmtInt(int(ceil.RPS()+0.5)), fmtErrors(r.measurement))
		v.Result = passMiss(ratio >= minRatio && r.Errors() == 0)
	}
	return v
}

func p99Verdict(rows []row, s string, c int) verdict {
	v := verdict{Target: title(s) + " p99 ≤ 2 × the ceiling's p99", Concurrency: c, Result: "not measured"}
	r, ok := find(rows, modePostgres, s, c)
	ceil, cok := find(rows, modePostgres, scCeiling, c)
	switch {
	case !ok || !cok:
		v.Measured = "not run"
	case r.Skip != "":
		v.Measured = "not available"
	case ceil.P99 == 0:
		v.Measured = "the ceiling answered nothing"
	default:
		ratio := float64(r.P99) / float64(ceil.P99)
		v.Measured = fmt.Sprintf("%s vs %s (%.2f ×)", fmtDur(r.P99), fmtDur(ceil.P99), ratio)
		v.Result = passMiss(ratio <= 2)
	}
	return v
}

func rssVerdict(m *millionResult) verdict {
	v := verdict{Target: "server RSS < 100 MB after 1 million client_credentials tokens"}
	v.Measured = fmt.Sprintf("%s after %s tokens (%s before, peak %s)", mb(m.After.RSS), fmtInt(m.OK), mb(m.Before.RSS), mb(m.After.Peak))
	switch {
	case m.After.RSS == 0:
		v.Result, v.Measured = "not measured", "RSS could not be read"
	case m.After.RSS >= rssLimit:
		v.Result = "miss"
	case m.OK < rssTokens:
		v.Result = fmt.Sprintf("not measured: only %s tokens were issued", fmtInt(m.OK))
	default:
		v.Result = "pass"
	}
	return v
}

func passMiss(ok bool) string {
	if ok {
		return "pass"
	}
	return "**miss**"
}

// title names a scenario in the report.
func title(s string) string {
	switch s {
	case scCeiling:
		return "ceiling (reference server), client_credentials"
	case scClientCreds:
		return "client_credentials (Basic)"
	case scIntrospectValid:
		return "introspection, valid token"
	case scIntrospectRevoke:
		return "introspection, revoked token"
	case scAPIKey:
		return "API-key exchange (RFC 8693)"
	case scJWKS:
		return "JWKS"
	case scPassword:
		return "password grant (argon2id)"
	case scRefresh:
		return "refresh_token rotation"
	}
	return s
}

// fmtInt writes n with thousands separators: 31,663.
func fmtInt(n int) string {
	if n < 0 {
		return "-" + fmtInt(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtDur writes a latency in milliseconds, or seconds from 10 s.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f ms", ms)
}

// mb writes a size in megabytes (10^6 bytes), the unit of the RSS target.
func mb(b int64) string {
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

func fmtErrors(m measurement) string {
	if m.Errors() == 0 {
		return "0 errors"
	}
	return fmt.Sprintf("%s errors (%d non-2xx, %d transport, %d unexpected body)", fmtInt(m.Errors()), m.Non2xx, m.Transport, m.BadBody)
}
