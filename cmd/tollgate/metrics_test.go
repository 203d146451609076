package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestMetrics: /metrics counts token requests by grant and result, shows
// the revocation set's state, and names no client.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, secret := e.newClient("--name", "svc")
	e.start()
	tok := e.ccToken(id, secret)
	e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, "tgs_wrong"))
	e.revoke(id, secret, tok)
	r := e.get("/metrics")
	if r.status != 200 {
		t.Fatalf("metrics: %d", r.status)
	}
	for _, want := range []string{
		`tollgate_token_requests_total{error="",grant_type="client_credentials",result="success"} 1`,
		`tollgate_token_requests_total{error="invalid_client",grant_type="client_credentials",result="error"} 1`,
		`tollgate_revocation_set_size 1`,
		`tollgate_revocation_synced 1`,
		`tollgate_http_request_duration_seconds_count{method="POST",route="/oauth2/revoke",status="2xx"} 1`,
	} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(r.raw, id) {
		t.Error("a client id appears in the metrics")
	}

	off := newTestEnv(t, embedded)
	off.vars["TOLLGATE_METRICS_ADDR"] = "off"
	off.start()
	if r := off.get("/metrics"); r.status != 404 {
		t.Errorf("metrics with TOLLGATE_METRICS_ADDR=off: %d", r.status)
	}
}
