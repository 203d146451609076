package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/secret"
)

// scalePoint is one step of one curve.
type scalePoint struct {
	N int
	measurement
	RSS        int64
	Ready      time.Duration // process start to /readyz answering 200
	Seed       time.Duration // seeding this step's new rows
	FirstP50   time.Duration // apikeys: first exchange of a key not yet cached
	FirstMax   time.Duration
	CheckNs    float64 // revocations: in-process revocation check
	CheckAlloc int64
	Background float64
}

// scaleCurve is one curve measured in one storage mode.
type scaleCurve struct {
	Mode, Curve string
	Points      []scalePoint
}

// scaleReport is everything one -scale run measured.
type scaleReport struct {
	Date   time.Time
	Env    environment
	Opts   scaleOptions
	Curves []scaleCurve
}

// scaleRun is one curve in one mode: its setup, the server it restarts at
// every step, the seeder and the fixtures the CLI created.
type scaleRun struct {
	b      *bench
	s      *setup
	curve  string
	sd     *seeder
	hasher *secret.Hasher
	in     *instance
	starts int
}

// runScale measures every selected curve in every mode and publishes the
// section and the plots.
func (b *bench) runScale(ctx context.Context, stdout io.Writer) error {
	if err := b.build(ctx); err != nil {
		return err
	}
	rep := &scaleReport{Date: time.Now().UTC(), Env: describeEnvironment(ctx, b.o, b.bin), Opts: b.o.scale}
	for _, curve := range curveOrder {
		if !slices.Contains(b.o.scale.curves, curve) {
			continue
		}
		for _, mode := range b.o.modes {
			c, err := b.scaleCurve(ctx, mode, curve)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", modeTitle(mode), curve, err)
			}
			rep.Curves = append(rep.Curves, c)
		}
	}
	return b.publishScale(rep, stdout)
}

// scaleCurve runs one curve on a fresh setup.
func (b *bench) scaleCurve(ctx context.Context, mode, curve string) (c scaleCurve, err error) {
	c = scaleCurve{Mode: mode, Curve: curve}
	s, err := b.prepareIn(ctx, mode, mode+"-"+curve)
	defer func() { err = errors.Join(err, s.cleanup(context.WithoutCancel(ctx))) }()
	if err != nil {
		return c, err
	}
	r, err := b.newScaleRun(ctx, s, curve)
	if err != nil {
		return c, err
	}
	defer r.sd.close()
	defer func() {
		if r.in != nil {
			err = errors.Join(err, r.in.proc.stop(stopTimeout))
		}
	}()
	steps := b.o.scale.steps(curve)
	b.logf("[%s] %s curve: steps %v", mode, curve, steps)
	switch curve {
	case curveClients:
		c.Points, err = r.clientCurve(ctx, steps)
	case curveAPIKeys:
		c.Points, err = r.apiKeyCurve(ctx, steps)
	case curveRevocations:
		c.Points, err = r.revocationCurve(ctx, steps)
	case curveSubscribers:
		c.Points, err = r.subscriberCurve(ctx, steps)
	}
	return c, err
}

// newScaleRun configures the setup for scale runs: a known master key (so
// that the seeder hashes as the server does), the embedded database at a
// known path, migrated, no rate limits that would refuse the benchmark's
// own traffic, and stream caps above the largest subscriber step.
func (b *bench) newScaleRun(ctx context.Context, s *setup, curve string) (*scaleRun, error) {
	if s.env["TOLLGATE_MASTER_KEY"] == "" {
		s.env["TOLLGATE_MASTER_KEY"] = masterKey()
	}
	if s.db == nil {
		s.env["TOLLGATE_DATABASE_URL"] = "sqlite:" + sqlitePath(s)
		if _, err := b.cli(s, nil).run(ctx, "", "migrate"); err != nil {
			return nil, err
		}
	}
	streams := strconv.Itoa(2 * fullSteps[curveSubscribers][len(fullSteps[curveSubscribers])-1])
	s.env["TOLLGATE_REVOCATION_STREAMS_PER_CLIENT"] = streams
	s.env["TOLLGATE_REVOCATION_STREAMS"] = streams
	s.env["TOLLGATE_RATE_LIMIT_REVOCATION"] = "0"
	master, err := config.DecodeMasterKey(s.env["TOLLGATE_MASTER_KEY"])
	if err != nil {
		return nil, err
	}
	hasher := secret.NewHasher(keys.Derive(master, keys.PurposeClientSecretPepper))
	sd, err := openSeeder(s, hasher, func(f string, a ...any) { b.logf("[%s] "+f, append([]any{s.mode}, a...)...) })
	if err != nil {
		return nil, err
	}
	return &scaleRun{b: b, s: s, curve: curve, sd: sd, hasher: hasher}, nil
}

