package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHostileInput throws what an attacker would at the OAuth endpoints:
// each gets a 4xx (never a 5xx, panic or hang), and the service stays
// healthy and keeps serving good requests.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.vars["TOLLGATE_READ_HEADER_TIMEOUT"] = "1s"
	id, secret := e.newClient("--name", "svc")
	e.start()
	form := "application/x-www-form-urlencoded"
	raw := func(method, path, ct string, body io.Reader, h http.Header) int {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, body)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		return res.StatusCode
	}
	many := make([]string, 10000)
	for i := range many {
		many[i] = fmt.Sprintf("p%d=1", i)
	}
	cases := []struct {
		name string
		code func() int
	}{
		{"10 MB body", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader(strings.Repeat("a", 10<<20)), basic(id, secret))
		}},
		{"unbounded chunked body", func() int {
			return raw("POST", "/oauth2/token", form, io.LimitReader(zeros{}, 5<<20), basic(id, secret))
		}},
		{"10,000 parameters", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader(strings.Join(many, "&")), basic(id, secret))
		}},
		{"invalid UTF-8", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader("grant_type=client_credentials&scope=%ff%fe"), basic(id, secret))
		}},
		{"invalid UTF-8 client id", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader("grant_type=client_credentials&client_id=%ff&client_secret=x"), nil)
		}},
		{"NUL bytes", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader("grant_type=client_credentials%00&scope=a%00b"), basic(id, secret))
		}},
		{"NUL in a username", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader("grant_type=password&username=a%00b&password=x"), basic(id, secret))
		}},
		{"huge header", func() int {
			return raw("POST", "/oauth2/token", form, strings.NewReader("grant_type=client_credentials"), http.Header{"X-Junk": {strings.Repeat("j", 64<<10)}})
		}},
		{"introspection with a 1 MB token", func() int {
			return raw("POST", "/oauth2/introspect", form, strings.NewReader("token="+strings.Repeat("x", 1<<20)), basic(id, secret))
		}},
	}
	for _, tc := range cases {
		if code := tc.code(); code < 400 || code >= 500 {
			t.Errorf("%s: HTTP %d, want a 4xx", tc.name, code)
		}
	}

	// RFC 7009 §2.2: garbage is answered 200 by the revocation endpoint.
	if code := raw("POST", "/oauth2/revoke", form, strings.NewReader("token=%00%ff"+url.QueryEscape("\xff")), basic(id, secret)); code != 200 {
		t.Errorf("revocation of garbage: HTTP %d, want 200", code)
	}

	// Slowloris: headers dribbled out never reach a handler, and the
	// server drops the connection after its header timeout.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprint(conn, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	go func() {
		for i := 0; i < 8; i++ {
			time.Sleep(400 * time.Millisecond)
			if _, err := fmt.Fprintf(conn, "X-Slow-%d: 1\r\n", i); err != nil {
				return
			}
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		res.Body.Close()
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Errorf("a slow client held its connection for %s (header timeout 1s)", waited)
	}

	if r := e.get("/healthz"); r.status != 200 {
		t.Fatal("unhealthy after hostile input")
	}
	if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)); r.status != 200 {
		t.Fatalf("a good request after hostile input: %d %s", r.status, r.raw)
	}
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
