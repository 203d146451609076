package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// measured is a 10 s run at rps successful requests per second.
func measured(rps int, p50, p99 time.Duration) measurement {
	return measurement{Requests: rps * 10, OK: rps * 10, Elapsed: 10 * time.Second, P50: p50, P99: p99}
}

func pgRow(s string, c, rps int, p99 time.Duration) row {
	return row{Mode: modePostgres, Scenario: s, Concurrency: c, Generator: genVegeta, measurement: measured(rps, p99/4, p99), RSS: 40e6}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	withErrors := pgRow(scIntrospectValid, 64, 30000, ms(4))
	withErrors.Non2xx = 1
	rows := []row{
		pgRow(scCeiling, 16, 20000, ms(4)),
		pgRow(scClientCreds, 16, 10000, ms(8)), // exactly 50 %, p99 exactly 2 ×
		pgRow(scIntrospectValid, 16, 30000, ms(3)),
		{Mode: modePostgres, Scenario: scAPIKey, Concurrency: 16, Skip: "no apikey command"},
		pgRow(scCeiling, 64, 20000, ms(4)),
		pgRow(scClientCreds, 64, 9999, ms(8.1)), // just under 50 %, p99 over 2 ×
		withErrors,
		pgRow(scAPIKey, 64, 8000, ms(5)), // exactly 40 %
	}
	got := map[string]string{}
	for _, v := range evaluate(rows, nil) {
		got[fmt.Sprintf("%s @%d", v.Target, v.Concurrency)] = v.Result
	}
	want := map[string]string{
		"client_credentials (Basic) ≥ 50 % of the ceiling's requests/s, no errors @16":  "pass",
		"client_credentials (Basic) p99 ≤ 2 × the ceiling's p99 @16":                    "pass",
		"client_credentials (Basic) ≥ 50 % of the ceiling's requests/s, no errors @64":  "**miss**",
		"client_credentials (Basic) p99 ≤ 2 × the ceiling's p99 @64":                    "**miss**",
		"introspection, valid token ≥ 50 % of the ceiling's requests/s, no errors @16":  "pass",
		"introspection, valid token ≥ 50 % of the ceiling's requests/s, no errors @64":  "**miss**",
		"API-key exchange (RFC 8693) ≥ 40 % of the ceiling's requests/s, no errors @16": "not measured",
		"API-key exchange (RFC 8693) p99 ≤ 2 × the ceiling's p99 @16":                   "not measured",
		"API-key exchange (RFC 8693) ≥ 40 % of the ceiling's requests/s, no errors @64": "pass",
		"API-key exchange (RFC 8693) p99 ≤ 2 × the ceiling's p99 @64":                   "pass",
		"introspection, valid token p99 ≤ 2 × the ceiling's p99 @64":                    "pass",
		"introspection, valid token p99 ≤ 2 × the ceiling's p99 @16":                    "pass",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d verdicts, want %d: %v", len(got), len(want), got)
	}
}

func TestRSSVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		issued int
		after  int64
		want   string
	}{
		{"under the limit after a million", 1_000_000, 45e6, "pass"},
		{"over the limit", 1_000_000, 100e6, "miss"},
		{"over the limit before the bound", 400_000, 120e6, "miss"},
		{"bound hit", 999_999, 45e6, "not measured: only 999,999 tokens were issued"},
		{"no RSS", 1_000_000, 0, "not measured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &millionResult{Target: 1_000_000, measurement: measurement{OK: tt.issued}, After: memory{RSS: tt.after}}
			if got := rssVerdict(m).Result; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

const previous = "# Benchmarks\n\nold intro\n\n## Old table\n\n| a |\n\n" +
	"## Revocation propagation\n\nSee [REVOCATION.md](REVOCATION.md#measured): median 0.26 ms.\n\n" +
	"## Piece benchmarks\n\n```sh\n## not a heading inside a fence\ngo test -bench .\n```\nHMAC 158 ns.\n\n" +
	"## Cost curves (issue 13)\n\ncurves table\n\n" +
	"## Encrypted tokens\n\nhand-written figures\n"

func TestSections(t *testing.T) {
	t.Parallel()
	s := sections(previous)
	if got, want := s.body["Piece benchmarks"], "```sh\n## not a heading inside a fence\ngo test -bench .\n```\nHMAC 158 ns."; got != want {
		t.Errorf("Piece benchmarks = %q, want %q", got, want)
	}
	if got := s.body["Revocation propagation"]; got != "See [REVOCATION.md](REVOCATION.md#measured): median 0.26 ms." {
		t.Errorf("Revocation propagation = %q", got)
	}
	if _, ok := s.body["not a heading inside a fence"]; ok {
		t.Error("a line in a code fence was taken for a heading")
	}
}

func sampleReport() *report {
	cc := pgRow(scClientCreds, 16, 15000, ms(5))
	cc.Background = 0.12
	return &report{
		Date: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Duration: 10 * time.Second, Warmup: 2 * time.Second,
		Env: environment{CPUs: 2, CPUModel: "Test CPU", Memory: 24 << 30, GoVersion: "go1.26.8", Tollgate: "abc123", Vegeta: "v12.13.0"},
		Rows: []row{
			pgRow(scCeiling, 16, 20000, ms(4)),
			cc,
			{Mode: modePostgres, Scenario: scAPIKey, Concurrency: 16, Skip: "this tollgate build has no `tollgate apikey` command"},
			pgRow(scPassword, 16, 70, ms(400)),
			{Mode: modeEmbedded, Scenario: scClientCreds, Concurrency: 16, measurement: measured(7000, ms(1), ms(9)), Background: -1},
		},
		Million: &millionResult{Target: 1_000_000, Concurrency: 64, Limit: 4 * time.Minute,
			measurement: measured(25000, ms(2), ms(9)), Before: memory{RSS: 28e6}, After: memory{RSS: 41e6, Peak: 43e6}},
	}
}

func TestWriteMarkdown(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	writeMarkdown(&buf, sampleReport(), sections(previous))
	out := buf.String()
	for _, want := range []string{
		"- Machine: 2 cores (`nproc`), Test CPU, 24.0 GiB of memory.",
		"- Tollgate: commit abc123, built with go1.26.8.",
		"| client_credentials (Basic) ≥ 50 % of the ceiling's requests/s, no errors | 16 | 0.75 (15,000 vs 20,000 req/s), 0 errors | pass |",
		"| client_credentials (Basic) | 16 | 15,000 | 1.25 ms | 5.00 ms | 0 | 40.0 MB | 0.75 | 1.25 | 12 % |\n",
		"API-key exchange (RFC 8693) at 16: not available (this tollgate build has no `tollgate apikey` command).",
		"| password grant (argon2id) | 16 | 70 | 100 ms | 400 ms | 0 | 40.0 MB | 0 % |\n",
		"## Embedded SQLite (the default)",
		"| client_credentials (Basic) | 16 | 7,000 | 1.00 ms | 9.00 ms | 0 | — | — | — | — |\n",
		"issued 250,000 of 1,000,000 client_credentials",
		"The time bound of 4m0s stopped it.",
		"| server RSS < 100 MB after 1 million client_credentials tokens | — | 41.0 MB after 250,000 tokens (28.0 MB before, peak 43.0 MB) | not measured: only 250,000 tokens were issued |",
		"## Revocation propagation\n\nSee [REVOCATION.md](REVOCATION.md#measured): median 0.26 ms.\n\n## Piece benchmarks\n\n```sh\n## not a heading inside a fence\ngo test -bench .\n```\nHMAC 158 ns.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "Old table") || strings.Contains(out, "old intro") {
		t.Error("the previous report's generated parts were kept")
	}
	// The -scale run's section is carried over; the hand-written notes,
	// absent from the previous file, get their fallback.
	if !strings.HasSuffix(out, "HMAC 158 ns.\n\n## Cost curves (issue 13)\n\ncurves table\n\n## Cost curves: what the profiles show\n\nSee the cost curves above.\n\n## Encrypted tokens\n\nhand-written figures\n") {
		t.Errorf("report does not end with the kept sections and one newline: %q", out[max(0, len(out)-200):])
	}
}

func TestWriteMarkdownFallbackSections(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	writeMarkdown(&buf, sampleReport(), sections(""))
	if !strings.Contains(buf.String(), "## Revocation propagation\n\nSee [REVOCATION.md](REVOCATION.md#measured).") {
		t.Error("a missing kept section has no fallback text")
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{fmtInt(0), "0"}, {fmtInt(999), "999"}, {fmtInt(1000), "1,000"}, {fmtInt(1234567), "1,234,567"}, {fmtInt(-45000), "-45,000"},
		{fmtDur(420 * time.Microsecond), "0.42 ms"}, {fmtDur(ms(23.61)), "23.6 ms"}, {fmtDur(ms(394.4)), "394 ms"}, {fmtDur(12 * time.Second), "12.0 s"},
		{mb(37_450_000), "37.5 MB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
