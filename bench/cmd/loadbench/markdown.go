package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// keptSections are written by hand (or by other measurements) and carried
// over from the previous report unchanged; the defaults are used when the
// previous report lacks them.
var keptSections = []struct{ title, fallback string }{
	{"Revocation propagation", "See [REVOCATION.md](REVOCATION.md#measured)."},
	{"Piece benchmarks", "`go test -run XXX -bench . ./server/...`"},
	{scaleTitle, "Not measured yet: `go run ./bench/cmd/loadbench -scale` writes this section."},
	{scaleNotesTitle, "See the cost curves above."},
}

// docSections are a markdown document's "## " sections: title to body
// (without the heading line, without surrounding blank lines), and the
// titles in the document's order.
type docSections struct {
	body   map[string]string
	titles []string
}

// sections splits a markdown document into its "## " sections.
func sections(doc string) docSections {
	out := docSections{body: map[string]string{}}
	var cur string
	var body []string
	flush := func() {
		if cur != "" {
			if _, seen := out.body[cur]; !seen {
				out.titles = append(out.titles, cur)
			}
			out.body[cur] = strings.Trim(strings.Join(body, "\n"), "\n")
		}
	}
	inFence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if !inFence && strings.HasPrefix(line, "## ") {
			flush()
			cur, body = strings.TrimSpace(line[3:]), nil
			continue
		}
		body = append(body, line)
	}
	flush()
	return out
}

// publish prints the report and writes it to -out: after a full run, or
// whenever -out was given.
func (b *bench) publish(rep *report, stdout io.Writer) error {
	// The kept sections come from the file being replaced, or from the
	// published report when nothing is written.
	prevPath := b.o.out
	if prevPath == "" {
		prevPath = filepath.Join(b.o.root, "docs", "BENCHMARKS.md")
	}
	prev, err := os.ReadFile(prevPath)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var buf bytes.Buffer
	writeMarkdown(&buf, rep, sections(string(prev)))
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	switch {
	case b.o.out == "":
		return nil
	case !b.o.full() && !b.o.outExplicit:
		b.logf("not writing %s: this was a partial run (give -out to write it anyway)", b.o.out)
		return nil
	}
	b.logf("writing %s", b.o.out)
	return os.WriteFile(b.o.out, buf.Bytes(), 0o644)
}

// writeMarkdown writes docs/BENCHMARKS.md; prev holds the previous file's
// sections. After the generated ones come the keptSections, then every
// other section of prev's tail (from its first kept section on) that this
// function does not write, in prev's order: hand-written figures of piece
// benchmarks survive a new run, stale generated sections before the tail
// do not.
func writeMarkdown(w *bytes.Buffer, rep *report, prev docSections) {
	kept := prev.body
	start := w.Len()
	w.WriteString("# Benchmarks\n\n")
	w.WriteString("<!-- Written by `go run ./bench/cmd/loadbench`: run it again rather than editing the figures.\n")
	w.WriteString("     The last sections (from Revocation propagation on) are carried over unchanged; `-scale` rewrites the cost curves. -->\n\n")
	writeEnvironment(w, rep)
	writeMethod(w, rep)
	if vs := evaluate(rep.Rows, rep.Million); len(vs) > 0 {
		w.WriteString("## Targets (PostgreSQL + Redis)\n\n")
		w.WriteString("The targets of issue 6, measured with vegeta; the ratio is to the ceiling server's\n")
		w.WriteString("requests/s at the same concurrency in the same run.\n\n")
		writeVerdicts(w, vs)
	}
	for _, mode := range []string{modePostgres, modeEmbedded} {
		writeMode(w, rep.Rows, mode)
	}
	writeMillion(w, rep.Million)
	writeWrk(w, rep)
	for _, k := range keptSections {
		body, ok := kept[k.title]
		if !ok || strings.TrimSpace(body) == "" {
			body = k.fallback
		}
		fmt.Fprintf(w, "## %s\n\n%s\n\n", k.title, body)
	}
	written := sections(w.String()[start:]).body
	tail := false
	for _, t := range prev.titles {
		tail = tail || slices.ContainsFunc(keptSections, func(k struct{ title, fallback string }) bool { return k.title == t })
		if _, done := written[t]; tail && !done && strings.TrimSpace(kept[t]) != "" {
			fmt.Fprintf(w, "## %s\n\n%s\n\n", t, kept[t])
		}
	}
	trimmed := bytes.TrimRight(w.Bytes(), "\n")
	w.Truncate(len(trimmed))
	w.WriteString("\n")
}

