// Package metrics holds Tollgate's Prometheus metrics. Labels never carry
// client IDs, usernames or tokens: only bounded sets (grant type, result,
// error code, route, status class).
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry of Tollgate's metrics.
type Metrics struct {
	reg *prometheus.Registry

	TokenRequests   *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	Throttled       *prometheus.CounterVec
	StoreErrors     *prometheus.CounterVec
	// RevocationStreams is the number of open revocation streams.
	RevocationStreams prometheus.Gauge
}

// New builds the metrics. The functions, where not nil, are read on each
// scrape for the revocation-set gauges.
func New(revocationSize func() int, revocationSynced func() bool, syncAge func() float64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.TokenRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_token_requests_total",
		Help: "Token endpoint requests by grant type, result (success or error) and OAuth error code.",
	}, []string{"grant_type", "result", "error"})
	m.RequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tollgate_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status class.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method", "status"})
	m.Throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_throttled_total",
		Help: "Requests refused to protect the service, by reason: 429 locked_out (after failed authentications), rate_limited, revocation_budget or stream_limit; 503 overloaded (no password-hashing slot within the login queue timeout).",
	}, []string{"reason"})
	m.StoreErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_store_errors_total",
		Help: "Requests that failed because a store (database or Redis) was unavailable or failed, or (kind canceled) because the caller left mid-request.",
	}, []string{"kind"})
	m.RevocationStreams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tollgate_revocation_streams", Help: "Open revocation streams (GET /oauth2/revocations/stream) on this node.",
	})
	m.reg.MustRegister(m.TokenRequests, m.RequestDuration, m.Throttled, m.StoreErrors, m.RevocationStreams,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if revocationSize != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tollgate_revocation_set_size", Help: "Entries in this node's in-memory revocation set.",
		}, func() float64 { return float64(revocationSize()) }))
	}
	if revocationSynced != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tollgate_revocation_synced", Help: "1 while this node's revocation set is complete, 0 while it resynchronises (it then answers inactive).",
		}, func() float64 {
			if revocationSynced() {
				return 1
			}
			return 0
		}))
	}
	if syncAge != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tollgate_revocation_sync_age_seconds", Help: "Seconds since this node last read the revocation store successfully.",
		}, syncAge))
	}
	return m
}

// BuildInfo names the running binary, for tollgate_build_info.
type BuildInfo struct {
	Version   string
	GoVersion string
	// Revision is the VCS commit the binary was built from, "" if unknown.
	Revision string
}

// RegisterBuildInfo adds the gauge tollgate_build_info, always 1, whose
// labels say which build is running (the Prometheus convention for build
// facts). Call it once.
func (m *Metrics) RegisterBuildInfo(b BuildInfo) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tollgate_build_info", Help: "Always 1; the labels name the running build: version, Go version and VCS revision.",
	}, []string{"version", "go_version", "revision"})
	g.WithLabelValues(b.Version, b.GoVersion, b.Revision).Set(1)
	m.reg.MustRegister(g)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// StatusClass buckets a status code ("2xx", "4xx", …).
func StatusClass(code int) string {
	return strconv.Itoa(code/100) + "xx"
}
