package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// openStream opens a revocation stream; the caller closes the body.
func (e *testEnv) openStream(t *testing.T, id, secret string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/revocations/stream", nil)
	req.Header = basic(id, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestRevocationStreamLimits: streams are capped per client and per node;
// beyond, 429 in the OAuth error format with Retry-After; a closed stream
// frees its slot.
func TestRevocationStreamLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_REVOCATION_STREAMS_PER_CLIENT"] = "2"
	e.vars["TOLLGATE_REVOCATION_STREAMS"] = "3"
	aID, aSecret := e.rsClient()
	bID, bSecret := e.rsClient()
	e.start()
	refused := func(what, id, secret string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/revocations/stream", nil)
		req.Header = basic(id, secret)
		r := e.do(req) // a refusal has a body that ends
		if r.status != 429 || r.body["error"] != "temporarily_unavailable" || r.header.Get("Retry-After") == "" ||
			!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %v %s, want 429 temporarily_unavailable with Retry-After", what, r.status, r.header, r.raw)
		}
	}
	a1 := e.openStream(t, aID, aSecret)
	a2 := e.openStream(t, aID, aSecret)
	for _, res := range []*http.Response{a1, a2} {
		if res.StatusCode != 200 {
			t.Fatalf("stream within the caps: %d", res.StatusCode)
		}
	}
	refused("a client's third stream (cap 2)", aID, aSecret)
	if b1 := e.openStream(t, bID, bSecret); b1.StatusCode != 200 {
		t.Fatalf("another client's first stream: %d", b1.StatusCode)
	}
	refused("a fourth stream on the node (cap 3)", bID, bSecret)
	if r := e.get("/metrics"); !strings.Contains(r.raw, "tollgate_revocation_streams 3\n") ||
		!strings.Contains(r.raw, `tollgate_throttled_total{reason="stream_limit"} 2`) {
		t.Error("metrics lack tollgate_revocation_streams 3 and two stream_limit refusals")
	}
	a1.Body.Close()
	if !eventually(5*time.Second, func() bool {
		res := e.openStream(t, bID, bSecret)
		defer res.Body.Close()
		return res.StatusCode == 200
	}) {
		t.Fatal("a closed stream did not free its slot")
	}
}
