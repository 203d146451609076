package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// soak is one run: its directory, the processes it started, and what
// must be undone.
type soak struct {
	o       options
	environ []string
	log     *logger
	dir     string
	redis   *privateRedis
	pg      *privatePostgres
	nodes   []*node
	cli     tollgateCLI
	fx      *fixtures
}

// run sets everything up, drives the load and the restarts, checks, and
// tears everything down, whatever happened. The result is nil only when
// the load never started.
func (s *soak) run(ctx context.Context) (res *result, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.duration+maxRun)
	defer cancel()
	defer func() { err = errors.Join(err, s.teardown()) }()
	res = &result{o: s.o, env: describeMachine(ctx, s.environ)}
	if err := s.setup(ctx, res); err != nil {
		return nil, err
	}
	err = s.drive(ctx, res)
	if ctx.Err() != nil {
		res.interrupted = true
	}
	return res, err
}

// setup makes the directory, starts Redis and PostgreSQL, builds and
// migrates, creates the fixtures and starts the nodes.
func (s *soak) setup(ctx context.Context, res *result) error {
	dir, err := os.MkdirTemp("", "tollgate-soak-")
	if err != nil {
		return err
	}
	s.dir = dir
	// The postgres OS user must reach its directory inside.
	if err := os.Chmod(dir, 0o711); err != nil {
		return err
	}
	bin := s.o.tollgateBin
	if bin == "" {
		s.log.printf("building ./cmd/tollgate")
		if bin, err = buildTollgate(ctx, dir, s.environ); err != nil {
			return err
		}
	}
	if s.redis, err = startRedis(ctx, filepath.Join(dir, "redis"), s.environ); err != nil {
		return err
	}
	s.log.printf("Redis (AOF on) on 127.0.0.1:%d", s.redis.port)
	if s.pg, err = startPostgres(ctx, s.o.pgBin, filepath.Join(dir, "postgres"), s.environ); err != nil {
		return err
	}
	s.log.printf("PostgreSQL on 127.0.0.1:%d, database %s", s.pg.port, dbName)
	env := map[string]string{
		"TOLLGATE_DATABASE_URL":     s.pg.url(),
		"TOLLGATE_REDIS_URL":        s.redis.url(),
		"TOLLGATE_MASTER_KEY":       masterKey(),
		"TOLLGATE_ACCESS_TOKEN_TTL": accessTTL.String(),
		// The load logs its 4 users in far more often than people do.
		"TOLLGATE_RATE_LIMIT_LOGIN": "0",
	}
	s.cli = tollgateCLI{bin: bin, env: childEnv(s.environ, env)}
	if _, err := s.cli.run(ctx, "", "migrate"); err != nil {
		return err
	}
	if s.fx, err = createFixtures(ctx, s.cli); err != nil {
		return fmt.Errorf("creating clients, users and the API key with the CLI: %w", err)
	}
	s.nodes, err = startNodes(ctx, bin, dir, s.environ, env, s.o.staggered)
	if err != nil {
		return err
	}
	res.env.tollgate = tollgateVersion(ctx, s.cli)
	res.env.postgres, res.env.redis = s.pg.version(ctx), redisVersion(ctx, s.environ)
	for _, n := range s.nodes {
		s.log.printf("%s (pid %d) ready at %s", n.name, n.proc.pid(), n.base)
	}
	return nil
}

// accessTTL outlives the run, so that an inactive answer can only mean
// revoked (or the fail-closed rule), never expired.
const accessTTL = 3 * time.Hour

// drive runs the load and the restarts, then the final checks.
func (s *soak) drive(ctx context.Context, res *result) error {
	win := newWindows(s.o.grace)
	l := &load{
		api: newAPI(s.nodes, s.o.workers), fx: s.fx, pools: newPools(4096, s.o.revokedCap),
		rec: newRecorder(win), win: win, ctx: ctx,
	}
	defer l.api.close()
	if s.o.rate > 0 {
		l.lim = rate.NewLimiter(rate.Limit(s.o.rate), s.o.workers)
	}
	f := &faults{o: s.o, win: win, redis: s.redis, pg: s.pg, nodes: s.nodes, log: s.log}
	res.kidsStart = publishedKids(ctx, l.api)
	start := time.Now()
	res.start = start
	s.log.start = start
	loadCtx, stopLoad := context.WithTimeout(ctx, s.o.duration)
	defer stopLoad()
	var wg sync.WaitGroup
	var faultErr error
	wg.Go(func() {
		if faultErr = f.run(ctx, loadCtx, start); faultErr != nil && ctx.Err() == nil {
			s.log.printf("FAIL: %v; ending the load", faultErr)
			stopLoad()
		}
	})
	wg.Go(func() { progress(loadCtx, s.log, l, 10*time.Second) })
	l.runLoad(loadCtx, s.o.workers)
	res.loadTime = time.Since(start)
	wg.Wait()
	s.log.printf("load over after %s; final checks", res.loadTime.Round(time.Second))
	res.tally, res.outages = l.rec.snapshot(), win.snapshot()
	res.finalReady = allReady(ctx, s.nodes, s.o.recoverMax)
	res.final = finalCheck(ctx, l, s.o.workers)
	_, res.revoked = l.pools.counts()
	res.capReached = l.pools.capReachedAt()
	res.rss = nodeMemory(s.nodes)
	res.kidsEnd = publishedKids(ctx, l.api)
	res.loadEnd = loadAverage()
	return faultErr
}

// teardown stops every node, PostgreSQL and Redis, and removes the
// directory unless -keep. It runs on every path, with a context of its own.
func (s *soak) teardown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	errs = append(errs, stopNodes(s.nodes))
	if s.pg != nil {
		errs = append(errs, s.pg.stop(ctx))
	}
	errs = append(errs, s.redis.stop())
	if s.dir != "" {
		if s.o.keep {
			s.log.printf("kept %s (node logs, PostgreSQL and Redis data)", s.dir)
		} else {
			errs = append(errs, os.RemoveAll(s.dir))
		}
	}
	return errors.Join(errs...)
}

// tollgateVersion returns what tollgate version prints.
func tollgateVersion(ctx context.Context, c tollgateCLI) string {
	out, err := c.run(ctx, "", "version")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
