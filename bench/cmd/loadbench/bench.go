package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate/bench/internal/ceiling"
)

// stopTimeout is how long a server may take to shut down: Tollgate's own
// shutdown timeout (15 s by default) and a little more.
const stopTimeout = 20 * time.Second

// bench is one benchmark run: its options, its temporary directory, the
// binaries it built and the reference server.
type bench struct {
	o           options
	environ     []string
	log         io.Writer
	tmp         string
	bin         string // tollgate
	ceiling     *process
	ceilingBase string
	checks      map[int]testing.BenchmarkResult // -scale: revocation checks by set size
}

func newBench(o options, environ []string, stderr io.Writer) (*bench, error) {
	tmp, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return nil, err
	}
	return &bench{o: o, environ: environ, log: stderr, tmp: tmp}, nil
}

// close stops the reference server and removes the temporary directory.
func (b *bench) close() {
	if b.ceiling != nil {
		if err := b.ceiling.stop(stopTimeout); err != nil {
			b.logf("%v", err)
		}
	}
	if err := os.RemoveAll(b.tmp); err != nil {
		b.logf("removing %s: %v", b.tmp, err)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "loadbench: "+format+"\n", args...)
}

// run builds, starts the reference server and measures every mode.
func (b *bench) run(ctx context.Context) (*report, error) {
	if err := b.build(ctx); err != nil {
		return nil, err
	}
	rep := &report{Date: time.Now().UTC(), Duration: b.o.duration, Warmup: b.o.warmup}
	rep.Env = describeEnvironment(ctx, b.o, b.bin)
	if err := b.startCeiling(ctx); err != nil {
		return nil, err
	}
	for _, m := range b.o.modes {
		if err := b.runMode(ctx, m, rep); err != nil {
			return nil, fmt.Errorf("%s: %w", modeTitle(m), err)
		}
	}
	return rep, nil
}

// build compiles tollgate (unless -tollgate-bin) and the ceiling server.
func (b *bench) build(ctx context.Context) error {
	env := childEnv(b.environ, nil)
	b.bin = b.o.tollgateBin
	if b.bin == "" {
		b.bin = filepath.Join(b.tmp, "tollgate")
		b.logf("building ./cmd/tollgate")
		if _, err := runCommand(ctx, b.o.root, env, "", "go", "build", "-o", b.bin, "./cmd/tollgate"); err != nil {
			return err
		}
	}
	b.logf("building ./bench/cmd/ceiling, the reference server")
	_, err := runCommand(ctx, b.o.root, env, "", "go", "build", "-o", filepath.Join(b.tmp, "ceiling"), "./bench/cmd/ceiling")
	return err
}

func (b *bench) startCeiling(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := startProcess("ceiling", []string{filepath.Join(b.tmp, "ceiling"), "-addr", addr}, b.tmp, childEnv(b.environ, nil), filepath.Join(b.tmp, "ceiling.log"))
	if err != nil {
		return err
	}
	b.ceiling, b.ceilingBase = p, "http://"+addr
	// The ceiling serves only its token endpoint: a GET answers 405 until
	// it listens, then readiness is checked by one real request.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := newAPI(b.ceilingBase).clientCredentials(ctx, credentials{ID: ceiling.ClientID, Secret: ceiling.ClientSecret}); err == nil {
			return nil
		} else if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the ceiling server did not answer: %w; its log: %s", err, p.logTail(10))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runMode measures one storage mode and, on PostgreSQL + Redis, the RSS
// after a million tokens.
func (b *bench) runMode(ctx context.Context, mode string, rep *report) (err error) {
	s, err := b.prepare(ctx, mode)
	defer func() { err = errors.Join(err, s.cleanup(context.WithoutCancel(ctx))) }()
	if err != nil {
		return err
	}
	in, err := b.startInstance(ctx, s, "tollgate")
	if err != nil {
		return err
	}
	if in.apiKeyMissing != "" && b.o.runs(scAPIKey) {
		b.logf("[%s] API-key exchange: not available: %s", mode, in.apiKeyMissing)
	}
	for _, c := range b.o.concurrency {
		if err := b.measureAll(ctx, in, c, rep); err != nil {
			return errors.Join(err, in.proc.stop(stopTimeout))
		}
	}
	if err := in.proc.stop(stopTimeout); err != nil {
		return err
	}
	if mode == modePostgres && b.o.million > 0 {
		rep.Million, err = b.million(ctx, s)
	}
	return err
}

// measureAll runs every selected scenario at concurrency c.
func (b *bench) measureAll(ctx context.Context, in *instance, c int, rep *report) error {
	for _, s := range scenarioOrder {
		if !b.o.runs(s) {
			continue
		}
		r, err := b.measure(ctx, in, s, c)
		if err != nil {
			return fmt.Errorf("%s at %d: %w", s, c, err)
		}
		rep.Rows = append(rep.Rows, r)
	}
	if in.mode == modePostgres && b.o.wrk {
		rows, err := b.crossCheck(ctx, in, c)
		if err != nil {
			return fmt.Errorf("wrk cross-check at %d: %w", c, err)
		}
		rep.Wrk = append(rep.Wrk, rows...)
	}
	return nil
}

