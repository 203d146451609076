package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"before the first collection", 0, gcMaxPercent},
		{"tiny heap: capped", 1 << 20, gcMaxPercent},
		{"8 MiB live: 32 MiB of headroom", 8 << 20, 400},
		{"16 MiB live", 16 << 20, 200},
		{"live heap as large as the headroom: the default", gcHeadroom, 100},
		{"large live heap: never under the default", 200 << 20, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := gcPercent(tc.live); got != tc.want {
				t.Fatalf("gcPercent(%d) = %d, want %d", tc.live, got, tc.want)
			}
		})
	}
}

// knob is a collector whose live heap the test sets.
type knob struct {
	mu   sync.Mutex
	heap uint64
	gogc int
	sets []int
}

func (k *knob) live() (uint64, bool) { k.mu.Lock(); defer k.mu.Unlock(); return k.heap, true }
func (k *knob) percent() int         { k.mu.Lock(); defer k.mu.Unlock(); return k.gogc }
func (k *knob) setPercent(p int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gogc = p
	k.sets = append(k.sets, p)
}

func (k *knob) waitFor(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for k.percent() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC = %d, want %d", k.percent(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPaceGC: GOGC follows the live heap, small changes are not applied,
// and stop puts back what pacing found.
func TestPaceGC(t *testing.T) {
	t.Parallel()
	k := &knob{heap: 8 << 20, gogc: 100}
	stop := pace(context.Background(), k, time.Millisecond)
	k.waitFor(t, 400)
	k.mu.Lock()
	k.heap = 8<<20 + 1<<18 // 8.25 MiB: 387, within a tenth of 400
	k.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	if got := k.percent(); got != 400 {
		t.Fatalf("GOGC = %d after a small change of the live heap, want 400 kept", got)
	}
	k.mu.Lock()
	k.heap = 64 << 20
	k.mu.Unlock()
	k.waitFor(t, 100)
	stop()
	if got := k.percent(); got != 100 {
		t.Fatalf("GOGC = %d after stop, want the 100 it found", got)
	}
}

// TestPaceGCLeavesGOGCAlone: with GOGC in the environment serve does not
// touch the collector.
func TestPaceGCLeavesGOGCAlone(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	before := gcRuntime{}.percent()
	stop := paceGC(context.Background(), "100", log)
	stop()
	if got := (gcRuntime{}).percent(); got != before {
		t.Fatalf("GOGC = %d after pacing with GOGC set, want %d untouched", got, before)
	}
}
