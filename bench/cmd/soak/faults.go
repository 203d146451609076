package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// faults restarts Redis and PostgreSQL on schedule during the load and
// records the outage windows.
type faults struct {
	o     options
	win   *windows
	redis *privateRedis
	pg    *privatePostgres
	nodes []*node
	log   *logger
}

// run performs both restarts at their times after start, unless loadCtx
// ends first; a restart under way completes (within ctx) even if the load
// ends meanwhile. It fails when a store cannot be brought back.
func (f *faults) run(ctx, loadCtx context.Context, start time.Time) error {
	plan := []struct {
		at   time.Duration
		comp component
	}{
		{time.Duration(f.o.redisAt * float64(f.o.duration)), compRedis},
		{time.Duration(f.o.postgresAt * float64(f.o.duration)), compPostgres},
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].at < plan[j].at })
	for _, p := range plan {
		if !sleepCtx(loadCtx, time.Until(start.Add(p.at))) {
			return nil
		}
		if err := f.restart(ctx, p.comp); err != nil {
			return err
		}
	}
	return nil
}

// restart stops c, waits -down, starts it, and waits until every node is
// ready again.
func (f *faults) restart(ctx context.Context, c component) error {
	f.log.printf("stopping %s", c)
	f.win.stop(c, time.Now())
	if err := f.stopComp(ctx, c); err != nil {
		return fmt.Errorf("stopping %s: %w", c, err)
	}
	f.log.printf("%s stopped; starting it again in %s", c, f.o.down)
	if !sleepCtx(ctx, f.o.down) {
		return ctx.Err()
	}
	if err := f.startComp(ctx, c); err != nil {
		return fmt.Errorf("starting %s again: %w", c, err)
	}
	started := time.Now()
	f.win.start(c, started)
	f.log.printf("%s accepts connections again; waiting for every node to be ready", c)
	if !allReady(ctx, f.nodes, f.o.recoverMax) {
		f.win.timeout(c)
		f.log.printf("FAIL: not every node was ready within %s of %s's start", f.o.recoverMax, c)
		return nil
	}
	f.win.recover(c, time.Now())
	f.log.printf("every node ready %s after %s's start", time.Since(started).Round(time.Millisecond), c)
	return nil
}

func (f *faults) stopComp(ctx context.Context, c component) error {
	if c == compRedis {
		return f.redis.stop()
	}
	return f.pg.stop(ctx)
}

func (f *faults) startComp(ctx context.Context, c component) error {
	if c == compRedis {
		return f.redis.start(ctx)
	}
	return f.pg.start(ctx)
}

// allReady polls every node's /readyz every 100 ms until all answer 200 in
// one round, or timeout.
func allReady(ctx context.Context, nodes []*node, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	for {
		ok := true
		for _, n := range nodes {
			ok = ok && readyz(ctx, hc, n)
		}
		if ok {
			return true
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return false
		}
	}
}

// sleepCtx sleeps d; it reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
