package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTracing: a request gets a server span named after its route, joined
// to the caller's trace, with no credential among its attributes.
func TestTracing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	h := New(Deps{Issuer: "http://t", Tracer: tp})
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials&client_secret=tgs_topsecret"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic c2VjcmV0OnNlY3JldA==")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name != "POST /oauth2/token" || s.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("span %q in trace %s", s.Name, s.SpanContext.TraceID())
	}
	var status int64
	for _, a := range s.Attributes {
		if a.Key == "http.response.status_code" {
			status = a.Value.AsInt64()
		}
		if v := a.Value.Emit(); strings.Contains(v, "secret") || strings.Contains(v, "c2VjcmV0") {
			t.Errorf("attribute %s carries a credential: %s", a.Key, v)
		}
	}
	if status != int64(rec.Code) {
		t.Errorf("status attribute %d, response %d", status, rec.Code)
	}
}
