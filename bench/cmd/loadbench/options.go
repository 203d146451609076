package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenario names, as accepted by -scenarios and used in the report.
const (
	scCeiling          = "ceiling"
	scClientCreds      = "client_credentials"
	scIntrospectValid  = "introspect_valid"
	scIntrospectRevoke = "introspect_revoked"
	scAPIKey           = "apikey"
	scJWKS             = "jwks"
	scPassword         = "password"
	scRefresh          = "refresh"
)

// scenarioOrder is the order scenarios run in at each concurrency: the
// ceiling right before Tollgate's client_credentials, the argon2id-bound
// ones last.
var scenarioOrder = []string{scCeiling, scClientCreds, scIntrospectValid, scIntrospectRevoke, scAPIKey, scJWKS, scPassword, scRefresh}

// Mode names, as accepted by -modes.
const (
	modeEmbedded = "embedded"
	modePostgres = "postgres"
)

// options are the command line, with defaults from the environment.
type options struct {
	root           string // the repository (the main module's directory)
	tollgateBin    string // prebuilt binary; empty: build ./cmd/tollgate
	databaseURL    string // admin connection; the benchmark database is created through it
	redisURL       string
	modes          []string
	concurrency    []int
	scenarios      []string
	duration       time.Duration
	warmup         time.Duration
	million        int
	millionTimeout time.Duration
	out            string // report path; empty: do not write
	outExplicit    bool   // -out was given: write even after a partial run
	wrk            bool   // cross-check with wrk
	quietWait      time.Duration
	retries        int // measurements again when other processes disturbed one
	scale          scaleOptions
}

func parseOptions(args, environ []string, stderr io.Writer) (options, error) {
	getenv := lookup(environ)
	root, err := moduleRoot()
	if err != nil {
		return options{}, err
	}
	_, wrkErr := exec.LookPath("wrk")
	o := options{root: root}
	var modes, conc, scen string
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.tollgateBin, "tollgate-bin", "", "use this tollgate binary instead of building ./cmd/tollgate")
	fs.StringVar(&o.databaseURL, "database-url", first(getenv("TOLLGATE_BENCH_DATABASE_URL"), getenv("TOLLGATE_TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL admin URL; a fresh database is created and dropped through it (env TOLLGATE_BENCH_DATABASE_URL, TOLLGATE_TEST_DATABASE_URL)")
	fs.StringVar(&o.redisURL, "redis-url", first(getenv("TOLLGATE_BENCH_REDIS_URL"), getenv("TOLLGATE_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0"), "Redis URL; keys get a unique prefix and are deleted at the end (env TOLLGATE_BENCH_REDIS_URL, TOLLGATE_TEST_REDIS_URL)")
	fs.StringVar(&modes, "modes", modeEmbedded+","+modePostgres, "storage modes to run: embedded, postgres")
	fs.StringVar(&conc, "c", "16,64", "concurrency levels (closed-loop workers, one connection each)")
	fs.StringVar(&scen, "scenarios", strings.Join(scenarioOrder, ","), "scenarios to run")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario and concurrency")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each measurement")
	fs.IntVar(&o.million, "million", 1_000_000, "client_credentials tokens for the RSS check on PostgreSQL + Redis (0 skips it)")
	fs.DurationVar(&o.millionTimeout, "million-timeout", 4*time.Minute, "time bound of the RSS check; the report says how many tokens were issued")
	fs.StringVar(&o.out, "out", filepath.Join(root, "docs", "BENCHMARKS.md"), "report to write (written after a full run, or always when given)")
	fs.DurationVar(&o.quietWait, "quiet-wait", time.Minute, "before each measurement, wait at most this long for other processes to use under 10 % of the CPU")
	fs.IntVar(&o.retries, "retries", 2, "measure again, at most this many times, when other processes used 10 % or more of the CPU during a measurement")
	fs.BoolVar(&o.wrk, "wrk", wrkErr == nil, "also measure the ceiling, client_credentials and introspection with wrk (on when wrk is installed)")
	o.scale.register(fs, root)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./bench/cmd/loadbench [flags]\n\nMeasures Tollgate under load against its reference server (./bench/cmd/ceiling) and writes docs/BENCHMARKS.md.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.outExplicit = o.outExplicit || f.Name == "out" })
	return o, errors.Join(o.fill(modes, conc, scen), o.scale.fill())
}

// fill parses the list flags and checks everything, listing every problem.
func (o *options) fill(modes, conc, scen string) error {
	var errs []error
	o.modes = splitList(modes)
	for _, m := range o.modes {
		if m != modeEmbedded && m != modePostgres {
			errs = append(errs, fmt.Errorf("-modes: unknown mode %q (embedded, postgres)", m))
		}
	}
	for _, s := range splitList(conc) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1024 {
			errs = append(errs, fmt.Errorf("-c: %q is not a concurrency between 1 and 1024", s))
			continue
		}
		o.concurrency = append(o.concurrency, n)
	}
	o.scenarios = splitList(scen)
	for _, s := range o.scenarios {
		if !slices.Contains(scenarioOrder, s) {
			errs = append(errs, fmt.Errorf("-scenarios: unknown scenario %q (%s)", s, strings.Join(scenarioOrder, ", ")))
		}
	}
	if o.duration < time.Second || o.duration > 10*time.Minute {
		errs = append(errs, errors.New("-duration: between 1s and 10m"))
	}
	if o.warmup < 0 || o.warmup > time.Minute {
		errs = append(errs, errors.New("-warmup: between 0s and 1m"))
	}
	if o.quietWait < 0 || o.quietWait > 10*time.Minute || o.retries < 0 || o.retries > 5 {
		errs = append(errs, errors.New("-quiet-wait: between 0s and 10m; -retries: between 0 and 5"))
	}
	if o.million < 0 || o.million > 10_000_000 || o.millionTimeout < time.Second || o.millionTimeout > time.Hour {
		errs = append(errs, errors.New("-million: between 0 and 10,000,000 tokens; -million-timeout: between 1s and 1h"))
	}
	if slices.Contains(o.modes, modePostgres) {
		for _, u := range []string{o.databaseURL, o.redisURL} {
			if err := checkLoopback(u); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// full reports whether this run measures everything the published report
// covers, so that a quick partial run never overwrites it by default.
func (o options) full() bool {
	return len(o.modes) == 2 && slices.Equal(o.concurrency, []int{16, 64}) &&
		len(o.scenarios) == len(scenarioOrder) && o.duration >= 10*time.Second && o.million >= 1_000_000
}

// runs reports whether scenario s is selected.
func (o options) runs(s string) bool { return slices.Contains(o.scenarios, s) }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		return "", errors.New("run loadbench inside the tollgate repository (go run ./bench/cmd/loadbench)")
	}
	return filepath.Dir(gomod), nil
}

func lookup(environ []string) func(string) string {
	return func(key string) string {
		for _, kv := range slices.Backward(environ) {
			if k, v, ok := strings.Cut(kv, "="); ok && k == key {
				return v
			}
		}
		return ""
	}
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
