package console

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/tollgate/tollgate/server/metrics"
)

// Stats keeps the last hour of this node's metrics for the overview's
// charts: a snapshot every Every (10 s), in a ring of an hour's worth. It
// reads the metrics the server already keeps (package metrics), so the
// charts and /metrics never disagree.
type Stats struct {
	opts StatsOptions
	mu   sync.Mutex
	ring []sample
}

// StatsOptions configure Stats.
type StatsOptions struct {
	// Metrics are the server's metrics.
	Metrics *metrics.Metrics
	// Nodes counts the nodes serving (nil: this one alone). The server
	// counts the nodes on the revocation roster with a running lease.
	Nodes func(ctx context.Context) (int, error)
	// Every is the sampling period (0: 10 s); Window how long samples are
	// kept (0: one hour).
	Every, Window time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// sample is one snapshot.
type sample struct {
	at    time.Time
	snap  metrics.Snapshot
	nodes int
}

// NewStats builds a Stats; Run fills it.
func NewStats(o StatsOptions) *Stats {
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Stats{opts: o}
}

// Run samples now and every Every until ctx is done.
func (s *Stats) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Every)
	defer t.Stop()
	for {
		s.Sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sample takes one snapshot.
func (s *Stats) Sample(ctx context.Context) {
	snap, err := s.opts.Metrics.Snapshot()
	if err != nil {
		s.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "console: reading the metrics", slog.String("error", err.Error()))
		return
	}
	nodes := 1
	if s.opts.Nodes != nil {
		n, err := s.opts.Nodes(ctx)
		if err != nil {
			s.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "console: counting nodes", slog.String("error", err.Error()))
			n = -1
		}
		nodes = n
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ring = append(s.ring, sample{at: now, snap: snap, nodes: nodes})
	// One more than the window holds: the oldest is the first difference's
	// base.
	keep := int(s.opts.Window/s.opts.Every) + 1
	if len(s.ring) > keep {
		s.ring = slices.Delete(s.ring, 0, len(s.ring)-keep)
	}
}

// minSpan is the shortest span a chart shows.
const minSpan = 5 * time.Minute

// point is one value at one time.
type point struct {
	at time.Time
	v  float64
}

// series are the overview's lines, from differences between samples.
type series struct {
	requests, p99, revocations, nodes []point
	errors                            map[string][]point
	from, to                          time.Time
}

// series derives the charts' lines: request and error rates (per
// second), p99 latency (ms) of the token endpoint in each interval (gaps
// where there were no requests), the revocation set size and the node
// count.
func (s *Stats) series() series {
	s.mu.Lock()
	ring := slices.Clone(s.ring)
	s.mu.Unlock()
	now := s.opts.Now()
	// The charts span the window, or the time since the first sample (at
	// least minSpan) on a node that started more recently.
	from := now.Add(-s.opts.Window)
	if len(ring) > 0 && ring[0].at.After(from) {
		from = minTime(ring[0].at, now.Add(-minSpan))
	}
	out := series{errors: map[string][]point{}, from: from, to: now}
	for i, cur := range ring {
		if cur.snap.RevocationSetSize >= 0 {
			out.revocations = append(out.revocations, point{cur.at, cur.snap.RevocationSetSize})
		}
		if cur.nodes >= 0 {
			out.nodes = append(out.nodes, point{cur.at, float64(cur.nodes)})
		}
		if i == 0 {
			continue
		}
		prev := ring[i-1]
		dt := cur.at.Sub(prev.at).Seconds()
		if dt <= 0 {
			continue
		}
		// A counter that went down means the process restarted: no rate.
		dreq := cur.snap.TokenRequests - prev.snap.TokenRequests
		if dreq < 0 {
			continue
		}
		out.requests = append(out.requests, point{cur.at, dreq / dt})
		for code, v := range cur.snap.TokenErrors {
			if d := v - prev.snap.TokenErrors[code]; d > 0 {
				out.errors[code] = append(out.errors[code], point{cur.at, d / dt})
			}
		}
		if q, ok := quantile(0.99, prev.snap.TokenLatency, cur.snap.TokenLatency); ok {
			out.p99 = append(out.p99, point{cur.at, q * 1000})
		}
	}
	// Codes with no error in an interval are 0 there, not missing.
	for code, pts := range out.errors {
		out.errors[code] = fillZeros(pts, out.requests)
	}
	return out
}

// fillZeros gives a sparse line a point (0) at every time of base.
func fillZeros(pts, base []point) []point {
	out := make([]point, 0, len(base))
	j := 0
	for _, b := range base {
		v := 0.0
		if j < len(pts) && pts[j].at.Equal(b.at) {
			v = pts[j].v
			j++
		}
		out = append(out, point{b.at, v})
	}
	return out
}

// quantile estimates the q-quantile of the observations between two
// cumulative histograms, interpolating inside the bucket as Prometheus'
// histogram_quantile does. ok is false when there were none.
func quantile(q float64, prev, cur []metrics.Bucket) (float64, bool) {
	if len(cur) == 0 {
		return 0, false
	}
	counts := make([]float64, len(cur))
	for i, b := range cur {
		counts[i] = b.Count
		if i < len(prev) {
			counts[i] -= prev[i].Count
		}
	}
	total := counts[len(counts)-1]
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, b := range cur {
		if counts[i] >= rank {
			if math.IsInf(b.UpperBound, 1) {
				return lower, true // beyond the last bound: its lower edge
			}
			in := counts[i] - below
			if in <= 0 {
				return b.UpperBound, true
			}
			return lower + (b.UpperBound-lower)*(rank-below)/in, true
		}
		lower, below = b.UpperBound, counts[i]
	}
	return lower, true
}
