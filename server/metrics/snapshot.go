package metrics

import (
	"math"

	dto "github.com/prometheus/client_model/go"
)

// Snapshot is the figures the admin console charts, read from the
// registry at one moment. Counters are cumulative since the process
// started; the reader takes differences between snapshots.
type Snapshot struct {
	// TokenRequests counts token endpoint requests; TokenErrors those that
	// failed, by OAuth error code.
	TokenRequests float64
	TokenErrors   map[string]float64
	// TokenLatency is the token route's latency histogram (every method
	// and status): cumulative counts per upper bound, ascending, the last
	// bound +Inf.
	TokenLatency []Bucket
	// RevocationSetSize is the revocation set's entries (-1: not known).
	RevocationSetSize float64
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// TokenRoute is the route label of the token endpoint.
const TokenRoute = "/oauth2/token"

// Snapshot reads the current figures.
func (m *Metrics) Snapshot() (Snapshot, error) {
	fams, err := m.reg.Gather()
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{TokenErrors: map[string]float64{}, RevocationSetSize: -1}
	for _, f := range fams {
		switch f.GetName() {
		case "tollgate_token_requests_total":
			for _, mt := range f.GetMetric() {
				v := mt.GetCounter().GetValue()
				s.TokenRequests += v
				if label(mt, "result") == "error" {
					s.TokenErrors[label(mt, "error")] += v
				}
			}
		case "tollgate_http_request_duration_seconds":
			s.TokenLatency = tokenLatency(f.GetMetric())
		case "tollgate_revocation_set_size":
			for _, mt := range f.GetMetric() {
				s.RevocationSetSize = mt.GetGauge().GetValue()
			}
		}
	}
	return s, nil
}

// tokenLatency sums the token route's histograms.
func tokenLatency(ms []*dto.Metric) []Bucket {
	var out []Bucket
	for _, mt := range ms {
		if label(mt, "route") != TokenRoute {
			continue
		}
		h := mt.GetHistogram()
		bs := h.GetBucket()
		if out == nil {
			out = make([]Bucket, len(bs)+1)
			for i, b := range bs {
				out[i].UpperBound = b.GetUpperBound()
			}
			out[len(bs)].UpperBound = math.Inf(1)
		}
		for i, b := range bs {
			if i < len(out)-1 {
				out[i].Count += float64(b.GetCumulativeCount())
			}
		}
		out[len(out)-1].Count += float64(h.GetSampleCount())
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