func writeEnvironment(w *bytes.Buffer, rep *report) {
	e := rep.Env
	w.WriteString("## Machine and versions\n\n")
	fmt.Fprintf(w, "- Machine: %d cores (`nproc`), %s, %.1f GiB of memory. The load generator runs on the\n  same cores as the server under test.\n", e.CPUs, e.CPUModel, float64(e.Memory)/(1<<30))
	fmt.Fprintf(w, "- Tollgate: commit %s, built with %s.\n", e.Tollgate, e.GoVersion)
	fmt.Fprintf(w, "- Load generator: vegeta %s, as a library in the benchmark's process", e.Vegeta)
	if e.Wrk != "" {
		fmt.Fprintf(w, "; cross-check with %s", e.Wrk)
	}
	w.WriteString(".\n")
	fmt.Fprintf(w, "- Date: %s; %s measured per scenario and concurrency, after a %s warm-up.\n\n", rep.Date.Format("2006-01-02 15:04 MST"), rep.Duration, rep.Warmup)
}

func writeMethod(w *bytes.Buffer, rep *report) {
	w.WriteString(`## How it is measured

` + "`go run ./bench/cmd/loadbench`" + ` builds ` + "`./cmd/tollgate`" + ` and the reference server
` + "`./bench/cmd/ceiling`" + ` (the least a client_credentials endpoint can do over HTTP/1.1 with plain net/http: form
parse, Basic check, SHA-256, constant-time compare, EdDSA signature of an RFC 9068 claim set, JSON, no
storage), starts ` + "`tollgate serve`" + ` with its default settings (log level
info: one JSON line per request, written to a file) on the embedded default in a temporary directory
and on PostgreSQL + Redis (a fresh database, ` + "`tollgate migrate`" + ` first, a unique Redis key prefix),
and creates its clients, user and API key with the CLI.

- **Closed loop.** C workers, each with its own keep-alive connection, send their next request as
  soon as they have read the previous answer (vegeta at rate 0 with exactly C workers). The ceiling
  runs right before Tollgate's scenarios at the same concurrency, with the same generator.
- **Requests/s** counts successful answers only: 2xx with the expected body (a token,
  ` + "`\"active\":true`" + `, exactly ` + "`{\"active\":false}`" + ` for the revoked token, a key set). **Errors** are
  non-2xx answers, transport failures and unexpected bodies. **p50 and p99** are exact, over every
  request, as the client saw them. **RSS** is the server's VmRSS right after the scenario.
- **Refresh.** Every request needs a refresh token nobody has used. Before the run, 2 × C token
  families are started with the password grant; each answer's new refresh token goes back into the
  pool for a later request. So every request is a real first rotation, as a client chaining
  refreshes makes it, and the argon2id cost of the logins stays out of the figure.
- **Password grant** is bound by argon2id on purpose (about 19 ms and 19 MiB per check, at most
  2 × GOMAXPROCS at once) and is reported on its own, without a ratio.
- **The machine is shared.** Before each measurement the benchmark waits (at most ` + "`-quiet-wait`" + `) until
  other processes use under 10 % of the CPU. **Other CPU** is the share of the machine's CPU used
  during the measurement by anything but the benchmark and the system under test (Tollgate, and on
  PostgreSQL + Redis the database's backends and Redis). A measurement they disturbed with 10 % or
  more is made again (at most ` + "`-retries`" + ` times) and the least disturbed one is kept; a row that still
  shows a high share measured a busy machine, and its figures are low.
- **The generator shares the cores.** vegeta costs the machine more per request than wrk (C), and
  that cost is added to both the ceiling and Tollgate, which pulls their ratio towards 1. The wrk
  cross-check below measures the main ratios again with the lighter generator.

`)
}

