package examples

// A real Tollgate for the recipes: the tollgate binary's serve and client
// create, the token endpoint and the API-key admin path, as
// docs/INTEGRATE.md drives them.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
)

// tollgateBin is built once by TestMain.
var tollgateBin string

// httpc bounds every request the test makes.
var httpc = &http.Client{Timeout: 10 * time.Second}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := testenv.Binary(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tollgateBin = bin
	return m.Run()
}

// here is the examples folder.
func here() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Dir(self)
}

type tollgate struct {
	URL string
	env []string
}

type client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// startTollgate serves Tollgate on a fresh embedded database until the
// test ends.
func startTollgate(t *testing.T) *tollgate {
	t.Helper()
	addr := freeAddr(t)
	tg := &tollgate{URL: "http://" + addr}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOLLGATE_") {
			tg.env = append(tg.env, kv)
		}
	}
	tg.env = append(tg.env, "TOLLGATE_DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "t.db"),
		"TOLLGATE_ADDR="+addr, "TOLLGATE_ISSUER="+tg.URL, "TOLLGATE_SHUTDOWN_TIMEOUT=1s", "TOLLGATE_LOG_FORMAT=text")
	cmd := exec.Command(tollgateBin, "serve")
	cmd.Env = tg.env
	waitUp(t, tg.URL+"/readyz", startChild(t, "tollgate", cmd))
	return tg
}

// startChild starts cmd and stops it when the test ends (SIGTERM, then
// SIGKILL after 5 s), logging its output if the test failed. The returned
// channel closes when the process exits.
func startChild(t *testing.T, name string, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return done
}

// createClient runs `tollgate client create --json` with args.
func (tg *tollgate) createClient(t *testing.T, args ...string) client {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	args = append([]string{"client", "create", "--json", "--name", "c-" + hex.EncodeToString(b)}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tollgateBin, args...)
	var out, errOut bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = tg.env, &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("tollgate %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	var c client
	if err := json.Unmarshal(out.Bytes(), &c); err != nil || c.ID == "" {
		t.Fatalf("client create printed %q: %v", out.String(), err)
	}
	return c
}

// token gets an access token with client_credentials.
func (tg *tollgate) token(t *testing.T, c client, scope string) string {
	t.Helper()
	return tg.accessToken(t, &c, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
}

// subjectToken mints an API key for the app's own user subject (as a
// settings page does, INTEGRATE.md §2) and exchanges it (§3).
func (tg *tollgate) subjectToken(t *testing.T, app client, subject, scope string) string {
	t.Helper()
	appTok := tg.token(t, app, "tollgate:apikeys")
	body, _ := json.Marshal(map[string]string{"owner_type": "subject", "owner_id": subject, "name": "laptop", "scope": scope})
	req, err := http.NewRequest(http.MethodPost, tg.URL+"/admin/v1/api-keys", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+appTok)
	req.Header.Set("Content-Type", "application/json")
	var key struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(do(t, req, http.StatusCreated), &key); err != nil || key.APIKey == "" {
		t.Fatalf("api key: %v", err)
	}
	return tg.accessToken(t, nil, url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {key.APIKey},
		"subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"},
	})
}

// accessToken posts form to the token endpoint, with c's Basic
// credentials unless c is nil.
func (tg *tollgate) accessToken(t *testing.T, c *client, form url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tg.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(do(t, req, http.StatusOK), &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return tr.AccessToken
}

func do(t *testing.T, req *http.Request, want int) []byte {
	t.Helper()
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return body
}

// waitUp polls url for 20 s; it gives up early if exited closes.
func waitUp(t *testing.T, url string, exited <-chan struct{}) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp, err := httpc.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the process serving %s exited", url)
		case <-time.After(50 * time.Millisecond):
		}
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

// syncBuffer is a bytes.Buffer safe for a child's output goroutines.
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
