package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestUnstorableIdentifiers: NUL and invalid UTF-8 in identifiers are
// refused in the protocol's own format before any query. PostgreSQL's text
// type refuses both (SQLSTATE 22021), which used to surface as 500s; the
// embedded SQLite store accepts them, so the same answers are checked on
// both.
func TestUnstorableIdentifiers(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			web, webSecret := e.newClient("--name", "web", "--grant-types", "password")
			e.start()
			a := e.newAdmin()
			cc := func(id string) url.Values {
				return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"tgs_x"}}
			}
			for _, tc := range []struct {
				name  string
				do    func() response
				state int
				code  string
			}{
				{"client_id with NUL", func() response { return e.post("/oauth2/token", cc("tgc_x\x00"), nil) }, 400, "invalid_request"},
				{"client_id not UTF-8", func() response { return e.post("/oauth2/token", cc("tgc_x\xff"), nil) }, 400, "invalid_request"},
				{"username with NUL", func() response {
					return e.post("/oauth2/token", passwordLogin("a\x00b", "pw"), basic(web, webSecret))
				}, 400, "invalid_request"},
				{"Basic client_id with NUL on the revocation feed", func() response {
					req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/revocations", nil)
					req.Header = basic("a\x00", "x")
					return e.do(req)
				}, 401, "invalid_client"},
				{"Basic client_id not UTF-8 on introspection", func() response {
					return e.post("/oauth2/introspect", url.Values{"token": {"x"}}, basic("tgc_\xff", "x"))
				}, 401, "invalid_client"},
				{"admin client ID not UTF-8", func() response { return a.call(http.MethodGet, "/clients/%FF", nil) }, 404, ""},
				{"admin user ID with NUL", func() response { return a.call(http.MethodDelete, "/users/a%00b", nil) }, 404, ""},
				{"admin query with NUL", func() response { return a.call(http.MethodGet, "/api-keys?owner_type=user&owner_id=u%00", nil) }, 400, ""},
				{"admin body with NUL", func() response {
					return a.call(http.MethodPost, "/clients", map[string]any{"name": "a\x00b", "grant_types": []string{"client_credentials"}})
				}, 400, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.do()
					if r.status != tc.state {
						t.Fatalf("status %d, want %d: %s", r.status, tc.state, r.raw)
					}
					if tc.code != "" && r.body["error"] != tc.code {
						t.Errorf("error %v, want %s: %s", r.body["error"], tc.code, r.raw)
					}
					if tc.code == "" && r.header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("admin answer is %s, want problem+json: %s", r.header.Get("Content-Type"), r.raw)
					}
					if tc.state == 401 && r.header.Get("WWW-Authenticate") == "" {
						t.Error("invalid_client over Basic without WWW-Authenticate")
					}
				})
			}
			if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
				t.Errorf("bad input logged an ERROR:\n%s", e.logs)
			}
		})
	}
}

// TestCallerGone: a caller that leaves before its answer (its request
// context canceled, as net/http does when the connection closes or
// half-closes) is no server error: not a 5xx, not an ERROR log, and
// counted as store_errors_total{kind="canceled"}, never kind="error".
func TestCallerGone(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			web, webSecret := e.newClient("--name", "web", "--grant-types", "password")
			e.start()
			a := e.newAdmin()
			gone, cancel := context.WithCancel(context.Background())
			cancel()
			serve := func(method, path, body string, h http.Header) int {
				req := httptest.NewRequestWithContext(gone, method, path, strings.NewReader(body))
				for k, v := range h {
					req.Header[k] = v
				}
				if body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				rec := httptest.NewRecorder()
				e.svc.handler.ServeHTTP(rec, req)
				return rec.Code
			}
			// Unknown IDs, so that no cache answers and the store sees the
			// canceled context.
			for name, st := range map[string]int{
				"client_credentials": serve(http.MethodPost, "/oauth2/token", "grant_type=client_credentials", basic("tgc_gone", "tgs_x")),
				"password":           serve(http.MethodPost, "/oauth2/token", passwordLogin("nobody", "pw").Encode(), basic(web, webSecret)),
				"admin":              serve(http.MethodGet, "/admin/v1/clients/tgc_gone", "", http.Header{"Authorization": {"Bearer " + a.token}}),
			} {
				if st != 499 {
					t.Errorf("%s with the caller gone: %d, want 499 (logged, never read)", name, st)
				}
			}
			// Over real TCP, half-closing after the request: never a 5xx.
			for range 20 {
				if st := halfClosed(t, e.addr, "grant_type=client_credentials&client_id=tgc_gone&client_secret=x"); st >= 500 {
					t.Fatalf("half-closed connection answered %d", st)
				}
			}
			m := e.get("/metrics").raw
			if !strings.Contains(m, `tollgate_store_errors_total{kind="canceled"}`) || strings.Contains(m, `tollgate_store_errors_total{kind="error"}`) {
				t.Errorf("store_errors_total:\n%s", grepLines(m, "tollgate_store_errors_total"))
			}
			if logs := e.logs.String(); strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "request canceled by the caller") {
				t.Errorf("logs of callers gone:\n%s", logs)
			}
		})
	}
}

// halfClosed sends a token request over a raw connection, closes its
// write side, and returns the status it reads (0 if none).
func halfClosed(t *testing.T, addr, form string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/oauth2/token", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
