package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector's pacing for serve. A token server's live heap is small
// (a few MiB: keys, caches, the revocation set) and every request
// allocates about 13 KB, so with Go's default GOGC=100 it collects every
// few hundred requests, and the collector's fixed costs come to a sixth of
// a client_credentials request (docs/BENCHMARKS.md). serve lets the heap
// grow by gcHeadroom past what is live instead; once the live heap is
// large (gcHeadroom or more) GOGC is 100 as usual, so a large revocation
// set does not double the memory it takes.
const (
	gcHeadroom   = 32 << 20
	gcMaxPercent = 800
	gcPaceEvery  = time.Second
)

// gcPercent is the GOGC value that lets a heap whose live part is live
// bytes grow by gcHeadroom: never under 100, never over gcMaxPercent.
func gcPercent(live uint64) int {
	if live == 0 {
		return gcMaxPercent
	}
	return int(min(max(gcHeadroom*100/live, 100), gcMaxPercent))
}

// paceGC sets GOGC from the live heap every gcPaceEvery until stop is
// called, which puts back the value it found. An operator's own GOGC (gogc
// is its value, "" when unset) is left alone.
func paceGC(ctx context.Context, gogc string, log *slog.Logger) (stop func()) {
	if gogc != "" {
		log.LogAttrs(ctx, slog.LevelDebug, "GOGC is set: the collector is paced as it says", slog.String("gogc", gogc))
		return func() {}
	}
	return pace(ctx, gcRuntime{}, gcPaceEvery)
}

// gcKnob is what pace reads and turns: the process's collector, or a
// test's stand-in (GOGC belongs to the whole process, which parallel tests
// share).
type gcKnob interface {
	live() (uint64, bool)
	percent() int
	setPercent(int)
}

type gcRuntime struct{}

func (gcRuntime) live() (uint64, bool) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return s[0].Value.Uint64(), true
}

func (gcRuntime) percent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func (gcRuntime) setPercent(p int) { debug.SetGCPercent(p) }

// pace is paceGC's loop over k, reading every every.
func pace(ctx context.Context, k gcKnob, every time.Duration) (stop func()) {
	found := k.percent()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cur := found
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			// Only a change of more than a tenth is worth the call, which
			// takes the heap lock.
			if live, ok := k.live(); ok {
				if p := gcPercent(live); 10*abs(p-cur) > cur {
					k.setPercent(p)
					cur = p
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
		k.setPercent(found)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
