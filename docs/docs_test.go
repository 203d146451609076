// Package docs_test runs the shell blocks of README.md and docs/*.md as a
// reader would: in order, in one shell session per document, in a fresh
// directory, against a `tollgate serve` started for that document.
//
// A fenced block whose info string is "sh" is run with bash (-e, -u,
// pipefail); variables it sets carry over to the document's next block. It
// fails the test on a non-zero exit or when its output contradicts a
// `# → expected` comment (the fragments of expected between "…" must appear
// in the block's standard output, in order). An HTML comment on the line
// before a block changes how it runs:
//
//	<!-- docs-test: skip REASON -->   not run; REASON says why (docker, kubectl, …)
//	<!-- docs-test: repo -->          run in the repository, not the document's directory
//	<!-- docs-test: server URL -->    run in the background until URL answers 200, stopped
//	                                  when the document ends; what it sets does not carry over
//
// Addresses the docs use for a reader's own machine are mapped to the ones
// this test owns (see substitutions): the quickstart's 127.0.0.1:8080 is the
// server started for the document, the production block's PostgreSQL and
// Redis are a fresh schema and key prefix of the test services.
package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// block is one fenced sh block of a document.
type block struct {
	line int    // line of the opening fence, 1-based
	text string // the commands, indentation removed
	mark string // "", "skip", "repo" or "server"
	arg  string // the skip reason, or the server's readiness URL
}

// silentFailure matches what bash and coreutils print for a failure that
// set -e misses.
var silentFailure = regexp.MustCompile(`command not found|No such file or directory|unbound variable`)

var markRE = regexp.MustCompile(`^<!--\s*docs-test:\s*(skip|repo|server)\b\s*(.*?)\s*-->$`)

// parse returns the sh blocks of a Markdown document.
func parse(src string) ([]block, error) {
	var blocks []block
	var cur *block
	var indent, prev string
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```sh":
			cur = &block{line: n}
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
			if m := markRE.FindStringSubmatch(prev); m != nil {
				cur.mark, cur.arg = m[1], m[2]
				if cur.mark != "repo" && cur.arg == "" {
					return nil, fmt.Errorf("line %d: docs-test: %s needs an argument", n-1, cur.mark)
				}
			}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		}
		if trimmed != "" {
			prev = trimmed
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: sh block never closed", cur.line)
	}
	return blocks, sc.Err()
}

// expectations returns the `# → …` comments of a block, in order.
func expectations(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "# → "); i >= 0 {
			out = append(out, strings.TrimSpace(line[i+len("# → "):]))
		}
	}
	return out
}

// contradicts reports the first expectation that output does not meet.
func contradicts(output string, expected []string) (string, bool) {
	pos := 0
	for _, e := range expected {
		for _, frag := range strings.Split(e, "…") {
			frag = strings.TrimSpace(frag)
			if frag == "" {
				continue
			}
			i := strings.Index(output[pos:], frag)
			if i < 0 {
				return e, true
			}
			pos += i + len(frag)
		}
	}
	return "", false
}

func TestParse(t *testing.T) {
	src := "text\n<!-- docs-test: skip needs docker -->\n```sh\ndocker ps\n```\n\n" +
		"1. step\n\n   ```sh\n   echo hi   # → hi\n   ```\n```json\n{}\n```\n" +
		"<!-- docs-test: server http://127.0.0.1:8080/readyz -->\n\n```sh\ntollgate serve\n```\n"
	blocks, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []block{
		{line: 3, text: "docker ps\n", mark: "skip", arg: "needs docker"},
		{line: 9, text: "echo hi   # → hi\n"},
		{line: 17, text: "tollgate serve\n", mark: "server", arg: "http://127.0.0.1:8080/readyz"},
	}
	if fmt.Sprint(blocks) != fmt.Sprint(want) {
		t.Fatalf("parse:\n got %+v\nwant %+v", blocks, want)
	}
	if _, err := parse("```sh\necho\n"); err == nil {
		t.Error("unclosed block: no error")
	}
	if _, err := parse("<!-- docs-test: skip -->\n```sh\necho\n```\n"); err == nil {
		t.Error("skip without a reason: no error")
	}
}

func TestContradicts(t *testing.T) {
	out := `{"active":true,"client_id":"tgc_1","scope":"a"}` + "\n" + `{"active":false}` + "\n"
	for _, tc := range []struct {
		expected []string
		bad      bool
	}{
		{[]string{`{"active":true,…}`, `{"active":false}`}, false},
		{[]string{`{"active":true,…"scope":"a"…}`}, false},
		{[]string{`{"active":false}`, `{"active":true,…}`}, true}, // order matters
		{[]string{`{"active":true,…"scope":"b"}`}, true},
	} {
		if _, bad := contradicts(out, tc.expected); bad != tc.bad {
			t.Errorf("contradicts(%q) = %v, want %v", tc.expected, bad, tc.bad)
		}
	}
}

// documents lists what TestDocs runs, in reading order.
func documents(t *testing.T) []string {
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, docs...)
}

