package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Curve names, as accepted by -scale-curves.
const (
	curveClients     = "clients"
	curveAPIKeys     = "apikeys"
	curveRevocations = "revocations"
	curveSubscribers = "subscribers"
)

// curveOrder lists the curves in the order they run and are reported.
var curveOrder = []string{curveClients, curveAPIKeys, curveRevocations, curveSubscribers}

// fullSteps are the sizes of issue 13's cost curves: clients and API keys
// up to a million rows, live revocations up to 100,000 entries, revocation
// feed subscribers up to 1,000 streams.
var fullSteps = map[string][]int{
	curveClients:     {1, 10_000, 1_000_000},
	curveAPIKeys:     {1, 10_000, 1_000_000},
	curveRevocations: {0, 10_000, 100_000},
	curveSubscribers: {1, 100, 1_000},
}

// scaleOptions are the -scale flags.
type scaleOptions struct {
	on       bool
	max      int // largest step of any curve
	curves   []string
	duration time.Duration // measured per step
	warmup   time.Duration
	conc     int // closed-loop workers
	distinct int // clients (or keys) the load is spread over
	events   int // revocations timed per subscriber step
	imgDir   string
	rawCurve string
}

func (s *scaleOptions) register(fs *flag.FlagSet, root string) {
	fs.BoolVar(&s.on, "scale", false, "measure the cost curves (clients, API keys, revocations, subscribers) instead of the scenarios, and rewrite their section of -out and the plots in -scale-img")
	fs.IntVar(&s.max, "scale-max", 1_000_000, "largest step of any curve: smaller steps are kept and this one replaces the larger ones (e.g. 10000 for a quick run)")
	fs.StringVar(&s.rawCurve, "scale-curves", strings.Join(curveOrder, ","), "curves to measure: "+strings.Join(curveOrder, ", "))
	fs.DurationVar(&s.duration, "scale-duration", 5*time.Second, "measured time per step")
	fs.DurationVar(&s.warmup, "scale-warmup", time.Second, "unmeasured warm-up before each step")
	fs.IntVar(&s.conc, "scale-c", 16, "closed-loop workers per step")
	fs.IntVar(&s.distinct, "scale-distinct", 1000, "distinct clients (API keys) each step's requests are spread over")
	fs.IntVar(&s.events, "scale-events", 30, "revocations timed per subscriber step")
	fs.StringVar(&s.imgDir, "scale-img", filepath.Join(root, "docs", "img"), "directory for the curves' PNG plots")
}

// fill checks the -scale flags, listing every problem.
func (s *scaleOptions) fill() error {
	var errs []error
	s.curves = splitList(s.rawCurve)
	for _, c := range s.curves {
		if !slices.Contains(curveOrder, c) {
			errs = append(errs, fmt.Errorf("-scale-curves: unknown curve %q (%s)", c, strings.Join(curveOrder, ", ")))
		}
	}
	if s.max < 1 || s.max > 10_000_000 {
		errs = append(errs, errors.New("-scale-max: between 1 and 10,000,000"))
	}
	if s.duration < time.Second || s.duration > 5*time.Minute || s.warmup < 0 || s.warmup > time.Minute {
		errs = append(errs, errors.New("-scale-duration: between 1s and 5m; -scale-warmup: between 0s and 1m"))
	}
	if s.conc < 1 || s.conc > 1024 || s.distinct < 1 || s.distinct > 100_000 || s.events < 1 || s.events > 1000 {
		errs = append(errs, errors.New("-scale-c: 1 to 1024; -scale-distinct: 1 to 100,000; -scale-events: 1 to 1000"))
	}
	return errors.Join(errs...)
}

// full reports whether every curve runs with every step.
func (s scaleOptions) full() bool {
	return len(s.curves) == len(curveOrder) && s.max >= 1_000_000
}

// steps are curve's sizes under -scale-max.
func (s scaleOptions) steps(curve string) []int { return planSteps(fullSteps[curve], s.max) }

// planSteps keeps the steps of full up to max; when max cut some off, max
// itself becomes the last step, so a shrunk curve still ends at its
// largest affordable size.
func planSteps(full []int, limit int) []int {
	var out []int
	for _, n := range full {
		if n <= limit {
			out = append(out, n)
		}
	}
	if len(out) < len(full) && (len(out) == 0 || out[len(out)-1] < limit) {
		out = append(out, limit)
	}
	return out
}

// sampleIndices picks k (at most n) row indices spread evenly over 0..n-1,
// so that a step's load touches the whole table, not its first rows.
func sampleIndices(n, k int) []int {
	k = min(k, n)
	out := make([]int, k)
	for i := range k {
		out[i] = int(int64(i) * int64(n) / int64(k))
	}
	return out
}

// neededIndices is every index sampleIndices picks at any of steps, so
// that seeding keeps the secrets of those rows only.
func neededIndices(steps []int, k int) map[int]bool {
	out := map[int]bool{}
	for _, n := range steps {
		for _, i := range sampleIndices(n, k) {
			out[i] = true
		}
	}
	return out
}
