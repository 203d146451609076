package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbName is the database the nodes use in the private cluster.
const dbName = "tollgate_soak"

// privatePostgres is a PostgreSQL cluster of the soak's own: initdb in the
// run's directory, a free port, trust authentication on 127.0.0.1 only.
// Run as root, its commands run as the postgres OS user (runuser), since
// PostgreSQL refuses to run as root.
type privatePostgres struct {
	bin        string // directory of initdb and pg_ctl; "" for $PATH
	dir        string // holds data/, the socket and the server log
	port       int
	asPostgres bool
	env        []string
	running    bool
}

// startPostgres creates the cluster in dir, starts it and creates dbName.
func startPostgres(ctx context.Context, bin, dir string, env []string) (*privatePostgres, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pg := &privatePostgres{bin: bin, dir: dir, port: port, asPostgres: os.Geteuid() == 0, env: env}
	if err := pg.prepareDir(); err != nil {
		return nil, err
	}
	if _, err := runCommand(ctx, env, "", pg.argv("initdb", "-D", pg.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-sync", "--no-instructions")...); err != nil {
		return nil, fmt.Errorf("initdb: %w", err)
	}
	if err := pg.start(ctx); err != nil {
		return pg, err
	}
	conn, err := pgx.Connect(ctx, pg.urlFor("postgres"))
	if err != nil {
		return pg, fmt.Errorf("connecting to the private PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		return pg, fmt.Errorf("creating database %s: %w", dbName, err)
	}
	return pg, nil
}

// prepareDir makes dir, owned by postgres when the soak runs as root.
func (pg *privatePostgres) prepareDir() error {
	if err := os.MkdirAll(pg.dir, 0o700); err != nil {
		return err
	}
	if !pg.asPostgres {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root, the private PostgreSQL needs the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(pg.dir, uid, gid)
}

func (pg *privatePostgres) dataDir() string { return filepath.Join(pg.dir, "data") }

// argv is a PostgreSQL command, run as the postgres user when needed.
func (pg *privatePostgres) argv(name string, args ...string) []string {
	path := name
	if pg.bin != "" {
		path = filepath.Join(pg.bin, name)
	}
	argv := append([]string{path}, args...)
	if pg.asPostgres {
		argv = append([]string{"runuser", "-u", "postgres", "--"}, argv...)
	}
	return argv
}

// url is the address nodes use.
func (pg *privatePostgres) url() string { return pg.urlFor(dbName) }

func (pg *privatePostgres) urlFor(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", pg.port, db)
}

// start starts the cluster and waits until it accepts connections.
func (pg *privatePostgres) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir)
	_, err := runCommand(ctx, pg.env, "", pg.argv("pg_ctl", "-D", pg.dataDir(), "-l", filepath.Join(pg.dir, "postgres.log"),
		"-o", opts, "-w", "-t", "60", "start")...)
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, logTail(filepath.Join(pg.dir, "postgres.log"), 20))
	}
	pg.running = true
	return nil
}

// stop shuts the cluster down (fast: open connections are cut, as in a
// crash of the connection, but the data is flushed).
func (pg *privatePostgres) stop(ctx context.Context) error {
	if pg == nil || !pg.running {
		return nil
	}
	_, err := runCommand(ctx, pg.env, "", pg.argv("pg_ctl", "-D", pg.dataDir(), "-m", "fast", "-w", "-t", "60", "stop")...)
	if err != nil {
		return errors.Join(fmt.Errorf("pg_ctl stop: %w", err), pg.kill())
	}
	pg.running = false
	return nil
}

// kill is the last resort when pg_ctl stop failed: SIGQUIT (immediate
// shutdown) to the postmaster named in postmaster.pid.
func (pg *privatePostgres) kill() error {
	b, err := os.ReadFile(filepath.Join(pg.dataDir(), "postmaster.pid"))
	if err != nil {
		return nil // not running
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return fmt.Errorf("unreadable postmaster.pid in %s", pg.dataDir())
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		return fmt.Errorf("killing the postmaster %d: %w", pid, err)
	}
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			pg.running = false
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the postmaster %d did not exit", pid)
}

// postgresVersion returns pg_ctl --version.
func (pg *privatePostgres) version(ctx context.Context) string {
	out, err := runCommand(ctx, pg.env, "", pg.argv("pg_ctl", "--version")...)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
