package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a quantile is within 1/64 (1.6 %) of the true value.
const subBits = 6

// histBuckets covers every non-negative int64 nanosecond count.
const histBuckets = (64 - subBits) << subBits

// histogram counts durations in logarithmic buckets: bounded memory
// however long the run.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

// bucketOf returns the bucket of v nanoseconds: values below 2^subBits
// have one bucket each; above, the top subBits+1 bits of v select it.
func bucketOf(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	n := bits.Len64(uint64(v))
	shift := n - subBits - 1
	return (shift+1)<<subBits + int(v>>shift) - 1<<subBits
}

// bucketLow returns the smallest value in bucket i.
func bucketLow(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	shift := i>>subBits - 1
	m := int64(i&(1<<subBits-1) | 1<<subBits)
	return m << shift
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucketOf(int64(d))]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the q-quantile (0 < q <= 1): the middle of the bucket
// holding the value of rank ceil(q·n), never above the maximum seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketLow(i), bucketLow(i+1)
			if hi <= lo { // the last bucket's end overflows
				hi = lo
			}
			return min(time.Duration(lo+(hi-lo)/2), h.max)
		}
	}
	return h.max
}
