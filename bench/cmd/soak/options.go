package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"
)

// options are the command line.
type options struct {
	duration    time.Duration // load time
	workers     int           // concurrent closed-loop workers
	rate        int           // requests per second over all workers; 0: as fast as they go
	down        time.Duration // how long each store stays stopped
	grace       time.Duration // after a store is back, 503s are still allowed this long
	recoverMax  time.Duration // a store not recovered within this long after its start fails the run
	redisAt     float64       // Redis is stopped at this fraction of the duration
	postgresAt  float64       // PostgreSQL likewise
	tollgateBin string        // prebuilt binary; empty: build ./cmd/tollgate
	pgBin       string        // directory of initdb and pg_ctl; empty: the newest /usr/lib/postgresql/*/bin
	revokedCap  int           // revoked tokens remembered (and checked at the end) at most
	keep        bool          // keep the temporary directory (logs, data) for inspection
	staggered   bool          // start node1 alone first (a diagnostic, see docs/SOAK.md)
}

// maxRun bounds the whole run beyond the load time: setup, the final
// check and teardown.
const maxRun = 10 * time.Minute

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "load time")
	fs.IntVar(&o.workers, "workers", 16, "concurrent workers (closed loop, requests spread round-robin over the three nodes)")
	fs.IntVar(&o.rate, "rate", 0, "requests per second over all workers; 0: as fast as the workers go")
	fs.DurationVar(&o.down, "down", 10*time.Second, "how long Redis and PostgreSQL each stay stopped")
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "503 is still accepted this long after a store is back (every node ready again)")
	fs.DurationVar(&o.recoverMax, "recover-max", 2*time.Minute, "a store whose nodes are not all ready again within this long after its start fails the run")
	fs.Float64Var(&o.redisAt, "redis-at", 0.3, "stop Redis at this fraction of -duration")
	fs.Float64Var(&o.postgresAt, "postgres-at", 0.6, "stop PostgreSQL at this fraction of -duration")
	fs.StringVar(&o.tollgateBin, "tollgate", "", "use this tollgate binary instead of building ./cmd/tollgate")
	fs.StringVar(&o.pgBin, "pg-bin", "", "directory holding initdb and pg_ctl (default: the newest /usr/lib/postgresql/*/bin, else $PATH)")
	fs.IntVar(&o.revokedCap, "revoked-cap", 60000, "revoked tokens remembered and checked on every node at the end, at most; once reached, nothing more is revoked (the report says when)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (node logs, PostgreSQL and Redis data) and print its path")
	fs.BoolVar(&o.staggered, "staggered-start", false, "diagnostic: start node1 alone and the other two once it is ready, instead of all three at once as a deployment does (see docs/SOAK.md)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.validate(); err != nil {
		return o, err
	}
	if o.pgBin == "" {
		o.pgBin = findPGBin()
	}
	return o, nil
}

// validate lists every problem with the options.
func (o options) validate() error {
	var errs []error
	if o.duration < time.Minute || o.duration > 2*time.Hour {
		errs = append(errs, errors.New("-duration must be between 1m and 2h"))
	}
	if o.workers < 1 || o.workers > 256 {
		errs = append(errs, errors.New("-workers must be between 1 and 256"))
	}
	if o.rate < 0 {
		errs = append(errs, errors.New("-rate must not be negative"))
	}
	if o.down < time.Second || o.grace < 0 || o.recoverMax < 10*time.Second {
		errs = append(errs, errors.New("-down must be at least 1s, -grace not negative, -recover-max at least 10s"))
	}
	if o.revokedCap < 100 {
		errs = append(errs, errors.New("-revoked-cap must be at least 100"))
	}
	errs = append(errs, o.validateSchedule())
	return errors.Join(errs...)
}

// validateSchedule keeps the two outages apart and inside the load.
func (o options) validateSchedule() error {
	if o.redisAt <= 0 || o.postgresAt <= 0 || o.redisAt >= 1 || o.postgresAt >= 1 {
		return errors.New("-redis-at and -postgres-at must be between 0 and 1")
	}
	first, second := min(o.redisAt, o.postgresAt), max(o.redisAt, o.postgresAt)
	gap := time.Duration((second - first) * float64(o.duration))
	tail := time.Duration((1 - second) * float64(o.duration))
	if need := o.down + o.grace + 20*time.Second; gap < need || tail < need {
		return fmt.Errorf("the outages need %s between them and before the end of the load (-down + -grace + 20s): "+
			"lengthen -duration or move -redis-at and -postgres-at", need)
	}
	return nil
}

// findPGBin returns the newest /usr/lib/postgresql/N/bin holding pg_ctl,
// or "" to look in $PATH.
func findPGBin() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	best, bestV := "", -1
	for _, m := range matches {
		var v int
		if _, err := fmt.Sscanf(filepath.Base(filepath.Dir(filepath.Dir(m))), "%d", &v); err == nil && v > bestV {
			best, bestV = filepath.Dir(m), v
		}
	}
	return best
}
