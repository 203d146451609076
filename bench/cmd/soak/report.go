package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// writeReport prints the run as Markdown.
func writeReport(w io.Writer, r *result) error {
	var b strings.Builder
	writeSetup(&b, r)
	writeChecks(&b, r)
	writeLatency(&b, r)
	writeOutages(&b, r)
	writeStatuses(&b, r)
	writeKinds(&b, r)
	writeMemory(&b, r)
	writeKeys(&b, r)
	writeNotable(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSetup(b *strings.Builder, r *result) {
	e, o := r.env, r.o
	fmt.Fprintf(b, "## Run of %s\n\n", e.date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	row(b, "Machine", fmt.Sprintf("%s, %d cores, %s RAM, %s", orUnknown(e.cpu), e.cores, orUnknown(e.memory), orUnknown(e.kernel)))
	row(b, "Commit", "`"+orUnknown(e.commit)+"`")
	row(b, "Binary", fmt.Sprintf("`%s`, %s", e.tollgate, e.goVersion))
	row(b, "Stores", fmt.Sprintf("%s; %s (AOF on), both private to the run", e.postgres, e.redis))
	rateText := "closed loop, as fast as they go"
	if o.rate > 0 {
		rateText = fmt.Sprintf("at most %d req/s in all", o.rate)
	}
	start := "started together on a fresh database, as a deployment starts them"
	if o.staggered {
		start = "node1 started alone first, the other two once it was ready (-staggered-start, a diagnostic)"
	}
	row(b, "Load", fmt.Sprintf("%d nodes (%s), %d workers (%s), %s of load (%s measured), requests round-robin over the nodes",
		nodeCount, start, o.workers, rateText, o.duration, fmtDur(r.loadTime)))
	var mixText []string
	for _, m := range mix {
		mixText = append(mixText, fmt.Sprintf("%s %d %%", m.op, m.weight))
	}
	row(b, "Mix", strings.Join(mixText, ", "))
	row(b, "Restarts", fmt.Sprintf("Redis stopped at %.0f %% of the load, PostgreSQL at %.0f %%, each for %s; a window ends when every node answers /readyz 200 again, and 503 is accepted %s after that (grace)",
		o.redisAt*100, o.postgresAt*100, o.down, o.grace))
	row(b, "Tokens", fmt.Sprintf("access tokens live %s (longer than the run: inactive can only mean revoked); refresh reuse grace 0 s (the default)", accessTTL))
	capText := "never reached"
	if !r.capReached.IsZero() {
		capText = fmt.Sprintf("reached at +%s: no revocation after that", since(r.start, r.capReached))
	}
	row(b, "Revocations", fmt.Sprintf("%d answered 200 and remembered; cap %d %s", r.revoked, o.revokedCap, capText))
	row(b, "Load average", fmt.Sprintf("%s before, %s after", orUnknown(e.loadStart), orUnknown(r.loadEnd)))
	if r.interrupted {
		row(b, "Interrupted", "yes: the figures cover a partial run")
	}
	b.WriteString("\n")
}

func writeChecks(b *strings.Builder, r *result) {
	b.WriteString("### Checks\n\n| Check | Figures | Verdict |\n|---|---|---|\n")
	for _, c := range evaluate(r) {
		verdict := "**PASS**"
		if !c.pass {
			verdict = "**FAIL**"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", c.name, c.value, verdict)
	}
	b.WriteString("\n")
}

func writeLatency(b *strings.Builder, r *result) {
	t := &r.tally
	secs := r.loadTime.Seconds()
	fmt.Fprintf(b, "### Throughput and latency\n\n%d requests in %s: **%.0f requests/s**, p50 %s, p99 %s, max %s (every answer, in and out of the windows).\n\n",
		t.requests, fmtDur(r.loadTime), float64(t.requests)/secs, ms(t.all.quantile(0.5)), ms(t.all.quantile(0.99)), ms(t.all.max))
	b.WriteString("| Request | Count | 200 | 503 | Other | req/s | p50 | p99 | max |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for o := range opCount {
		ot := &t.ops[o]
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %.1f | %s | %s | %s |\n", o, ot.n, ot.ok, ot.unavailable, ot.n-ot.ok-ot.unavailable,
			float64(ot.n)/secs, ms(ot.hist.quantile(0.5)), ms(ot.hist.quantile(0.99)), ms(ot.hist.max))
	}
	b.WriteString("\nA refresh by a worker without a refresh token counts as a password login; introspections right after a revocation, on the node that answered it, count as `introspect revoked`.\n\n")
}

func writeOutages(b *strings.Builder, r *result) {
	b.WriteString("### Restarts\n\n| Store | Stopped at | Down for | Every node ready | Window | First success after the start |\n|---|--:|--:|--:|--:|---|\n")
	for _, o := range r.outages {
		dep := map[component]string{compRedis: "refresh", compPostgres: "password login"}[o.comp]
		ready := "never (FAIL)"
		window := "open"
		if !o.recovered.IsZero() {
			ready = fmt.Sprintf("%s after the start", fmtDur(o.recovered.Sub(o.started)))
			window = fmtDur(o.recovered.Sub(o.stopped))
		}
		first := "none"
		if !o.firstSuccess.IsZero() {
			first = fmt.Sprintf("%s %s after the start", dep, fmtDur(o.firstSuccess.Sub(o.started)))
		}
		down := "-"
		if !o.started.IsZero() {
			down = fmtDur(o.started.Sub(o.stopped))
		}
		fmt.Fprintf(b, "| %s | +%s | %s | %s | %s | %s |\n", o.comp, since(r.start, o.stopped), down, ready, window, first)
	}
	b.WriteString("\n")
}

func writeStatuses(b *strings.Builder, r *result) {
	t := &r.tally
	fmt.Fprintf(b, "### Answers by status\n\n| Status | Outside the windows | In a window (grace included) |\n|---|--:|--:|\n")
	for c := range classCount {
		fmt.Fprintf(b, "| %s | %d | %d |\n", c, t.byClass[c][0], t.byClass[c][1])
	}
	fmt.Fprintf(b, "\nAccess tokens answered inactive in a Redis window (the fail-closed rule, expected): %d.\n\n", t.failClosed)
}

func writeKinds(b *strings.Builder, r *result) {
	t := &r.tally
	b.WriteString("### Every answer but 200, by kind\n\n")
	if len(t.kinds) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	b.WriteString("| Request, status, error | Count |\n|---|--:|\n")
	for _, k := range sortedKeys(t.kinds) {
		fmt.Fprintf(b, "| %s | %d |\n", k, t.kinds[k])
	}
	b.WriteString("\n")
}

func writeMemory(b *strings.Builder, r *result) {
	b.WriteString("### Node memory at the end\n\n| Node | RSS | Peak RSS |\n|---|--:|--:|\n")
	for i, m := range r.rss {
		fmt.Fprintf(b, "| node%d | %s | %s |\n", i+1, mib(m.rss), mib(m.peak))
	}
	b.WriteString("\n")
}

// writeNotable lists each failure, as far as kept, for investigation.
func writeNotable(b *strings.Builder, r *result) {
	t := &r.tally
	if len(t.notable) == 0 && len(r.final.notable) == 0 {
		return
	}
	b.WriteString("### Failures and doubtful answers\n\n| Kind | First sent | Last sent |\n|---|--:|--:|\n")
	kinds := make([]string, 0, len(t.spans))
	for k := range t.spans {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		sp := t.spans[k]
		fmt.Fprintf(b, "| %s | +%s | +%s |\n", k, since(r.start, sp[0]), since(r.start, sp[1]))
	}
	fmt.Fprintf(b, "\nThe first %d of each kind, in the order they were recorded:\n\n", maxNotable)
	for _, o := range t.notable {
		fmt.Fprintf(b, "- +%s %s → node%d: %s %s, after %s: %s. %s\n", since(r.start, o.sent), o.op, o.node+1,
			statusText(o.status), o.code, ms(o.took), failureKind(o), o.detail)
	}
	for _, s := range r.final.notable {
		fmt.Fprintf(b, "- final check: %s\n", s)
	}
	b.WriteString("\n")
}

func row(b *strings.Builder, k, v string) { fmt.Fprintf(b, "| %s | %s |\n", k, v) }

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ms prints d in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func mib(n int64) string {
	if n == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// writeKeys lists the signing keys each node published at the start and
// at the end of the load.
func writeKeys(b *strings.Builder, r *result) {
	b.WriteString("### Signing keys in each node's JWKS\n\n| Node | At the start of the load | At the end |\n|---|---|---|\n")
	for i := range nodeCount {
		fmt.Fprintf(b, "| node%d | %s | %s |\n", i+1, kidList(r.kidsStart, i), kidList(r.kidsEnd, i))
	}
	b.WriteString("\n")
}

func kidList(kids [][]string, i int) string {
	if i >= len(kids) || kids[i] == nil {
		return "unknown"
	}
	return "`" + strings.Join(kids[i], "`, `") + "`"
}
