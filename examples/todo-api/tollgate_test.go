package main

// A real Tollgate for the walk-through test, driven the way README.md
// does: the tollgate binary's serve, client create and the token and
// revoke endpoints. (clients/internal/tollgatetest does the same for the
// client packages but is internal to clients/.)

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
)

// tollgateBin is built once by TestMain.
var tollgateBin string

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
		"TOLLGATE_ADDR="+addr, "TOLLGATE_SHUTDOWN_TIMEOUT=1s", "TOLLGATE_LOG_FORMAT=text")
	var logs syncBuffer
	cmd := exec.Command(tollgateBin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = tg.env, &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("tollgate log:\n%s", logs.String())
		}
	})
	waitUp(t, tg.URL+"/readyz")
	return tg
}

// createClient runs `tollgate client create --json` with args.
func (tg *tollgate) createClient(t *testing.T, args ...string) client {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	args = append([]string{"client", "create", "--json", "--name", "c-" + hex.EncodeToString(b)}, args...)
	cmd := exec.Command(tollgateBin, args...)
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
func (tg *tollgate) token(t *testing.T, c client) string {
	t.Helper()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tg.post(t, c, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}), &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return tr.AccessToken
}

// revoke revokes a token through the RFC 7009 endpoint.
func (tg *tollgate) revoke(t *testing.T, c client, tok string) {
	t.Helper()
	tg.post(t, c, "/oauth2/revoke", url.Values{"token": {tok}})
}

func (tg *tollgate) post(t *testing.T, c client, path string, form url.Values) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tg.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}