func TestDocs(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("the docs test needs bash")
	}
	for _, tool := range []string{"curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, "the docs call "+tool+"; install it (apt-get install "+tool+")")
		}
	}
	h := newHarness(t)
	for _, doc := range documents(t) {
		t.Run(strings.TrimPrefix(doc, "../"), func(t *testing.T) {
			src, err := os.ReadFile(doc)
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := parse(string(src))
			if err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			h.runDocument(t, doc, blocks)
		})
	}
}

// missing fails in CI and skips elsewhere.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// harness holds what every document shares: the binary and the services.
type harness struct {
	repo   string // the repository root
	bin    string // holds the tollgate binary; first on PATH
	gobin  string
	pgURL  string // a fresh schema's URL, for the production block
	redis  string
	prefix string // the Redis key prefix every block runs with
}

func newHarness(t *testing.T) *harness {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{repo: repo, bin: t.TempDir()}
	h.gobin = h.bin
	// The blocks find tollgate on PATH: a copy of the run's shared build,
	// since README's go install writes to this folder.
	built, err := testenv.Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, built, filepath.Join(h.bin, "tollgate"))
	h.pgURL, _ = sqltest.PostgresURL(t)
	h.redis, h.prefix = redistest.Prefix(t) // emptied and checked after the servers stop
	return h
}

// substitutions maps the docs' addresses to the ones this run owns.
func (h *harness) substitutions(port, prodPort int) *strings.Replacer {
	return strings.NewReplacer(
		"127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", port),
		"0.0.0.0:8080", fmt.Sprintf("0.0.0.0:%d", prodPort),
		"postgres://tollgate:PASSWORD@db:5432/tollgate", h.pgURL,
		"redis://redis:6379/0", h.redis,
	)
}

// env is the environment every block runs with: a reader's shell, with
// the test's binary on PATH and nothing of the test's own TOLLGATE_*.
func (h *harness) env(home string) []string {
	env := []string{
		"HOME=" + home,
		"PATH=" + h.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GOBIN=" + h.gobin,
		"TOLLGATE_REDIS_PREFIX=" + h.prefix,
		"LANG=C.UTF-8",
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if os.Getenv("GOCACHE") == "" { // HOME changes, so pin the caches
		for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			out, err := exec.Command("go", "env", k).Output()
			if err == nil {
				env = append(env, k+"="+strings.TrimSpace(string(out)))
			}
		}
	}
	return env
}

// runDocument runs one document's blocks against a server of its own.
func (h *harness) runDocument(t *testing.T, doc string, blocks []block) {
	dir := t.TempDir()
	port, prodPort := freePort(t), freePort(t)
	sub := h.substitutions(port, prodPort)
	env := h.env(dir)
	state := filepath.Join(dir, ".docs-state")
	if err := os.WriteFile(state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The quickstart's `tollgate serve`, in the document's directory.
	h.startServer(t, dir, env, fmt.Sprintf("TOLLGATE_ADDR=127.0.0.1:%d TOLLGATE_ISSUER=http://127.0.0.1:%d tollgate serve", port, port),
		fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", filepath.Base(doc), b.line)
		text := sub.Replace(b.text)
		switch b.mark {
		case "skip":
			t.Logf("%s: skipped: %s", where, b.arg)
			continue
		case "server":
			h.startServer(t, dir, env, ". "+state+"\n"+text, sub.Replace(b.arg))
			continue
		}
		cwd := dir
		if b.mark == "repo" {
			cwd = h.repo
		}
		// allexport: what a block sets reaches the next block through state.
		script := "set -a\n. " + state + "\nset -euo pipefail\n" + text + "\n{ export -p; declare -f; } >" + state + "\n"
		stdout, stderr, err := runBlock(t, cwd, env, script)
		if err != nil {
			t.Fatalf("%s: %v\n--- block\n%s--- stdout\n%s--- stderr\n%s", where, err, text, stdout, stderr)
		}
		// A failure inside $(…) of an export or eval does not stop bash;
		// what it says on stderr does show.
		if m := silentFailure.FindString(stderr); m != "" {
			t.Fatalf("%s: %q on stderr\n--- block\n%s--- stdout\n%s--- stderr\n%s", where, m, text, stdout, stderr)
		}
		if e, bad := contradicts(stdout, expectations(text)); bad {
			t.Fatalf("%s: output contradicts `# → %s`\n--- block\n%s--- stdout\n%s--- stderr\n%s", where, e, text, stdout, stderr)
		}
	}
}

// runBlock runs a script with bash, giving up after a minute.
func runBlock(t *testing.T, dir string, env []string, script string) (string, string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after a minute: %w", err)
	}
	return stdout.String(), stderr.String(), err
}

// startServer runs script in the background until ready answers 200 and
// stops it (SIGTERM to its process group) when the document ends.
func (h *harness) startServer(t *testing.T, dir string, env []string, script, ready string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("server log (%s):\n%s", ready, logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("server exited before %s answered: %v\n--- script\n%s\n--- log\n%s", ready, err, script, logs.String())
		default:
		}
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 30 s\n--- log\n%s", ready, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// copyFile copies an executable.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
