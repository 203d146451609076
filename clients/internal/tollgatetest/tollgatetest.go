// Package tollgatetest runs real Tollgate servers for the tests of the
// client packages: it builds cmd/tollgate once per test run, starts
// `tollgate serve` processes on the embedded database, and drives the
// command line as an operator would. Only tests import it.
package tollgatetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
)

// Bounds on waiting for processes.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	cliTimeout   = 30 * time.Second
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Main runs a package's tests (call it from TestMain).
func Main(m *testing.M) int {
	return m.Run()
}

// binary builds cmd/tollgate on first use (one copy shared by every
// package of the run; see testenv.Binary).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath, buildErr = testenv.Binary(context.Background())
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is one `tollgate serve` process.
type Server struct {
	// URL is the server's base URL and issuer, http://127.0.0.1:PORT.
	URL  string
	Addr string
	// DB is the TOLLGATE_DATABASE_URL shared by the CLI and every node.
	DB string

	t    testing.TB
	env  []string // the TOLLGATE_* settings, beyond the address
	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{}
	logs *lockedBuffer
}

// Start runs a Tollgate on a fresh embedded database and waits until it is
// ready. env adds KEY=VALUE settings. t.Cleanup stops it.
func Start(t testing.TB, env ...string) *Server {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	return start(t, db, "", env)
}

// Node starts another Tollgate process on s's database (and so its keys,
// clients and revocations). With an empty issuer it has its own address as
// issuer; otherwise the issuer given.
func (s *Server) Node(t testing.TB, issuer string, env ...string) *Server {
	t.Helper()
	if issuer != "" {
		env = append(env, "TOLLGATE_ISSUER="+issuer)
	}
	return start(t, s.DB, "", append(clone(s.env), env...))
}

func clone(s []string) []string { return append([]string(nil), s...) }

func start(t testing.TB, db, addr string, env []string) *Server {
	t.Helper()
	s := &Server{t: t, DB: db, env: env, logs: &lockedBuffer{}}
	var err error
	for range 3 { // a free port can be taken between probe and listen
		a := addr
		if a == "" {
			a = freeAddr(t)
		}
		if err = s.launch(a); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting tollgate: %v\n%s", err, s.logs.String())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("tollgate %s log:\n%s", s.Addr, s.logs.String())
		}
	})
	return s
}

// Restart stops the process and starts another at the same address on the
// same database: same issuer, same keys.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.launch(s.Addr); err != nil {
		s.t.Fatalf("restarting tollgate: %v\n%s", err, s.logs.String())
	}
}

func (s *Server) launch(addr string) error {
	cmd := exec.Command(binary(s.t), "serve")
	cmd.Env = append(baseEnv(s.DB), s.env...)
	cmd.Env = append(cmd.Env, "TOLLGATE_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.proc, s.done, s.Addr, s.URL = cmd, done, addr, "http://"+addr
	s.mu.Unlock()
	return s.waitReady(done)
}

// waitReady polls /readyz until 200, the process exits, or the timeout.
func (s *Server) waitReady(done <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("tollgate exited before it was ready")
		default:
		}
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("tollgate not ready after %s", readyTimeout)
}

// Stop ends the process (SIGTERM, then SIGKILL after a bound) and waits
// for it. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.proc, s.done
	s.proc = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Kill ends the process abruptly, as a crash or a cut cable would, and
// waits for it.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.proc, s.done
	s.proc = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

// baseEnv is the process environment without any TOLLGATE_ setting of
// the developer's, plus the test settings.
func baseEnv(db string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOLLGATE_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"TOLLGATE_DATABASE_URL="+db,
		"TOLLGATE_LOG_FORMAT=text",
		"TOLLGATE_LOG_LEVEL=info",
		"TOLLGATE_SHUTDOWN_TIMEOUT=1s",
	)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
