package main

import (
	"errors"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const wrkOutput = `Running 10s test @ http://127.0.0.1:7070/oauth2/token
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.91ms    5.64ms 103.44ms   93.10%
    Req/Sec    23.23k     2.95k   26.82k    80.50%
  Latency Distribution
     50%    1.45ms
     75%    2.20ms
     90%    4.71ms
     99%   31.51ms
  462389 requests in 10.01s, 261.78MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  46208.27
Transfer/sec:     26.16MB
`

func TestParseWrk(t *testing.T) {
	t.Parallel()
	m, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := measurement{Requests: 462389, OK: 462382, Non2xx: 7, Transport: 5, Elapsed: 10010 * time.Millisecond, P50: 1450 * time.Microsecond, P99: 31510 * time.Microsecond}
	if m != want {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
	if _, err := parseWrk(strings.Replace(wrkOutput, "     99%   31.51ms\n", "", 1)); err == nil {
		t.Error("output without the 99th percentile was accepted")
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:7070 Connection refused"); err == nil {
		t.Error("a failure message was accepted")
	}
}

func TestWrkDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[[2]string]time.Duration{
		{"313.00", "us"}: 313 * time.Microsecond, {"16.43", "ms"}: 16430 * time.Microsecond,
		{"1.50", "s"}: 1500 * time.Millisecond, {"2.00", "m"}: 2 * time.Minute,
	} {
		if got := wrkDuration(in[0], in[1]); got != want {
			t.Errorf("wrkDuration(%q, %q) = %v, want %v", in[0], in[1], got, want)
		}
	}
}

func TestWrkScript(t *testing.T) {
	t.Parallel()
	tgt := formTarget("http://127.0.0.1:1/oauth2/introspect", `Basic a"b\c`, map[string][]string{"token": {"x.y_z"}})
	got, err := wrkScript(tgt)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"wrk.method = \"POST\"\n",
		"wrk.body = \"token=x.y_z\"\n",
		"wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n",
		"wrk.headers[\"Authorization\"] = \"Basic a\\\"b\\\\c\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	tgt.Body = []byte("a\nb")
	if _, err := wrkScript(tgt); err == nil {
		t.Error("a newline in the body was accepted")
	}
}

func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	status := "Name:\ttollgate\nVmPeak:\t 1300000 kB\nVmHWM:\t   43020 kB\nVmRSS:\t   41000 kB\nThreads:\t7\n"
	m, err := parseProcStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if m != (memory{RSS: 41000 * 1024, Peak: 43020 * 1024}) {
		t.Errorf("got %+v", m)
	}
	if _, err := parseProcStatus(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("a status without VmRSS was accepted")
	}
	if _, err := parseProcStatus(strings.NewReader("VmRSS:\t 12 MB\n")); err == nil {
		t.Error("an unexpected unit was accepted")
	}
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable": true,
		"redis://localhost:6379/0":                                    true,
		"redis://[::1]:6379/0":                                        true,
		"postgres://u:secret@db.example.com:5432/x":                   false,
		"redis://10.0.0.5:6379":                                       false,
		"postgres:///postgres?host=/var/run/postgresql":               false,
		"postgres://127.0.0.1/x?host=db.example.com":                  false,
		"postgres://127.0.0.1/x?hostaddr=10.1.1.1":                    false,
	} {
		err := checkLoopback(raw)
		if (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want allowed=%v", raw, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	got, err := withDatabase("postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "tollgate_bench_0a1b")
	if err != nil || got != "postgres://postgres@127.0.0.1:5432/tollgate_bench_0a1b?sslmode=disable" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestChildEnv(t *testing.T) {
	t.Parallel()
	got := childEnv([]string{"PATH=/bin", "TOLLGATE_DATABASE_URL=postgres://prod", "HOME=/root", "TOLLGATE_LOG_LEVEL=debug"},
		map[string]string{"TOLLGATE_ADDR": "127.0.0.1:1", "TOLLGATE_MASTER_KEY": "k"})
	want := []string{"PATH=/bin", "HOME=/root", "TOLLGATE_ADDR=127.0.0.1:1", "TOLLGATE_MASTER_KEY=k"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseCLIOutput(t *testing.T) {
	t.Parallel()
	c, err := parseCreatedClient([]byte(`{"client_secret": "tgs_s", "client_id": "tgc_i", "client_name": "a"}`))
	if err != nil || c != (credentials{ID: "tgc_i", Secret: "tgs_s"}) {
		t.Errorf("parseCreatedClient = %+v, %v", c, err)
	}
	if _, err := parseCreatedClient([]byte("client_id: tgc_i\n")); err == nil {
		t.Error("table output was accepted")
	}
	k, err := parseCreatedAPIKey([]byte(`{"id": "k1", "api_key": "tgk_abc"}`))
	if err != nil || k != "tgk_abc" {
		t.Errorf("parseCreatedAPIKey = %q, %v", k, err)
	}
	if _, err := parseCreatedAPIKey([]byte(`{"id": "k1"}`)); err == nil {
		t.Error("output without api_key was accepted")
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	exit := &exec.ExitError{}
	if !unknownCommand(&commandError{argv: []string{"tollgate", "apikey"}, err: exit, stderr: `tollgate: unknown command "apikey" for "tollgate"`}) {
		t.Error("cobra's unknown command error was not recognised")
	}
	if unknownCommand(&commandError{argv: []string{"tollgate", "apikey"}, err: exit, stderr: "connecting to PostgreSQL: refused"}) {
		t.Error("another failure was taken for a missing command")
	}
	if unknownCommand(errors.New("unknown command")) {
		t.Error("an error that is not a command's failure was taken for a missing command")
	}
}

func TestOptionsFill(t *testing.T) {
	t.Parallel()
	o := options{duration: 10 * time.Second, warmup: 2 * time.Second, million: 1_000_000, millionTimeout: time.Minute,
		databaseURL: "postgres://u@db.example.com/x", redisURL: "redis://127.0.0.1:6379/0"}
	err := o.fill("embedded,postgres,mysql", "16,abc,64", "client_credentials,nope")
	for _, want := range []string{`unknown mode "mysql"`, `"abc" is not a concurrency`, `unknown scenario "nope"`, "only 127.0.0.1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	o = options{duration: 10 * time.Second, warmup: 2 * time.Second, million: 1_000_000, millionTimeout: time.Minute,
		databaseURL: "postgres://u@127.0.0.1/x", redisURL: "redis://127.0.0.1:6379/0"}
	if err := o.fill("embedded,postgres", "16,64", strings.Join(scenarioOrder, ",")); err != nil || !o.full() {
		t.Errorf("default options: %v, full=%v", err, o.full())
	}
	o.duration = 2 * time.Second
	if o.full() {
		t.Error("a 2 s run counts as full")
	}
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	r := newRecorder(isActive)
	for _, res := range []*vegeta.Result{
		{Code: http.StatusOK, Body: []byte(`{"active":true,"sub":"x"}`), Latency: ms(1)},
		{Code: http.StatusOK, Body: []byte(`{"active":false}`), Latency: ms(2)},
		{Code: http.StatusServiceUnavailable, Body: []byte(`{"error":"temporarily_unavailable"}`), Latency: ms(3)},
		{Error: "dial tcp: connection refused", Latency: ms(4)},
		{Error: vegeta.ErrNoTargets.Error()}, // the request limit: nothing was sent
	} {
		r.add(res)
	}
	m := r.summary(time.Second)
	if m.Requests != 4 || m.OK != 1 || m.BadBody != 1 || m.Non2xx != 1 || m.Transport != 1 || m.Errors() != 3 {
		t.Errorf("got %+v", m)
	}
	if m.RPS() != 1 || m.P50 != ms(2) || m.P99 != ms(4) {
		t.Errorf("RPS %v, p50 %v, p99 %v", m.RPS(), m.P50, m.P99)
	}
	if !strings.Contains(m.Example, "with an unexpected body") {
		t.Errorf("example = %q, want the first failure", m.Example)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	if p := percentile(lat, 50); p != 50*time.Millisecond {
		t.Errorf("p50 of 1..100 ms = %v", p)
	}
	if p := percentile(lat, 99); p != 99*time.Millisecond {
		t.Errorf("p99 of 1..100 ms = %v", p)
	}
	if p := percentile(lat[:1], 99); p != time.Millisecond {
		t.Errorf("p99 of one = %v", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("p50 of none = %v", p)
	}
}

func TestCPUTimes(t *testing.T) {
	t.Parallel()
	busy, total, err := parseStatCPU(strings.NewReader("cpu  289678 0 65468 305784 2959 0 10834 158 0 0\ncpu0 1 2 3\n"))
	if err != nil || busy != 289678+65468+10834+158 || total != busy+305784+2959 {
		t.Errorf("parseStatCPU = %d, %d, %v", busy, total, err)
	}
	if _, _, err := parseStatCPU(strings.NewReader("intr 1 2 3\n")); err == nil {
		t.Error("a line that is not the cpu total was accepted")
	}
	// The command name has a space and a parenthesis; utime..cstime = 5, 6, 7, 8.
	n, err := parsePidStat("42 (tollgate (x) y) S 1 42 42 0 -1 4194304 99 0 0 0 5 6 7 8 20 0 9 0 340110\n")
	if err != nil || n != 26 {
		t.Errorf("parsePidStat = %d, %v", n, err)
	}
	a := cpuTimes{busy: 100, total: 1000, ours: map[int]uint64{1: 20, 2: 30, 3: 5}}
	// 300 busy: 260 ours (1 and 2), 3 has exited and 4 was not there before
	// (their time counts as others'): others 40 of 400.
	b := cpuTimes{busy: 400, total: 1400, ours: map[int]uint64{1: 200, 2: 110, 4: 90}}
	if got := background(a, b); got != 0.1 {
		t.Errorf("background = %v, want 0.1", got)
	}
	if got := background(b, b); got != 0 {
		t.Errorf("background over no time = %v", got)
	}
	b.ours[1] = 500 // our children's ticks can land late: never below 0
	if got := background(a, b); got != 0 {
		t.Errorf("background = %v, want 0", got)
	}
}