func writeVerdicts(w *bytes.Buffer, vs []verdict) {
	w.WriteString("| Target | Concurrency | Measured | Result |\n|---|---|---|---|\n")
	for _, v := range vs {
		c := "—"
		if v.Concurrency > 0 {
			c = fmt.Sprint(v.Concurrency)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", v.Target, c, v.Measured, v.Result)
	}
	w.WriteString("\n")
}

// writeMode writes one storage mode's table, the password grant apart.
func writeMode(w *bytes.Buffer, rows []row, mode string) {
	cs := concurrencies(rows, mode)
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "## %s\n\n", modeTitle(mode))
	w.WriteString("| Scenario | Concurrency | Requests/s | p50 | p99 | Errors | Server RSS after | Ratio to ceiling | p99 / ceiling's p99 | Other CPU |\n")
	w.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	var skipped, password []string
	for _, s := range scenarioOrder {
		for _, c := range cs {
			r, ok := find(rows, mode, s, c)
			switch {
			case !ok:
			case r.Skip != "":
				skipped = append(skipped, fmt.Sprintf("%s at %d: not available (%s).", title(s), c, r.Skip))
			case s == scPassword:
				password = append(password, fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s | %s |", title(s), c, fmtInt(int(r.RPS()+0.5)), fmtDur(r.P50), fmtDur(r.P99), errorsCell(r.measurement), rssCell(r), shareCell(r.Background)))
			default:
				ceil, _ := find(rows, mode, scCeiling, c)
				fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", title(s), c, fmtInt(int(r.RPS()+0.5)),
					fmtDur(r.P50), fmtDur(r.P99), errorsCell(r.measurement), rssCell(r), ratioCell(r.RPS(), ceil.RPS()),
					ratioCell(float64(r.P99), float64(ceil.P99)), shareCell(r.Background))
			}
		}
	}
	w.WriteString("\n")
	for _, s := range skipped {
		w.WriteString(s + "\n")
	}
	if len(skipped) > 0 {
		w.WriteString("\n")
	}
	if len(password) > 0 {
		w.WriteString("Password grant, reported separately (argon2id-bound):\n\n")
		w.WriteString("| Scenario | Concurrency | Requests/s | p50 | p99 | Errors | Server RSS after | Other CPU |\n|---|---|---|---|---|---|---|---|\n")
		w.WriteString(strings.Join(password, "\n") + "\n\n")
	}
}

func writeMillion(w *bytes.Buffer, m *millionResult) {
	if m == nil {
		return
	}
	w.WriteString("## One million tokens (PostgreSQL + Redis)\n\n")
	fmt.Fprintf(w, "A freshly started `tollgate serve` on the same database issued %s of %s client_credentials\n", fmtInt(m.OK), fmtInt(m.Target))
	fmt.Fprintf(w, "tokens in %s (%s/s, %d workers, %s). ", m.Elapsed.Round(100*time.Millisecond), fmtInt(int(m.RPS()+0.5)), m.Concurrency, fmtErrors(m.measurement))
	if !m.Complete() {
		fmt.Fprintf(w, "The time bound of %s stopped it. ", m.Limit)
	}
	fmt.Fprintf(w, "Server RSS: %s before, %s after, %s at its peak\n(VmHWM). Access tokens are not stored anywhere, so nothing is kept per token. Other\nprocesses used %s of the CPU meanwhile.\n\n", mb(m.Before.RSS), mb(m.After.RSS), mb(m.After.Peak), shareCell(m.Background))
}

func writeWrk(w *bytes.Buffer, rep *report) {
	if len(rep.Wrk) == 0 {
		return
	}
	w.WriteString("## Cross-check with wrk (PostgreSQL + Redis)\n\n")
	w.WriteString("`wrk -t<cores> -c<C> --latency` with a Lua script per request, right after the vegeta runs.\n")
	w.WriteString("wrk does not check bodies: errors are non-2xx answers and socket errors.\n\n")
	w.WriteString("| Scenario | Concurrency | Requests/s | p50 | p99 | Errors | Ratio to ceiling | p99 / ceiling's p99 | vegeta's ratio | Other CPU |\n")
	w.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Wrk {
		ceil, _ := find(rep.Wrk, r.Mode, scCeiling, r.Concurrency)
		v, _ := find(rep.Rows, r.Mode, r.Scenario, r.Concurrency)
		vc, _ := find(rep.Rows, r.Mode, scCeiling, r.Concurrency)
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", title(r.Scenario), r.Concurrency, fmtInt(int(r.RPS()+0.5)),
			fmtDur(r.P50), fmtDur(r.P99), errorsCell(r.measurement), ratioCell(r.RPS(), ceil.RPS()),
			ratioCell(float64(r.P99), float64(ceil.P99)), ratioCell(v.RPS(), vc.RPS()), shareCell(r.Background))
	}
	w.WriteString("\n")
}

func errorsCell(m measurement) string {
	if m.Errors() == 0 {
		return "0"
	}
	return fmt.Sprintf("%s (%d non-2xx, %d transport, %d bad body)", fmtInt(m.Errors()), m.Non2xx, m.Transport, m.BadBody)
}

// shareCell writes the CPU share of other processes during a measurement.
func shareCell(f float64) string {
	if f < 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", f*100)
}

func rssCell(r row) string {
	if r.RSS == 0 {
		return "—"
	}
	return mb(r.RSS)
}

func ratioCell(a, b float64) string {
	if b == 0 || a == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}
