package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	t.Parallel()
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 123456789, 30e9, 1 << 40} {
		i := bucketOf(v)
		if lo, hi := bucketLow(i), bucketLow(i+1); v < lo || v >= hi {
			t.Errorf("value %d in bucket %d = [%d, %d)", v, i, lo, hi)
		}
		if i >= histBuckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
	}
}

func TestQuantileWithinPrecision(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	vals := make([]time.Duration, 100000)
	for i := range vals {
		// Latency-like: mostly around a millisecond, a long tail.
		vals[i] = time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		h.add(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.quantile(q)
		if d := float64(got-want) / float64(want); d > 0.02 || d < -0.02 {
			t.Errorf("q%.3f = %s, want %s (±2 %%)", q, got, want)
		}
	}
	if h.quantile(1) > vals[len(vals)-1] {
		t.Error("the maximum quantile exceeds the largest value")
	}
	var empty histogram
	if empty.quantile(0.99) != 0 {
		t.Error("empty histogram has a quantile")
	}
}
