package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisBinary returns the path of a Redis program (redis-server,
// redis-cli). When it is missing the test is skipped, or fails if CI=true.
func redisBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (CI=true requires it): %v", name, err)
	}
	t.Skipf("%s not found: %v", name, err)
	return ""
}

// redisServer is a redis-server process started by a test; the test's
// cleanup kills it.
type redisServer struct {
	addr string
	log  string // its log file, quoted when it fails to start
}

// freePort returns a port nothing listens on right now. Another process
// may take it before redis-server binds it: startRedisServer retries.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedisServer runs redis-server in dir on a fresh port, with the
// arguments args returns for that port (a config file first, if any), and
// waits until it answers PING. A port taken meanwhile makes it retry on
// another.
func startRedisServer(t *testing.T, dir string, args func(port int) []string) *redisServer {
	t.Helper()
	bin := redisBinary(t, "redis-server")
	var err error
	for range 3 {
		port := freePort(t)
		var s *redisServer
		if s, err = tryRedisServer(t, bin, dir, port, args(port)); err == nil {
			return s
		}
	}
	t.Fatalf("redis-server did not start: %v", err)
	return nil
}

func tryRedisServer(t *testing.T, bin, dir string, port int, args []string) (*redisServer, error) {
	s := &redisServer{
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		log:  filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"),
	}
	args = append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", s.log)
	cmd := exec.Command(bin, args...)
	// Killed with the test binary too, should a timeout end it before the
	// cleanup runs.
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	if err := waitPing(s.addr, exited); err != nil {
		stop()
		logText, _ := os.ReadFile(s.log)
		return nil, fmt.Errorf("port %d: %w; log:\n%s", port, err, logText)
	}
	t.Cleanup(stop)
	return s, nil
}

// waitPing waits up to 10s for addr to answer PING, or for the process to
// exit (a port already taken, say).
func waitPing(addr string, exited <-chan error) error {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		var reply redis.Error // NOAUTH, say: it answers
		if err == nil || errors.As(err, &reply) {
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("exited early (%v)", werr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("no answer to PING within 10s"), err)
		}
	}
}
