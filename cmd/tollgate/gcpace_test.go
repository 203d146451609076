package main

import (
	"context"
	"io"
	"log/slog"
	"runtime/debug"
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

// TestPaceGC: serve raises GOGC while the live heap is small, puts back
// what it found when it stops, and leaves an operator's GOGC alone. Not
// parallel: GOGC belongs to the process.
func TestPaceGC(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	t.Run("GOGC set", func(t *testing.T) {
		stop := paceGC(context.Background(), "100", log)
		time.Sleep(50 * time.Millisecond)
		if got := gogcNow(); got != 100 {
			t.Fatalf("GOGC = %d with GOGC=100 in the environment, want 100", got)
		}
		stop()
	})
	t.Run("GOGC unset", func(t *testing.T) {
		stop := paceGC(context.Background(), "", log)
		// The test binary's live heap is far below the headroom, and the
		// first reading is taken at once.
		deadline := time.Now().Add(2 * time.Second)
		for gogcNow() <= 100 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		raised := gogcNow()
		stop()
		if raised <= 100 || raised > gcMaxPercent {
			t.Fatalf("GOGC = %d while the live heap is small, want 101–%d", raised, gcMaxPercent)
		}
		if got := gogcNow(); got != 100 {
			t.Fatalf("GOGC = %d after stop, want the 100 it found", got)
		}
	})
}
