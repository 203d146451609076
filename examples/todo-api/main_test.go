package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWalkthrough follows README.md against a real Tollgate and the real
// binary's run: get tokens, call the API, revoke a token, be refused.
func TestWalkthrough(t *testing.T) {
	srv := startTollgate(t)
	rs := srv.createClient(t, "--scopes", "tollgate:introspect")
	reader := srv.createClient(t, "--scopes", "todos:read", "--audience", "todo-api")
	writer := srv.createClient(t, "--scopes", "todos:read todos:write", "--audience", "todo-api")
	admin := srv.createClient(t, "--scopes", "todos:read todos:write", "--audience", "todo-api", "--roles", "admin")
	stranger := srv.createClient(t, "--scopes", "todos:read") // tokens for Tollgate's default audience

	base := startAPI(t, map[string]string{"TODO_ISSUER": srv.URL, "TODO_CLIENT_ID": rs.ID, "TODO_CLIENT_SECRET": rs.Secret})

	readTok, writeTok, adminTok := srv.token(t, reader), srv.token(t, writer), srv.token(t, admin)
	steps := []struct {
		name, method, path, token, body string
		status                          int
		want                            string // substring of the body
	}{
		{"no token", "GET", "/todos", "", "", 401, `"error":"unauthorized"`},
		{"list", "GET", "/todos", readTok, "", 200, `[]`},
		{"create needs todos:write", "POST", "/todos", readTok, `{"title":"buy milk"}`, 403, `"scope":"todos:write"`},
		{"create", "POST", "/todos", writeTok, `{"title":"buy milk"}`, 201, `"created_by":"` + writer.ID + `"`},
		{"read back", "GET", "/todos/1", readTok, "", 200, `"title":"buy milk"`},
		{"complete", "PATCH", "/todos/1", writeTok, `{"done":true}`, 200, `"done":true`},
		{"delete needs admin", "DELETE", "/todos/1", writeTok, "", 403, `this request needs the role admin`},
		{"delete", "DELETE", "/todos/1", adminTok, "", 204, ``},
		{"wrong audience", "GET", "/todos", srv.token(t, stranger), "", 401, `not meant for this service`},
		{"ready", "GET", "/readyz", "", "", 204, ``},
	}
	for _, s := range steps {
		status, body := call(t, s.method, base+s.path, s.token, s.body)
		if status != s.status || !strings.Contains(body, s.want) {
			t.Fatalf("%s: %d %s, want %d containing %s", s.name, status, body, s.status, s.want)
		}
	}

	srv.revoke(t, writer, writeTok)
	deadline := time.Now().Add(time.Second)
	for {
		status, body := call(t, "GET", base+"/todos", writeTok, "")
		if status == 401 && strings.Contains(body, "revoked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked token still gets %d %s", status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, _ := call(t, "GET", base+"/todos", readTok, ""); status != 200 {
		t.Fatalf("other token after the revocation: %d", status)
	}
}

// startAPI runs the service as main does, on a free port, until the test
// ends, and returns its URL.
func startAPI(t *testing.T, env map[string]string) string {
	env["TODO_ADDR"] = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return after cancel")
		}
		if t.Failed() {
			t.Logf("todo-api log:\n%s", stderr.String())
		}
	})
	base := "http://" + env["TODO_ADDR"]
	waitUp(t, base+"/healthz")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), "todo-api listening on "+base); {
		if time.Now().After(deadline) {
			t.Fatalf("stdout %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return base
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
