package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Section titles the -scale run owns (scaleTitle) or leaves to people
// (scaleNotesTitle); the scenario run carries both over.
const (
	scaleTitle      = "Cost curves (issue 13)"
	scaleNotesTitle = "Cost curves: what the profiles show"
)

// curveText says how each curve is labelled in tables and plots.
var curveText = map[string]struct{ size, metric, file, title string }{
	curveClients:     {"Clients", "client_credentials", "scale-clients.png", "client_credentials, requests spread over 1,000 clients"},
	curveAPIKeys:     {"API keys", "API-key exchange", "scale-apikeys.png", "API-key exchange (RFC 8693), spread over 1,000 keys"},
	curveRevocations: {"Live revocations", "introspection, valid token", "scale-revocations.png", "Introspection with a growing revocation set"},
	curveSubscribers: {"Subscribers", "revoke → seen by every subscriber", "scale-subscribers.png", "Revocation feed: revoke call to event seen by all"},
}

// plots builds one plot per measured curve.
func (rep *scaleReport) plots() []curvePlot {
	var out []curvePlot
	for _, curve := range curveOrder {
		ct := curveText[curve]
		cp := curvePlot{File: ct.file, Title: ct.title, XLabel: ct.size + " (log scale)", YLabel: "requests/s", Steps: rep.Opts.steps(curve)}
		if curve == curveSubscribers {
			cp.YLabel = "milliseconds"
		}
		for _, c := range rep.Curves {
			if c.Curve != curve {
				continue
			}
			short := map[string]string{modeEmbedded: "embedded SQLite", modePostgres: "PostgreSQL + Redis"}[c.Mode]
			if curve == curveSubscribers {
				p50, p99 := plotSeries{Name: short + " p50"}, plotSeries{Name: short + " p99"}
				for _, pt := range c.Points {
					p50.N, p50.Y = append(p50.N, pt.N), append(p50.Y, millis(pt.P50))
					p99.N, p99.Y = append(p99.N, pt.N), append(p99.Y, millis(pt.P99))
				}
				cp.Series = append(cp.Series, p50, p99)
				continue
			}
			s := plotSeries{Name: short}
			for _, pt := range c.Points {
				s.N, s.Y = append(s.N, pt.N), append(s.Y, pt.RPS())
			}
			cp.Series = append(cp.Series, s)
		}
		if len(cp.Series) > 0 {
			out = append(out, cp)
		}
	}
	return out
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// markdown is the body of the cost-curves section.
func (rep *scaleReport) markdown() string {
	var w strings.Builder
	o := rep.Opts
	e := rep.Env
	fmt.Fprintf(&w, "Written by `go run ./bench/cmd/loadbench -scale%s` on %s with %s, Tollgate %s, on %d cores (%s, %.1f GiB).\n",
		rep.flagsText(), rep.Date.Format("2006-01-02 15:04 UTC"), e.GoVersion, e.Tollgate, e.CPUs, e.CPUModel, float64(e.Memory)/(1<<30))
	fmt.Fprintf(&w, "Each step: the server is stopped, the new rows are inserted straight into its database in batches of %s "+
		"(real generated secrets, hashed with the server's keyed hash under the pepper it derives from the same master key), "+
		"the server is started again (**Ready** is the time from starting the process to `/readyz` answering 200), "+
		"then %s of warm-up and %s measured with %d closed-loop workers. **Other CPU** is what processes other than the benchmark "+
		"and the system under test used meanwhile: the figures are indicative, not a lab measurement.\n\n",
		fmtInt(seedBatch), o.warmup, o.duration, o.conc)
	if !o.full() {
		fmt.Fprintf(&w, "**Reduced run:** steps capped at %s (`-scale-max`), curves %s.\n\n", fmtInt(o.max), strings.Join(o.curves, ", "))
	}
	rep.writeTargets(&w)
	for _, cp := range rep.plots() {
		rep.writeCurve(&w, cp)
	}
	return strings.TrimRight(w.String(), "\n")
}

func (rep *scaleReport) flagsText() string {
	o := rep.Opts
	var f []string
	if o.max != 1_000_000 {
		f = append(f, fmt.Sprintf("-scale-max %d", o.max))
	}
	if len(o.curves) != len(curveOrder) {
		f = append(f, "-scale-curves "+strings.Join(o.curves, ","))
	}
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}

// writeCurve writes one curve's plot and table.
func (rep *scaleReport) writeCurve(w *strings.Builder, cp curvePlot) {
	var curve string
	for c, ct := range curveText {
		if ct.file == cp.File {
			curve = c
		}
	}
	ct := curveText[curve]
	fmt.Fprintf(w, "### %s\n\n![%s](img/%s)\n\n", cp.Title, cp.Title, cp.File)
	switch curve {
	case curveSubscribers:
		fmt.Fprintf(w, "| Mode | %s | p50 | p99 | Revocations timed | Server RSS | Ready |\n|---|---|---|---|---|---|---|\n", ct.size)
	case curveRevocations:
		fmt.Fprintf(w, "| Mode | %s | Requests/s | p50 | p99 | Errors | Check (in-process) | Server RSS | Ready | Seeded in | Other CPU |\n|---|---|---|---|---|---|---|---|---|---|---|\n", ct.size)
	case curveAPIKeys:
		fmt.Fprintf(w, "| Mode | %s | Requests/s | p50 | p99 | Errors | First exchange, uncached: median / max | Server RSS | Ready | Seeded in | Other CPU |\n|---|---|---|---|---|---|---|---|---|---|---|\n", ct.size)
	default:
		fmt.Fprintf(w, "| Mode | %s | Requests/s | p50 | p99 | Errors | Server RSS | Ready | Seeded in | Other CPU |\n|---|---|---|---|---|---|---|---|---|---|\n", ct.size)
	}
	for _, c := range rep.Curves {
		if c.Curve != curve {
			continue
		}
		for _, pt := range c.Points {
			base := fmt.Sprintf("| %s | %s | %s | %s | %s | %s", modeShort(c.Mode), fmtInt(pt.N), fmtInt(int(pt.RPS()+0.5)), fmtDur(pt.P50), fmtDur(pt.P99), fmtInt(pt.Errors()))
			tail := fmt.Sprintf("%s | %s | %s | %.0f %% |", mb(pt.RSS), fmtDur(pt.Ready), pt.Seed.Round(100*time.Millisecond), pt.Background*100)
			switch curve {
			case curveSubscribers:
				fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s | %s |\n", modeShort(c.Mode), fmtInt(pt.N), fmtDur(pt.P50), fmtDur(pt.P99), pt.OK, mb(pt.RSS), fmtDur(pt.Ready))
			case curveRevocations:
				fmt.Fprintf(w, "%s | %.0f ns, %d allocs | %s\n", base, pt.CheckNs, pt.CheckAlloc, tail)
			case curveAPIKeys:
				fmt.Fprintf(w, "%s | %s / %s | %s\n", base, fmtDur(pt.FirstP50), fmtDur(pt.FirstMax), tail)
			default:
				fmt.Fprintf(w, "%s | %s\n", base, tail)
			}
		}
	}
	w.WriteString("\n")
}

func modeShort(mode string) string {
	if mode == modePostgres {
		return "PostgreSQL + Redis"
	}
	return "embedded"
}

// point finds a curve's step of size n in mode; the last step when n is 0
// and largest is set.
func (rep *scaleReport) point(mode, curve string, n int, largest bool) (scalePoint, bool) {
	for _, c := range rep.Curves {
		if c.Mode != mode || c.Curve != curve || len(c.Points) == 0 {
			continue
		}
		if largest {
			return c.Points[len(c.Points)-1], true
		}
		for _, pt := range c.Points {
			if pt.N == n {
				return pt, true
			}
		}
	}
	return scalePoint{}, false
}

// writeTargets compares the largest steps with issue 13's targets.
func (rep *scaleReport) writeTargets(w *strings.Builder) {
	w.WriteString("| Target (issue 13) | Mode | Measured | Result |\n|---|---|---|---|\n")
	modes := []string{modeEmbedded, modePostgres}
	for _, m := range modes {
		ratio := func(curve, what string, floor float64) {
			first, ok1 := rep.point(m, curve, 1, false)
			if curve == curveRevocations {
				first, ok1 = rep.point(m, curve, 0, false)
			}
			last, ok2 := rep.point(m, curve, 0, true)
			if !ok1 || !ok2 || first.RPS() == 0 {
				return
			}
			r := last.RPS() / first.RPS()
			fmt.Fprintf(w, "| %s | %s | %s at %s vs %s: %.2f | %s |\n", what, modeShort(m), fmtInt(int(last.RPS()+0.5)), fmtInt(last.N), fmtInt(int(first.RPS()+0.5)), r, scaleVerdict(r >= floor, last.N, fullSteps[curve]))
		}
		ratio(curveClients, "client_credentials at 1,000,000 clients ≥ 85 % of 1 client's req/s", 0.85)
		ratio(curveAPIKeys, "API-key exchange at 1,000,000 keys ≥ 85 % of 1 key's req/s", 0.85)
		ratio(curveRevocations, "introspection with 100,000 revocations ≥ 90 % of an empty set's req/s", 0.90)
		if last, ok := rep.point(m, curveRevocations, 0, true); ok {
			fmt.Fprintf(w, "| server RSS with 100,000 revocations < 150 MB | %s | %s at %s | %s |\n", modeShort(m), mb(last.RSS), fmtInt(last.N), scaleVerdict(last.RSS < 150_000_000, last.N, fullSteps[curveRevocations]))
			fmt.Fprintf(w, "| a starting node ready < 5 s with 100,000 revocations | %s | %s at %s | %s |\n", modeShort(m), fmtDur(last.Ready), fmtInt(last.N), scaleVerdict(last.Ready < 5*time.Second, last.N, fullSteps[curveRevocations]))
		}
	}
	w.WriteString("\n")
}

// scaleVerdict is pass or missed, qualified when the run stopped short of the
// target's size.
func scaleVerdict(ok bool, n int, full []int) string {
	s := map[bool]string{true: "pass", false: "missed"}[ok]
	if n < full[len(full)-1] {
		s += " (smaller step: reduced run)"
	}
	return s
}

// replaceSection puts body under "## title" in doc, replacing that
// section's old body, or appends the section when doc has none.
func replaceSection(doc, title, body string) string {
	lines := strings.Split(strings.TrimRight(doc, "\n"), "\n")
	start, end := -1, len(lines)
	inFence := false
	for i, line := range lines {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "## ") {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if strings.TrimSpace(line[3:]) == title {
			start = i
		}
	}
	section := []string{"## " + title, "", body, ""}
	if start < 0 {
		return strings.Join(append(lines, append([]string{""}, section...)...), "\n")
	}
	out := append(append(append([]string{}, lines[:start]...), section...), lines[end:]...)
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

// publishScale prints the section, and after a full run (or with -out)
// writes the plots and the section into the report.
func (b *bench) publishScale(rep *scaleReport, stdout io.Writer) error {
	body := rep.markdown()
	if _, err := fmt.Fprintf(stdout, "## %s\n\n%s\n", scaleTitle, body); err != nil {
		return err
	}
	if b.o.out == "" || (!b.o.scale.full() && !b.o.outExplicit) {
		b.logf("not writing %s or the plots: this was a reduced run (give -out to write them anyway)", b.o.out)
		return nil
	}
	for _, cp := range rep.plots() {
		path, err := cp.write(b.o.scale.imgDir)
		if err != nil {
			return err
		}
		b.logf("wrote %s", path)
	}
	prev, err := os.ReadFile(b.o.out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	b.logf("writing the %q section of %s", scaleTitle, b.o.out)
	return os.WriteFile(b.o.out, []byte(replaceSection(string(prev), scaleTitle, body)), 0o644)
}
