package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
)

// chromiumPath is Debian's Chromium, which the browser test drives (it
// never downloads a browser).
const chromiumPath = "/usr/bin/chromium"

// TestConsoleInBrowser starts the real binary, creates an admin with the
// CLI, and runs server/console/e2e/console.test.mjs: headless Chromium
// signs in, creates a client and reads its secret once, gets a token with
// it, rotates the secret, revokes the tokens (introspection then says
// inactive), creates and revokes an API key, finds each change in the
// audit log, is refused a forged CSRF token, and signs out. Without
// node_modules (npm ci in server/console/e2e) or Chromium it skips, unless
// CI=true. TOLLGATE_CONSOLE_SCREENSHOTS=1 also rewrites
// docs/console-*.png.
func TestConsoleInBrowser(t *testing.T) {
	e2e, err := filepath.Abs("../../server/console/e2e")
	if err != nil {
		t.Fatal(err)
	}
	ci := os.Getenv("CI") == "true"
	missing := func(what string) {
		if ci {
			t.Fatalf("%s; .ci/run installs it (apt-get install chromium nodejs npm; npm ci in server/console/e2e)", what)
		}
		t.Skipf("%s: install Chromium and Node (apt-get install chromium nodejs npm) and run npm ci in server/console/e2e", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node on PATH")
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
		missing("no server/console/e2e/node_modules/playwright-core")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing("no " + chromiumPath)
	}
	bin, err := testenv.Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := append(consoleCleanEnv(), "TOLLGATE_DATABASE_URL=sqlite:"+filepath.Join(dir, "tollgate.db"), "TOLLGATE_LOG_FORMAT=text")
	const password = "console-e2e-password"
	cli := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tollgate %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cli("", "migrate")
	cli(password+"\n", "user", "create", "--username", "ops-admin", "--roles", "admin", "--password-stdin")

	addr := consoleFreeAddr(t)
	var logs bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Env = append(env, "TOLLGATE_ADDR="+addr, "TOLLGATE_SHUTDOWN_TIMEOUT=1s")
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("tollgate log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	consoleWaitReady(t, base, done)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	test := exec.CommandContext(ctx, node, "console.test.mjs")
	test.Dir = e2e
	test.Env = append(os.Environ(), "TOLLGATE_URL="+base, "TOLLGATE_ADMIN_USER=ops-admin", "TOLLGATE_ADMIN_PASSWORD="+password, "CHROMIUM="+chromiumPath)
	out, err := test.CombinedOutput()
	t.Logf("console.test.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}

// consoleCleanEnv is the process environment without the developer's TOLLGATE_
// settings.
func consoleCleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOLLGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

func consoleFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// consoleWaitReady polls /readyz until 200, the process exits, or 30 s pass.
func consoleWaitReady(t *testing.T, base string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("tollgate exited before it was ready")
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("tollgate not ready after 30 s")
}
