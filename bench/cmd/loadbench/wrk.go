package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Generators, as named in the report.
const (
	genVegeta = "vegeta"
	genWrk    = "wrk"
)

// crossCheck measures the ceiling, client_credentials and introspection of
// a valid token again with wrk. wrk is written in C and costs the shared
// cores less per request than vegeta, so its ratios are the stricter ones.
func (b *bench) crossCheck(ctx context.Context, in *instance, c int) ([]row, error) {
	var rows []row
	for _, s := range []string{scCeiling, scClientCreds, scIntrospectValid} {
		if !b.o.runs(s) {
			continue
		}
		r, err := b.retry(in.mode, "wrk "+s, c, func() (row, error) { return b.wrkOnce(ctx, in, s, c) })
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (b *bench) wrkOnce(ctx context.Context, in *instance, s string, c int) (row, error) {
	r := row{Mode: in.mode, Scenario: s, Concurrency: c, Generator: genWrk}
	p, err := in.plan(ctx, s, c)
	if err != nil {
		return r, err
	}
	b.waitQuiet(ctx, b.ours(ctx, in, s))
	b.logf("[%s] wrk %s, %d connections: %s warm-up, %s measured", in.mode, s, c, b.o.warmup, b.o.duration)
	if b.o.warmup >= time.Second {
		if _, err := runWrk(ctx, *p.static, c, b.o.warmup, b.tmp, b.environ); err != nil {
			return r, err
		}
	}
	r.Background = backgroundDuring(b.ours(ctx, in, s), func() { r.measurement, err = runWrk(ctx, *p.static, c, b.o.duration, b.tmp, b.environ) })
	if err != nil {
		return r, err
	}
	b.logf("[%s] wrk %s, %d connections: %s", in.mode, s, c, r.summaryLine())
	return r, nil
}

// runWrk runs wrk with c connections over one thread per core against one
// repeated request, described by a Lua script.
func runWrk(ctx context.Context, t vegeta.Target, c int, d time.Duration, dir string, environ []string) (measurement, error) {
	script, err := wrkScript(t)
	if err != nil {
		return measurement{}, err
	}
	f, err := os.CreateTemp(dir, "wrk-*.lua")
	if err != nil {
		return measurement{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script); err != nil {
		f.Close()
		return measurement{}, err
	}
	if err := f.Close(); err != nil {
		return measurement{}, err
	}
	threads := min(runtime.NumCPU(), c)
	secs := max(1, int(d.Round(time.Second).Seconds()))
	out, err := runCommand(ctx, dir, childEnv(environ, nil), "", "wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(c),
		"-d"+strconv.Itoa(secs)+"s", "--latency", "--timeout", "30s", "-s", filepath.Base(f.Name()), t.URL)
	if err != nil {
		return measurement{}, err
	}
	return parseWrk(string(out))
}

// wrkScript sets wrk's request to t. Every value must be printable ASCII,
// which the benchmark's requests are.
func wrkScript(t vegeta.Target) (string, error) {
	var sb strings.Builder
	q := func(s string) (string, error) {
		for _, r := range s {
			if r < 0x20 || r > 0x7e {
				return "", errors.New("wrk script: request has a non-printable character")
			}
		}
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
	}
	for _, kv := range [][2]string{{"wrk.method", t.Method}, {"wrk.body", string(t.Body)}} {
		v, err := q(kv[1])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "%s = %s\n", kv[0], v)
	}
	for name, vals := range t.Header {
		k, err := q(name)
		if err != nil {
			return "", err
		}
		v, err := q(strings.Join(vals, ", "))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "wrk.headers[%s] = %s\n", k, v)
	}
	return sb.String(), nil
}

var (
	wrkTotal   = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkSockets = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk --latency output. Requests/s counts successes only,
// like vegeta's rows: wrk's own "Requests/sec" includes non-2xx answers.
func parseWrk(out string) (measurement, error) {
	var m measurement
	t := wrkTotal.FindStringSubmatch(out)
	if t == nil {
		return m, fmt.Errorf("wrk output has no request count:\n%s", out)
	}
	m.Requests, _ = strconv.Atoi(t[1])
	m.Elapsed = wrkDuration(t[2], t[3])
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		if p[1] == "50" {
			m.P50 = wrkDuration(p[2], p[3])
		} else {
			m.P99 = wrkDuration(p[2], p[3])
		}
	}
	if m.P50 == 0 || m.P99 == 0 {
		return m, fmt.Errorf("wrk output has no latency distribution (was --latency given?):\n%s", out)
	}
	if n := wrkNon2xx.FindStringSubmatch(out); n != nil {
		m.Non2xx, _ = strconv.Atoi(n[1])
	}
	if s := wrkSockets.FindStringSubmatch(out); s != nil {
		for _, v := range s[1:] {
			n, _ := strconv.Atoi(v)
			m.Transport += n
		}
	}
	m.OK = max(0, m.Requests-m.Non2xx)
	return m, nil
}

// wrkDuration converts a number and wrk's unit to a duration.
func wrkDuration(num, unit string) time.Duration {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	return time.Duration(f * float64(scale))
}
