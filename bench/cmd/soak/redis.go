package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// privateRedis is a redis-server of the soak's own, with its data in the
// run's directory. AOF is on, as production must have it: refresh tokens
// and revocations live in Redis and must survive its restart.
type privateRedis struct {
	dir  string
	port int
	env  []string
	proc *process
}

// startRedis starts a new Redis on a free port with its data in dir.
func startRedis(ctx context.Context, dir string, env []string) (*privateRedis, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &privateRedis{dir: dir, port: port, env: env}
	return r, r.start(ctx)
}

// url is the address nodes use.
func (r *privateRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs redis-server (again) on the same port and directory, so a
// restart reloads the AOF, and waits until it answers PING.
func (r *privateRedis) start(ctx context.Context) error {
	argv := []string{"redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", r.dir, "--daemonize", "no", "--maxmemory-policy", "noeviction"}
	p, err := startProcess("redis-server", argv, r.env, r.dir, filepath.Join(r.dir, "redis.log"))
	if err != nil {
		return err
	}
	r.proc = p
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	for {
		if err := rdb.Ping(ctx).Err(); err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited at start (%v):\n%s", p.waitErr, logTail(p.logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("redis-server on port %d not answering PING: %w", r.port, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts Redis down cleanly (SIGTERM: the AOF is flushed first).
func (r *privateRedis) stop() error {
	if r == nil || r.proc == nil {
		return nil
	}
	return r.proc.stop(30 * time.Second)
}

// version returns redis-server --version, shortened.
func redisVersion(ctx context.Context, env []string) string {
	out, err := runCommand(ctx, env, "", "redis-server", "--version")
	if err != nil {
		return "unknown"
	}
	return firstFields(string(out), 3)
}
