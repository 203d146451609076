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
	found := gogcNow()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		cur := found
		t := time.NewTicker(gcPaceEvery)
		defer t.Stop()
		for {
			metrics.Read(live)
			if live[0].Value.Kind() == metrics.KindUint64 {
				// Only a change of more than a tenth is worth the call,
				// which takes the heap lock.
				if p := gcPercent(live[0].Value.Uint64()); 10*abs(p-cur) > cur {
					debug.SetGCPercent(p)
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
		debug.SetGCPercent(found)
	}
}

// gogcNow is the collector's GOGC in effect.
func gogcNow() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
