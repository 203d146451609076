package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// started is a `tollgate serve` run through run, as main does.
type started struct {
	logs *logBuffer
	done chan error
	stop context.CancelFunc
}

// startServe runs `tollgate serve` with vars and waits until it listens or
// fails; err is its error when it failed.
func startServe(t *testing.T, vars map[string]string) (s *started, err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s = &started{logs: &logBuffer{}, done: make(chan error, 1), stop: cancel}
	go func() {
		s.done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, s.logs)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			return s, err
		case <-time.After(10 * time.Millisecond):
		}
		if strings.Contains(s.logs.String(), `"msg":"tollgate listening"`) {
			return s, nil
		}
	}
	t.Fatal("serve neither listened nor failed")
	return s, nil
}

// embeddedVars configures a fresh embedded store listening on a free port.
func embeddedVars(t *testing.T) map[string]string {
	return map[string]string{
		"TOLLGATE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "t.db"),
		"TOLLGATE_ADDR":         "127.0.0.1:0",
	}
}

// refusedPort returns a local port nothing listens on.
func refusedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// configLine returns the "configuration" line serve logged.
func configLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(logs, "\n") {
		var line struct {
			Msg    string         `json:"msg"`
			Level  string         `json:"level"`
			Config map[string]any `json:"config"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "configuration" {
			if line.Level != "INFO" {
				t.Errorf("configuration logged at %s, want INFO", line.Level)
			}
			return line.Config
		}
	}
	t.Fatalf("no configuration line in the log:\n%s", logs)
	return nil
}

// TestServeLogsConfiguration: serve logs the settings in effect once, at
// Info, and no secret: not the master key, not the admin client's secret
// (which serve never reads).
func TestServeLogsConfiguration(t *testing.T) {
	t.Parallel()
	vars := embeddedVars(t)
	key, adminSecret := newMasterKey(), "admin-secret-"+randHex(8)
	vars["TOLLGATE_MASTER_KEY"] = key
	vars["TOLLGATE_ADMIN_CLIENT_SECRET"] = adminSecret
	vars["TOLLGATE_ACCESS_TOKEN_TTL"] = "7m"
	s, err := startServe(t, vars)
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	logs := s.logs.String()
	cfg := configLine(t, logs)
	tokens, _ := cfg["tokens"].(map[string]any)
	if cfg["master_key"] != "[redacted]" || cfg["database"].(map[string]any)["url"] != vars["TOLLGATE_DATABASE_URL"] || tokens["access_ttl"] != "7m" {
		t.Errorf("logged configuration = %v", cfg)
	}
	if n := strings.Count(logs, `"msg":"configuration"`); n != 1 {
		t.Errorf("configuration logged %d times", n)
	}
	for name, secret := range map[string]string{"master key": key, "admin client secret": adminSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the log", name)
		}
	}
}

// TestUnreachableRedis: PostgreSQL (with a password in its URL) is up,
// Redis (with a password) is not. The configuration is logged first, with
// both passwords redacted; the error is one line that names Redis at its
// redacted URL and says what to do.
func TestUnreachableRedis(t *testing.T) {
	t.Parallel()
	pgURL, _ := sqltest.PostgresURL(t)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	dbPassword, redisPassword, key := "db-pw-"+randHex(8), "redis-pw-"+randHex(8), newMasterKey()
	u.User = url.UserPassword(u.User.Username(), dbPassword) // the test server trusts any password
	port := refusedPort(t)
	vars := map[string]string{
		"TOLLGATE_DATABASE_URL": u.String(),
		"TOLLGATE_MASTER_KEY":   key,
		"TOLLGATE_REDIS_URL":    "redis://:" + redisPassword + "@127.0.0.1:" + port + "/0",
		"TOLLGATE_ADDR":         "127.0.0.1:0",
	}
	if err := run(context.Background(), []string{"migrate"}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s, err := startServe(t, vars)
	if err == nil {
		t.Fatal("serve started without Redis")
	}
	want := "cannot reach Redis at redis://:xxxxx@127.0.0.1:" + port + "/0: connection refused; " +
		"start Redis or unset TOLLGATE_REDIS_URL to keep refresh and revocation state in the database"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	logs := s.logs.String()
	cfg := configLine(t, logs)
	if got := cfg["redis"].(map[string]any)["url"]; got != "redis://:xxxxx@127.0.0.1:"+port+"/0" {
		t.Errorf("logged redis.url = %v", got)
	}
	for name, secret := range map[string]string{"master key": key, "database password": dbPassword, "Redis password": redisPassword} {
		if strings.Contains(logs, secret) || strings.Contains(err.Error(), secret) {
			t.Errorf("the %s appears in the log or the error", name)
		}
	}
}

// TestUnreachablePostgres: one line that names PostgreSQL at its redacted
// URL, the cause and what to do.
func TestUnreachablePostgres(t *testing.T) {
	t.Parallel()
	port := refusedPort(t)
	vars := map[string]string{
		"TOLLGATE_DATABASE_URL": "postgres://tollgate:s3cret-pw@127.0.0.1:" + port + "/tollgate",
		"TOLLGATE_MASTER_KEY":   newMasterKey(),
	}
	for _, cmd := range []string{"serve", "migrate"} {
		err := run(context.Background(), []string{cmd}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, io.Discard)
		want := "cannot reach PostgreSQL at postgres://tollgate:xxxxx@127.0.0.1:" + port + "/tollgate: connection refused; " +
			"start PostgreSQL or correct the host and port in TOLLGATE_DATABASE_URL"
		if err == nil || err.Error() != want {
			t.Errorf("%s: error:\n%v\nwant:\n%s", cmd, err, want)
		}
	}
}

// TestGoRedisLogsNothingOnStderr runs the real binary (this test binary
// re-executed as main) against a Redis that refuses connections: stderr
// holds the configuration line and the one error line, not go-redis's own
// pool lines, which it writes to the process's stderr unless told not to.
func TestGoRedisLogsNothingOnStderr(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = append(os.Environ(), "TOLLGATE_TEST_MAIN_ARGS=serve",
		"TOLLGATE_DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "t.db"),
		"TOLLGATE_REDIS_URL=redis://127.0.0.1:"+refusedPort(t)+"/0", "TOLLGATE_ADDR=127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("serve started without Redis")
	}
	// Every line is one of Tollgate's JSON log lines or its one error line:
	// go-redis's own lines are plain text ("redis: 2026/12/03 ... pool").
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var config, errs int
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "{") && strings.Contains(l, `"msg":"configuration"`):
			config++
		case strings.HasPrefix(l, "{"):
		case strings.HasPrefix(l, "tollgate: cannot reach Redis at "):
			errs++
		default:
			t.Errorf("stderr holds a line not written by Tollgate: %q", l)
		}
	}
	if config != 1 || errs != 1 {
		t.Errorf("stderr holds %d configuration and %d error lines, want one of each:\n%s", config, errs, stderr.String())
	}
}

// TestMainProcess is main, for TestGoRedisLogsNothingOnStderr; it does
// nothing in a normal run.
func TestMainProcess(t *testing.T) {
	args := os.Getenv("TOLLGATE_TEST_MAIN_ARGS")
	if args == "" {
		t.Skip("only run as a child process")
	}
	os.Args = append([]string{"tollgate"}, strings.Fields(args)...)
	main() // exits
}

// assignments are the NAME=VALUE settings a hint tells the user to write.
var assignments = regexp.MustCompile(`(TOLLGATE_[A-Z_]+)=(\S+)`)

// TestAddrHintLeadsToAStart follows the advice for a malformed address
// (a bare port) the way a user would: the every-interface form names the
// issuer too, and with both set serve starts. The address alone would fail
// the issuer check.
func TestAddrHintLeadsToAStart(t *testing.T) {
	t.Parallel()
	port := refusedPort(t)
	vars := embeddedVars(t)
	vars["TOLLGATE_ADDR"] = port
	_, err := startServe(t, vars)
	if err == nil {
		t.Fatal("serve started on a bare port")
	}
	hint := assignments.FindAllStringSubmatch(err.Error(), -1)
	if len(hint) != 3 || hint[0][0] != "TOLLGATE_ADDR=127.0.0.1:"+port || hint[1][0] != "TOLLGATE_ADDR=:"+port || hint[2][1] != "TOLLGATE_ISSUER" {
		t.Fatalf("hint %q does not offer TOLLGATE_ADDR=127.0.0.1:%s, or TOLLGATE_ADDR=:%s with TOLLGATE_ISSUER", err, port, port)
	}

	vars["TOLLGATE_ADDR"] = hint[1][2]
	if _, err := startServe(t, vars); err == nil || !strings.Contains(err.Error(), "TOLLGATE_ISSUER") {
		t.Fatalf("TOLLGATE_ADDR=:%s without an issuer: %v, want the issuer problem", port, err)
	}
	vars[hint[2][1]] = strings.TrimSuffix(hint[2][2], ",")
	s, err := startServe(t, vars)
	if err != nil {
		t.Fatalf("following the hint %v: %v", hint[1:], err)
	}
	if !strings.Contains(s.logs.String(), `"issuer":"`+vars["TOLLGATE_ISSUER"]+`"`) {
		t.Errorf("the node does not use the issuer the hint named: %s", s.logs)
	}
}

// TestBusyPortHintLeadsToAStart: the address is taken; the error names a
// free one, and with it serve starts.
func TestBusyPortHintLeadsToAStart(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	vars := embeddedVars(t)
	vars["TOLLGATE_ADDR"] = busy.Addr().String()
	_, err = startServe(t, vars)
	if err == nil {
		t.Fatal("serve started on a busy port")
	}
	hint := assignments.FindStringSubmatch(err.Error())
	if !strings.Contains(err.Error(), "another process already listens there") || hint == nil || hint[1] != "TOLLGATE_ADDR" {
		t.Fatalf("error %q does not say what to set", err)
	}
	if _, err := strconv.Atoi(hint[2][strings.LastIndex(hint[2], ":")+1:]); err != nil {
		t.Fatalf("hint %s names no port", hint[0])
	}
	vars["TOLLGATE_ADDR"] = hint[2]
	if _, err := startServe(t, vars); err != nil {
		t.Fatalf("following the hint %s: %v", hint[0], err)
	}
}

// TestServeListsEveryBadVariable: four unparseable variables, four lines
// under one heading, before anything is opened.
func TestServeListsEveryBadVariable(t *testing.T) {
	t.Parallel()
	vars := embeddedVars(t)
	for k, v := range map[string]string{
		"TOLLGATE_ACCESS_TOKEN_TTL": "300", "TOLLGATE_SHUTDOWN_TIMEOUT": "soon",
		"TOLLGATE_RATE_LIMIT_CLIENT": "ten", "TOLLGATE_REVOCATION_STREAMS_PER_CLIENT": "-",
	} {
		vars[k] = v
	}
	err := run(context.Background(), []string{"serve"}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve started")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 5 || lines[0] != "invalid configuration, 4 problems:" {
		t.Fatalf("error:\n%v\nwant a heading and four lines", err)
	}
	for i, name := range []string{"TOLLGATE_ACCESS_TOKEN_TTL", "TOLLGATE_SHUTDOWN_TIMEOUT", "TOLLGATE_RATE_LIMIT_CLIENT", "TOLLGATE_REVOCATION_STREAMS_PER_CLIENT"} {
		if !strings.HasPrefix(lines[i+1], name+"=") {
			t.Errorf("line %d = %q, want %s first", i+2, lines[i+1], name)
		}
	}
}

// TestRedisRefusesLogin: a Redis user whose password is wrong is told to
// check the password, not that Redis is down.
func TestRedisRefusesLogin(t *testing.T) {
	t.Parallel()
	base, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(base.String())
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opt)
	defer admin.Close()
	user := "tgtest-" + randHex(6)
	if err := admin.Do(t.Context(), "ACL", "SETUSER", user, "on", ">right-"+randHex(8), "~*", "+@all").Err(); err != nil {
		t.Skipf("this Redis has no ACL users: %v", err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	base.User = url.UserPassword(user, "wrong-"+randHex(8))
	vars := embeddedVars(t)
	vars["TOLLGATE_REDIS_URL"] = base.String()
	_, err = startServe(t, vars)
	want := "Redis at " + strings.Replace(base.String(), base.User.String(), user+":xxxxx", 1) + " refused the login (WRONGPASS"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; check the user and password in TOLLGATE_REDIS_URL") {
		t.Errorf("error:\n%v\nwant it to start %q and say to check the password", err, want)
	}
}

// TestPostgresLacksDatabase: the server is up but the database named in
// the URL is not there.
func TestPostgresLacksDatabase(t *testing.T) {
	t.Parallel()
	base, _ := sqltest.PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawQuery = "/tgtest_absent_"+randHex(6), "sslmode=disable"
	vars := map[string]string{"TOLLGATE_DATABASE_URL": u.String(), "TOLLGATE_MASTER_KEY": newMasterKey()}
	err = run(context.Background(), []string{"migrate"}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "PostgreSQL at "+u.Redacted()+" has no such database") ||
		!strings.HasSuffix(err.Error(), "create it (createdb NAME) or correct the database name in TOLLGATE_DATABASE_URL") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error: %v", err)
	}
}
