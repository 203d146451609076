package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// checkLoopback refuses any address but this machine's: the benchmark
// creates and drops databases and deletes keys.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: not a URL", redactURL(raw))
	}
	// libpq-style host and hostaddr parameters override the URL's host.
	hosts := append([]string{u.Hostname()}, u.Query()["host"]...)
	hosts = append(hosts, u.Query()["hostaddr"]...)
	for _, h := range hosts {
		if !isLoopback(h) {
			return fmt.Errorf("%s: only 127.0.0.1 (or localhost) targets are allowed, not %q", redactURL(raw), h)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL hides a password in a URL shown in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// randomName returns prefix followed by 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b)
}

// masterKey returns a fresh TOLLGATE_MASTER_KEY: base64 of 32 random bytes.
func masterKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// withDatabase returns adminURL pointing at database name instead.
func withDatabase(adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// database is a PostgreSQL database created for one run.
type database struct {
	adminURL string
	name     string
	url      string // the database's own URL, for TOLLGATE_DATABASE_URL
}

// createDatabase creates tollgate_bench_<random> through adminURL.
func createDatabase(ctx context.Context, adminURL string) (*database, error) {
	d := &database{adminURL: adminURL, name: randomName("tollgate_bench_")}
	var err error
	if d.url, err = withDatabase(adminURL, d.name); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", redactURL(adminURL), err)
	}
	defer conn.Close(ctx)
	// The name is ours (fixed prefix, hex), so quoting it is enough.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{d.name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", d.name, err)
	}
	return d, nil
}

// drop removes the database, disconnecting whatever still uses it.
func (d *database) drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.adminURL)
	if err != nil {
		return fmt.Errorf("dropping database %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", d.name, err)
	}
	return nil
}

// deleteRedisPrefix deletes every key starting with prefix and returns how
// many there were.
func deleteRedisPrefix(ctx context.Context, redisURL, prefix string) (int, error) {
	if prefix == "" || strings.ContainsAny(prefix, `*?[]\`) {
		return 0, errors.New("refusing to delete Redis keys with an empty or pattern prefix")
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return 0, fmt.Errorf("redis URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	n := 0
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return n, fmt.Errorf("deleting Redis keys %s*: %w", prefix, err)
			}
			n, batch = n+len(batch), batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return n, fmt.Errorf("listing Redis keys %s*: %w", prefix, err)
	}
	if len(batch) > 0 {
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return n, fmt.Errorf("deleting Redis keys %s*: %w", prefix, err)
		}
		n += len(batch)
	}
	return n, nil
}

// pingRedis fails early when Redis is not there.
func pingRedis(ctx context.Context, redisURL string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("redis URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connecting to Redis at %s: %w", redactURL(redisURL), err)
	}
	return nil
}

// backendPIDs lists the PostgreSQL server processes connected to database
// name: the database's share of the work under test.
func backendPIDs(ctx context.Context, adminURL, name string) ([]int, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (int, error) {
		var pid int32
		err := r.Scan(&pid)
		return int(pid), err
	})
}

// redisPID returns the Redis server's process ID.
func redisPID(ctx context.Context, redisURL string) (int, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return 0, err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("redis INFO has no process_id")
}
