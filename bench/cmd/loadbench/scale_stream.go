package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// feedWatch counts, for the revocation being timed, how many subscribers
// have seen its event.
type feedWatch struct {
	mu   sync.Mutex
	n    int
	want string
	seen int
	all  chan struct{}
}

// expect starts timing jti; the channel closes once all n subscribers saw it.
func (w *feedWatch) expect(jti string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want, w.seen, w.all = jti, 0, make(chan struct{})
	return w.all
}

func (w *feedWatch) saw(jti string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if jti == w.want && w.want != "" {
		if w.seen++; w.seen == w.n {
			close(w.all)
		}
	}
}

// subscriberCurve opens n revocation streams (GET
// /oauth2/revocations/stream as the resource-server client) and times, for
// -scale-events revocations, the span from the revoke call to the moment
// the last subscriber read the event.
func (r *scaleRun) subscriberCurve(ctx context.Context, steps []int) ([]scalePoint, error) {
	var out []scalePoint
	for _, n := range steps {
		pt := scalePoint{N: n}
		var err error
		if pt.Ready, err = r.restart(ctx); err != nil {
			return out, err
		}
		lat, err := r.timeRevocations(ctx, n)
		if err != nil {
			return out, err
		}
		slices.Sort(lat)
		pt.Requests, pt.OK = len(lat), len(lat)
		pt.P50, pt.P99 = percentile(lat, 50), percentile(lat, 99)
		if mem, err := readMemory(r.in.proc.pid()); err == nil {
			pt.RSS = mem.RSS
		}
		r.b.logf("[%s] %s subscribers: revoke to seen by all p50 %s, p99 %s over %d revocations, RSS %s", r.s.mode, fmtInt(n),
			fmtDur(pt.P50), fmtDur(pt.P99), len(lat), mb(pt.RSS))
		out = append(out, pt)
	}
	return out, nil
}

// timeRevocations opens n streams and times the revocations.
func (r *scaleRun) timeRevocations(ctx context.Context, n int) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &feedWatch{n: n}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
	defer hc.CloseIdleConnections()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: the readers end with the context
	connected := make(chan error, n)
	for range n {
		wg.Go(func() { subscribe(ctx, hc, r.in.base+"/oauth2/revocations/stream", basicAuth(r.in.rs), w, connected) })
	}
	r.b.logf("[%s] opening %s revocation streams", r.s.mode, fmtInt(n))
	deadline := time.After(time.Minute)
	for i := range n {
		select {
		case err := <-connected:
			if err != nil {
				return nil, fmt.Errorf("stream %d of %d: %w", i+1, n, err)
			}
		case <-deadline:
			return nil, fmt.Errorf("only %d of %d streams opened within a minute", i, n)
		}
	}
	var lat []time.Duration
	for range r.b.o.scale.events {
		tok, err := r.in.api.clientCredentials(ctx, r.in.cc)
		if err != nil {
			return nil, err
		}
		jti, err := tokenID(tok)
		if err != nil {
			return nil, err
		}
		all := w.expect(jti)
		start := time.Now()
		if err := r.in.api.revoke(ctx, r.in.cc, tok); err != nil {
			return nil, err
		}
		select {
		case <-all:
			lat = append(lat, time.Since(start))
		case <-time.After(30 * time.Second):
			w.mu.Lock()
			seen := w.seen
			w.mu.Unlock()
			return nil, fmt.Errorf("a revocation reached %d of %d subscribers within 30s", seen, n)
		}
	}
	return lat, nil
}

// subscribe opens one stream, reports on connected whether it opened, and
// reads its events until ctx ends.
func subscribe(ctx context.Context, hc *http.Client, url, auth string, w *feedWatch, connected chan<- error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		connected <- err
		return
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		connected <- err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		connected <- fmt.Errorf("GET %s: %s", url, resp.Status)
		return
	}
	connected <- nil
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e struct {
			JTI string `json:"jti"`
		}
		if json.Unmarshal([]byte(data), &e) == nil {
			w.saw(e.JTI)
		}
	}
}

// tokenID reads the jti claim of a JWT without verifying it: the benchmark
// only needs to recognise its revocation event.
func tokenID(jwt string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", errors.New("access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("access token payload: %w", err)
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.JTI == "" {
		return "", errors.New("access token has no jti")
	}
	return c.JTI, nil
}
