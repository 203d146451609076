package main

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlanSteps(t *testing.T) {
	t.Parallel()
	full := []int{1, 10_000, 1_000_000}
	for _, tc := range []struct {
		name  string
		limit int
		want  []int
	}{
		{"no cap", 1_000_000, []int{1, 10_000, 1_000_000}},
		{"above the largest", 5_000_000, []int{1, 10_000, 1_000_000}},
		{"between steps", 100_000, []int{1, 10_000, 100_000}},
		{"on a step", 10_000, []int{1, 10_000}},
		{"below the first", 0, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := planSteps(full, tc.limit); !slices.Equal(got, tc.want) {
				t.Errorf("planSteps(%v, %d) = %v, want %v", full, tc.limit, got, tc.want)
			}
		})
	}
	if got := planSteps([]int{0, 10_000, 100_000}, 2000); !slices.Equal(got, []int{0, 2000}) {
		t.Errorf("revocations capped at 2000 = %v, want [0 2000]", got)
	}
}

func TestSampleIndices(t *testing.T) {
	t.Parallel()
	if got := sampleIndices(1, 1000); !slices.Equal(got, []int{0}) {
		t.Errorf("sampleIndices(1, 1000) = %v, want [0]", got)
	}
	got := sampleIndices(1_000_000, 1000)
	if len(got) != 1000 || got[0] != 0 || got[1] != 1000 || got[999] != 999_000 {
		t.Errorf("sampleIndices(1e6, 1000): %d indices, %v … %v; want 0, 1000, … 999000", len(got), got[:2], got[len(got)-1])
	}
	// Every index the steps sample is among the ones seeding keeps.
	steps := []int{1, 10_000, 1_000_000}
	need := neededIndices(steps, 1000)
	for _, n := range steps {
		for _, i := range sampleIndices(n, 1000) {
			if !need[i] || i >= n {
				t.Fatalf("step %d samples row %d, which seeding does not keep or does not have", n, i)
			}
		}
	}
	if len(need) > 3000 {
		t.Errorf("seeding keeps %d secrets for 3 steps of 1000 samples", len(need))
	}
}

func TestScaleOptions(t *testing.T) {
	t.Parallel()
	o := scaleOptions{max: 1_000_000, rawCurve: "clients,bogus", duration: time.Second, conc: 16, distinct: 1000, events: 5}
	err := o.fill()
	if err == nil || !strings.Contains(err.Error(), `unknown curve "bogus"`) {
		t.Fatalf("fill with an unknown curve = %v", err)
	}
	o = scaleOptions{max: 0, rawCurve: "clients", duration: 0, conc: 0, distinct: 1000, events: 5}
	if err := o.fill(); err == nil || !strings.Contains(err.Error(), "-scale-max") || !strings.Contains(err.Error(), "-scale-duration") || !strings.Contains(err.Error(), "-scale-c") {
		t.Fatalf("fill lists every problem: %v", err)
	}
}

func TestTokenID(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	if got, err := tokenID(enc([]byte(`{}`)) + "." + enc([]byte(`{"jti":"abc","sub":"x"}`)) + ".sig"); err != nil || got != "abc" {
		t.Errorf("tokenID = %q, %v; want abc", got, err)
	}
	for _, bad := range []string{"", "a.b", "a.!!.c", "a." + enc([]byte(`{"sub":"x"}`)) + ".c"} {
		if _, err := tokenID(bad); err == nil {
			t.Errorf("tokenID(%q) accepted", bad)
		}
	}
}

func TestFeedWatch(t *testing.T) {
	t.Parallel()
	w := &feedWatch{n: 2}
	w.saw("early") // nothing expected yet
	all := w.expect("j1")
	w.saw("other")
	w.saw("j1")
	select {
	case <-all:
		t.Fatal("closed after one of two subscribers")
	default:
	}
	w.saw("j1")
	select {
	case <-all:
	default:
		t.Fatal("not closed after both subscribers saw it")
	}
}