// measure warms scenario s up and measures it at concurrency c.
func (b *bench) measure(ctx context.Context, in *instance, s string, c int) (row, error) {
	if s == scAPIKey && in.apiKeyMissing != "" {
		return row{Mode: in.mode, Scenario: s, Concurrency: c, Generator: genVegeta, Skip: in.apiKeyMissing}, nil
	}
	return b.retry(in.mode, s, c, func() (row, error) { return b.measureOnce(ctx, in, s, c) })
}

func (b *bench) measureOnce(ctx context.Context, in *instance, s string, c int) (row, error) {
	r := row{Mode: in.mode, Scenario: s, Concurrency: c, Generator: genVegeta}
	p, err := in.plan(ctx, s, c)
	if err != nil {
		return r, err
	}
	b.waitQuiet(ctx, b.ours(ctx, in, s))
	b.logf("[%s] %s, %d workers: %s warm-up, %s measured", in.mode, s, c, b.o.warmup, b.o.duration)
	if b.o.warmup > 0 {
		closedLoop(ctx, p, c, b.o.warmup, 0, nil)
	}
	ours := b.ours(ctx, in, s) // after the warm-up has opened the database connections
	r.Background = backgroundDuring(ours, func() { r.measurement = closedLoop(ctx, p, c, b.o.duration, 0, nil) })
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if mem, err := readMemory(ours[0]); err == nil {
		r.RSS = mem.RSS
	}
	b.logf("[%s] %s, %d workers: %s", in.mode, s, c, r.summaryLine())
	if r.Example != "" {
		b.logf("[%s] %s: first failure: %s", in.mode, s, r.Example)
	}
	return r, nil
}

// retry measures again, at most o.retries times, while other processes
// took quietShare or more of the CPU during the measurement, and keeps the
// measurement they disturbed least.
func (b *bench) retry(mode, s string, c int, once func() (row, error)) (row, error) {
	var best row
	for attempt := 0; ; attempt++ {
		r, err := once()
		if err != nil {
			return r, err
		}
		if attempt == 0 || r.Background < best.Background {
			best = r
		}
		if best.Background < quietShare || attempt >= b.o.retries {
			return best, nil
		}
		b.logf("[%s] %s, %d: other processes used %.0f %% of the CPU; measuring again", mode, s, c, r.Background*100)
	}
}

// million issues up to o.million client_credentials tokens from a freshly
// started server on the same database and reports its memory before and
// after.
func (b *bench) million(ctx context.Context, s *setup) (*millionResult, error) {
	in, err := b.startInstance(ctx, s, "tollgate-million")
	if err != nil {
		return nil, err
	}
	c := b.o.concurrency[len(b.o.concurrency)-1]
	res := &millionResult{Target: b.o.million, Concurrency: c, Limit: b.o.millionTimeout}
	res.Before, _ = readMemory(in.proc.pid())
	p, err := in.plan(ctx, scClientCreds, c)
	if err != nil {
		return nil, errors.Join(err, in.proc.stop(stopTimeout))
	}
	b.logf("[%s] issuing %d client_credentials tokens (at most %s)", s.mode, b.o.million, b.o.millionTimeout)
	progress := func(ok int, el time.Duration) {
		b.logf("[%s]   %d tokens issued in %s (%.0f/s)", s.mode, ok, el.Round(time.Second), float64(ok)/el.Seconds())
	}
	b.waitQuiet(ctx, b.ours(ctx, in, scClientCreds))
	res.Background = backgroundDuring(b.ours(ctx, in, scClientCreds), func() {
		res.measurement = closedLoop(ctx, p, c, b.o.millionTimeout, b.o.million, progress)
	})
	res.After, _ = readMemory(in.proc.pid())
	b.logf("[%s] %d tokens issued in %s; RSS %s before, %s after, peak %s", s.mode, res.OK, res.Elapsed.Round(time.Second),
		mb(res.Before.RSS), mb(res.After.RSS), mb(res.After.Peak))
	return res, errors.Join(ctx.Err(), in.proc.stop(stopTimeout))
}

// ours lists the processes under test in scenario s, the server first: on
// PostgreSQL + Redis also the database's backends and Redis (which other
// programs on the machine may use too).
func (b *bench) ours(ctx context.Context, in *instance, s string) []int {
	if s == scCeiling {
		return []int{b.ceiling.pid()}
	}
	pids := []int{in.proc.pid()}
	if db := in.setup.db; db != nil {
		if bp, err := backendPIDs(ctx, db.adminURL, db.name); err == nil {
			pids = append(pids, bp...)
		}
		if rp, err := redisPID(ctx, b.o.redisURL); err == nil {
			pids = append(pids, rp)
		}
	}
	return pids
}