func sqlitePath(s *setup) string { return filepath.Join(s.dir, "tollgate.db") }

// restart stops the server (if running) and starts it again, timing how
// long it takes to answer /readyz; the first start also creates the
// client_credentials and resource-server clients through the CLI.
func (r *scaleRun) restart(ctx context.Context) (time.Duration, error) {
	if r.in != nil {
		if err := r.in.proc.stop(stopTimeout); err != nil {
			return 0, err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	r.starts++
	name := fmt.Sprintf("tollgate-%s-%d", r.curve, r.starts)
	c := r.b.cli(r.s, map[string]string{"TOLLGATE_ADDR": addr})
	start := time.Now()
	p, err := startProcess(name, []string{r.b.bin, "serve"}, r.s.dir, c.env, filepath.Join(r.s.dir, name+".log"))
	if err != nil {
		return 0, err
	}
	prev := r.in
	r.in = &instance{setup: r.s, mode: r.s.mode, base: "http://" + addr, proc: p, api: newAPI("http://" + addr)}
	ready, err := pollReady(ctx, p, r.in.base+"/readyz", start, 2*time.Minute)
	if err != nil {
		return 0, err
	}
	r.b.logf("[%s] started %s (pid %d): ready after %s", r.s.mode, name, p.pid(), ready.Round(time.Millisecond))
	if prev != nil {
		r.in.cc, r.in.rs = prev.cc, prev.rs
		return ready, nil
	}
	if r.in.cc, err = c.createClient(ctx, "--name", "scale-cc", "--scopes", benchScope); err != nil {
		return 0, err
	}
	r.in.rs, err = c.createClient(ctx, "--name", "scale-rs", "--scopes", "tollgate:introspect")
	return ready, err
}

// pollReady polls url every 5 ms until it answers 200 and returns the
// time since start.
func pollReady(ctx context.Context, p *process, url string, start time.Time, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-p.done:
			return 0, fmt.Errorf("%s exited before it was ready (%v); its log ends with:\n%s", p.name, p.waitErr, p.logTail(20))
		case <-ctx.Done():
			return 0, fmt.Errorf("%s not ready at %s within %s: %w", p.name, url, timeout, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// load runs p for the step: a warm-up, then the measured closed loop,
// with the server's RSS right after.
func (r *scaleRun) load(ctx context.Context, p plan, pt *scalePoint, what string) {
	o := r.b.o.scale
	ours := r.b.ours(ctx, r.in, what)
	r.b.waitQuiet(ctx, ours)
	if o.warmup > 0 {
		closedLoop(ctx, p, o.conc, o.warmup, 0, nil)
	}
	// Like the scenarios: measured again (at most -retries times) while
	// other processes took quietShare or more of the CPU, keeping the least
	// disturbed measurement.
	for attempt := 0; ; attempt++ {
		ours = r.b.ours(ctx, r.in, what)
		var m measurement
		bg := backgroundDuring(ours, func() { m = closedLoop(ctx, p, o.conc, o.duration, 0, nil) })
		if attempt == 0 || bg < pt.Background {
			pt.measurement, pt.Background = m, bg
		}
		if pt.Background < quietShare || attempt >= r.b.o.retries || ctx.Err() != nil {
			break
		}
		r.b.logf("[%s] %s at %s: other processes used %.0f %% of the CPU; measuring again", r.s.mode, what, fmtInt(pt.N), bg*100)
	}
	if mem, err := readMemory(r.in.proc.pid()); err == nil {
		pt.RSS = mem.RSS
	}
	r.b.logf("[%s] %s at %s: %s req/s, p50 %s, p99 %s, %s, RSS %s, ready %s, other processes %.0f %% CPU", r.s.mode, what, fmtInt(pt.N),
		fmtInt(int(pt.RPS()+0.5)), fmtDur(pt.P50), fmtDur(pt.P99), fmtErrors(pt.measurement), mb(pt.RSS), fmtDur(pt.Ready), pt.Background*100)
	if pt.Example != "" {
		r.b.logf("[%s] %s: first failure: %s", r.s.mode, what, pt.Example)
	}
}