func TestEncodeJSONList(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "[]", "bench:read": `["bench:read"]`, "a  b": `["a","b"]`} {
		if got := encodeJSONList(in); got != want {
			t.Errorf("encodeJSONList(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestReplaceSection(t *testing.T) {
	t.Parallel()
	doc := "# B\n\n## One\n\nold\n\n```\n## not a heading\n```\n\n## Two\n\nkeep\n"
	got := replaceSection(doc, "One", "new")
	if want := "# B\n\n## One\n\nnew\n\n## Two\n\nkeep\n"; got != want {
		t.Errorf("replacing:\n%s\nwant:\n%s", got, want)
	}
	got = replaceSection("# B\n\n## Two\n\nkeep\n", "Three", "added")
	if want := "# B\n\n## Two\n\nkeep\n\n## Three\n\nadded\n"; got != want {
		t.Errorf("appending:\n%q\nwant:\n%q", got, want)
	}
	if again := replaceSection(got, "Three", "added"); again != got {
		t.Errorf("replacing with the same body changed the document:\n%q", again)
	}
}

// testScaleReport is a small measured report: two curves in one mode.
func testScaleReport() *scaleReport {
	pt := func(n, rps int, p99 time.Duration) scalePoint {
		return scalePoint{N: n, measurement: measured(rps, p99/4, p99), RSS: 50 << 20, Ready: 300 * time.Millisecond}
	}
	return &scaleReport{
		Date: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC),
		Env:  environment{CPUs: 2, CPUModel: "Test CPU", Memory: 8 << 30, GoVersion: "go1.26.8", Tollgate: "abc123"},
		Opts: scaleOptions{max: 10_000, curves: []string{curveClients, curveRevocations}, duration: 5 * time.Second, conc: 16},
		Curves: []scaleCurve{
			{Mode: modeEmbedded, Curve: curveClients, Points: []scalePoint{pt(1, 8000, 8*time.Millisecond), pt(10_000, 7000, 9*time.Millisecond)}},
			{Mode: modeEmbedded, Curve: curveRevocations, Points: []scalePoint{pt(0, 9000, 7*time.Millisecond), pt(10_000, 8500, 7*time.Millisecond)}},
		},
	}
}

func TestScaleMarkdown(t *testing.T) {
	t.Parallel()
	md := testScaleReport().markdown()
	for _, want := range []string{
		"-scale-max 10000 -scale-curves clients,revocations",
		"**Reduced run:** steps capped at 10,000",
		"| client_credentials at 1,000,000 clients ≥ 85 % of 1 client's req/s | embedded | 7,000 at 10,000 vs 8,000: 0.88 | pass (smaller step: reduced run) |",
		"| introspection with 100,000 revocations ≥ 90 % of an empty set's req/s | embedded | 8,500 at 10,000 vs 9,000: 0.94 | pass (smaller step: reduced run) |",
		"![client_credentials, requests spread over 1,000 clients](img/scale-clients.png)",
		"| embedded | 10,000 | 7,000 | 2.25 ms | 9.00 ms | 0 | 52.4 MB | 300 ms |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the section lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "scale-apikeys.png") {
		t.Error("the section shows a plot of a curve that was not measured")
	}
}

// TestCurvePlotWrite renders every plot of a report into a temporary
// directory and checks that each is a PNG of the size the docs use.
func TestCurvePlotWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plots := testScaleReport().plots()
	if len(plots) != 2 {
		t.Fatalf("%d plots for two curves", len(plots))
	}
	for _, cp := range plots {
		path, err := cp.write(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", filepath.Base(path), err)
		}
		if sz := img.Bounds().Size(); sz.X != 576 || sz.Y != 336 {
			t.Errorf("%s is %v pixels, want 576×336 (6 × 3.5 in at 96 dpi)", filepath.Base(path), sz)
		}
	}
}
