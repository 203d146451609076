package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// backend names a storage setup the end-to-end tests run against.
type backend string

const (
	embedded      backend = "embedded"
	postgresRedis backend = "postgres+redis"
)

// backends lists the setups every end-to-end test runs on. PostgreSQL and
// Redis come from TOLLGATE_TEST_DATABASE_URL and TOLLGATE_TEST_REDIS_URL;
// without them the second setup skips locally and fails in CI.
var backends = []backend{embedded, postgresRedis}

// testEnv is one configured Tollgate: its environment variables, as a user
// would set them, and a running server once started.
type testEnv struct {
	t    *testing.T
	vars map[string]string
	srv  *httptest.Server
	svc  *service
	logs *logBuffer
	addr string
	// fixedIssuer keeps TOLLGATE_ISSUER as set, for several nodes that
	// must share one issuer.
	fixedIssuer bool
	stopBG      func()
	// control, if set, runs on the listening socket before it binds
	// (accepted connections inherit its options).
	control func(network, address string, c syscall.RawConn) error
}

// node returns another Tollgate on the same storage and issuer: a second
// process of one cluster.
func (e *testEnv) node() *testEnv {
	vars := make(map[string]string, len(e.vars))
	for k, v := range e.vars {
		vars[k] = v
	}
	return &testEnv{t: e.t, vars: vars, logs: &logBuffer{}, fixedIssuer: true}
}

// newTestEnv prepares the configuration for b with isolated storage.
func newTestEnv(t *testing.T, b backend) *testEnv {
	t.Helper()
	vars := map[string]string{
		"TOLLGATE_LOG_LEVEL": "debug",
	}
	switch b {
	case embedded:
		vars["TOLLGATE_DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "tollgate.db")
	case postgresRedis:
		pgURL, _ := sqltest.PostgresURL(t)
		vars["TOLLGATE_DATABASE_URL"] = pgURL
		// Deleted (and checked empty) once every node of the test stopped.
		vars["TOLLGATE_REDIS_URL"], vars["TOLLGATE_REDIS_PREFIX"] = redistest.Prefix(t)
		vars["TOLLGATE_MASTER_KEY"] = newMasterKey()
	}
	e := &testEnv{t: t, vars: vars, logs: &logBuffer{}}
	// As an operator would: PostgreSQL is migrated explicitly; the embedded
	// database is made by serve or migrate, never by an admin command.
	e.mustCLI("", "migrate")
	return e
}

func (e *testEnv) getenv(k string) string { return e.vars[k] }

// cli runs a tollgate command as a user would, returning its stdout.
func (e *testEnv) cli(stdin string, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, e.getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// mustCLI runs a command that must succeed.
func (e *testEnv) mustCLI(stdin string, args ...string) string {
	e.t.Helper()
	out, err := e.cli(stdin, args...)
	if err != nil {
		e.t.Fatalf("tollgate %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// start wires the service from the environment and serves it over real
// HTTP. Its issuer is the test server's URL.
func (e *testEnv) start() *httptest.Server {
	e.t.Helper()
	// Listen first: the issuer is the URL. A restart listens where the
	// previous process did, so the issuer stays the same.
	addr := e.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lc := net.ListenConfig{Control: e.control}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	// Tests run in parallel: between a stop and this restart another
	// test's connection may briefly hold the port as its local end.
	for deadline := time.Now().Add(3 * time.Second); errors.Is(err, syscall.EADDRINUSE) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		ln, err = lc.Listen(context.Background(), "tcp", addr)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	if !e.fixedIssuer {
		e.vars["TOLLGATE_ISSUER"] = "http://" + e.addr
	}
	cfg, err := config.Load("", e.getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		ln.Close()
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := newService(context.Background(), cfg, log, nil)
	if err != nil {
		ln.Close()
		e.t.Fatal(err)
	}
	// The same server (timeouts, header bound) as tollgate serve, set up
	// before it accepts anything.
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config = newHTTPServer(cfg, svc.handler, log)
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	wait := svc.background(ctx)
	e.stopBG = func() { cancel(); wait() }
	e.srv, e.svc = srv, svc
	// As a load balancer would: send nothing until the node is ready.
	deadline := time.Now().Add(10 * time.Second)
	for svc.revoked.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			e.t.Fatal("the node did not become ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Cleanup(e.stop)
	return srv
}

// stop closes the server and the stores, as a process exit would.
func (e *testEnv) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
	if e.stopBG != nil {
		e.stopBG()
		e.stopBG = nil
	}
	if e.svc != nil {
		e.svc.Close()
		e.svc = nil
	}
}

// newClient creates a client with the CLI and returns its id and secret.
func (e *testEnv) newClient(args ...string) (id, secret string) {
	e.t.Helper()
	out := e.mustCLI("", append([]string{"client", "create", "--json"}, args...)...)
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		e.t.Fatalf("client create printed %q (%v)", out, err)
	}
	return c.ClientID, c.ClientSecret
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// postForm sends a token-endpoint style request.
func (e *testEnv) post(path string, form url.Values, header http.Header) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.do(req)
}

func (e *testEnv) do(req *http.Request) response {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	// Every response must be as server/openapi.json documents it.
	if err := checkOpenAPI(req, res.StatusCode, res.Header, raw); err != nil {
		e.t.Errorf("%s %s answered %d, not as openapi.json documents: %v", req.Method, req.URL.Path, res.StatusCode, err)
	}
	return r
}

func basic(id, secret string) http.Header {
	v := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
	return http.Header{"Authorization": {"Basic " + v}}
}

func newMasterKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logBuffer collects a node's logs: its handlers write while the test
// reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
