package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// inflight is a handler that records the most requests it served at once.
type inflight struct {
	mu       sync.Mutex
	cur, max int
	conns    sync.Map
}

func (h *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.cur++
	h.max = max(h.max, h.cur)
	h.mu.Unlock()
	h.conns.Store(r.RemoteAddr, true)
	time.Sleep(2 * time.Millisecond)
	h.mu.Lock()
	h.cur--
	h.mu.Unlock()
	_, _ = w.Write([]byte(`{"access_token":"x"}`))
}

func TestClosedLoopKeepsConcurrencyAndConnections(t *testing.T) {
	t.Parallel()
	h := &inflight{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	p := staticPlan(vegeta.Target{Method: http.MethodGet, URL: srv.URL}, hasAccessToken)
	// Bounded by count, not time, so a busy machine cannot fail it.
	m := closedLoop(t.Context(), p, 4, time.Minute, 40, nil)
	if m.OK != 40 || m.Errors() != 0 {
		t.Fatalf("got %+v", m)
	}
	if h.max != 4 {
		t.Errorf("at most %d requests were in flight, want exactly 4", h.max)
	}
	n := 0
	h.conns.Range(func(any, any) bool { n++; return true })
	if n != 4 {
		t.Errorf("%d connections were used, want 4 kept alive", n)
	}
}

func TestClosedLoopLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&inflight{})
	t.Cleanup(srv.Close)
	p := staticPlan(vegeta.Target{Method: http.MethodGet, URL: srv.URL}, hasAccessToken)
	m := closedLoop(t.Context(), p, 8, time.Minute, 100, nil)
	if m.OK != 100 || m.Requests != 100 {
		t.Errorf("got %+v, want exactly 100 requests", m)
	}
}

func TestClosedLoopStopsOnCancel(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&inflight{})
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	closedLoop(ctx, staticPlan(vegeta.Target{Method: http.MethodGet, URL: srv.URL}, nil), 4, time.Minute, 0, nil)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("the run went on for %v after its context was cancelled", el)
	}
}

// TestRefreshChain runs the refresh plan's pool against a server that
// rotates tokens and refuses any token presented twice.
func TestRefreshChain(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		issued = map[string]bool{"t0": true, "t1": true, "t2": true, "t3": true}
		next   atomic.Int64
		reused atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.PostFormValue("refresh_token")
		mu.Lock()
		live := issued[tok]
		delete(issued, tok)
		n := "n" + strconv.FormatInt(next.Add(1), 10)
		issued[n] = true
		mu.Unlock()
		if !live {
			reused.Add(1)
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"a","refresh_token":"` + n + `"}`))
	}))
	t.Cleanup(srv.Close)
	pool := make(chan string, 8)
	for _, tok := range []string{"t0", "t1", "t2", "t3"} {
		pool <- tok
	}
	p := plan{
		targeter: refreshTargeter(pool, srv.URL, "Basic x", time.Second),
		valid:    hasAccessToken,
		after:    func(r *vegeta.Result) { recycleRefresh(pool, r) },
	}
	m := closedLoop(t.Context(), p, 2, time.Minute, 20, nil)
	if m.OK != 20 || m.Errors() != 0 || reused.Load() != 0 {
		t.Errorf("got %+v, %d reused tokens", m, reused.Load())
	}
	if len(pool) != 4 {
		t.Errorf("%d tokens in the pool after the run, want the 4 chains back", len(pool))
	}
}

func TestRefreshTargeterEmptyPool(t *testing.T) {
	t.Parallel()
	var tgt vegeta.Target
	err := refreshTargeter(make(chan string), "http://127.0.0.1:1", "", 10*time.Millisecond)(&tgt)
	if !errors.Is(err, errPoolEmpty) {
		t.Errorf("got %v, want errPoolEmpty", err)
	}
}

func TestRetryKeepsTheLeastDisturbed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		shares   []float64
		retries  int
		attempts int
		kept     float64
	}{
		{"quiet at once", []float64{0.01, 0.5}, 2, 1, 0.01},
		{"quiet on the second", []float64{0.5, 0.05, 0.5}, 2, 2, 0.05},
		{"never quiet", []float64{0.5, 0.2, 0.3, 0.01}, 2, 3, 0.2},
		{"no retries", []float64{0.5, 0.01}, 0, 1, 0.5},
		{"unknown share counts as quiet", []float64{-1, 0.5}, 2, 1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &bench{o: options{retries: tt.retries}, log: io.Discard}
			n := 0
			r, err := b.retry(modePostgres, scClientCreds, 16, func() (row, error) {
				n++
				return row{Background: tt.shares[n-1]}, nil
			})
			if err != nil || n != tt.attempts || r.Background != tt.kept {
				t.Errorf("got %d attempts keeping %v (%v), want %d keeping %v", n, r.Background, err, tt.attempts, tt.kept)
			}
		})
	}
}
