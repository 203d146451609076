package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// setup is one storage mode's configuration and what must be removed
// after it.
type setup struct {
	mode     string
	dir      string            // working directory: the embedded database lives here
	env      map[string]string // TOLLGATE_* for the server and the CLI
	db       *database         // nil on the embedded default
	cleanups []func(context.Context) error
}

// cleanup undoes the setup, last step first. It is safe on a nil setup.
func (s *setup) cleanup(ctx context.Context) error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var errs []error
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		errs = append(errs, s.cleanups[i](ctx))
	}
	return errors.Join(errs...)
}

func modeTitle(mode string) string {
	if mode == modePostgres {
		return "PostgreSQL + Redis"
	}
	return "Embedded SQLite (the default)"
}

// prepare makes a mode's configuration: a directory for the embedded
// default; a fresh database, a unique Redis prefix and a generated master
// key for PostgreSQL + Redis, migrated with tollgate migrate. The setup it
// returns is never nil, so that whatever was made is cleaned up.
func (b *bench) prepare(ctx context.Context, mode string) (*setup, error) {
	return b.prepareIn(ctx, mode, mode)
}

// prepareIn is prepare with the working directory named dir (under the
// run's temporary directory), for runs that set a mode up more than once.
func (b *bench) prepareIn(ctx context.Context, mode, dir string) (*setup, error) {
	// The refresh run starts its token families with many logins of one
	// user: the per-user login rate would refuse them.
	s := &setup{mode: mode, dir: filepath.Join(b.tmp, dir), env: map[string]string{"TOLLGATE_RATE_LIMIT_LOGIN": "0"}}
	if err := os.Mkdir(s.dir, 0o700); err != nil {
		return s, err
	}
	if mode != modePostgres {
		return s, nil
	}
	if err := pingRedis(ctx, b.o.redisURL); err != nil {
		return s, err
	}
	db, err := createDatabase(ctx, b.o.databaseURL)
	if err != nil {
		return s, err
	}
	s.db = db
	s.cleanups = append(s.cleanups, func(ctx context.Context) error {
		err := db.drop(ctx)
		if err == nil {
			b.logf("[%s] dropped database %s", mode, db.name)
		}
		return err
	})
	prefix := randomName("tollgate_bench_") + ":"
	s.cleanups = append(s.cleanups, func(ctx context.Context) error {
		n, err := deleteRedisPrefix(ctx, b.o.redisURL, prefix)
		b.logf("[%s] deleted %d Redis keys %s*", mode, n, prefix)
		return err
	})
	s.env["TOLLGATE_DATABASE_URL"] = db.url
	s.env["TOLLGATE_REDIS_URL"] = b.o.redisURL
	s.env["TOLLGATE_REDIS_PREFIX"] = prefix
	s.env["TOLLGATE_MASTER_KEY"] = masterKey()
	b.logf("[%s] database %s, Redis prefix %s; running tollgate migrate", mode, db.name, prefix)
	_, err = b.cli(s, nil).run(ctx, "", "migrate")
	return s, err
}

// cli is the tollgate command line configured like the setup's servers.
func (b *bench) cli(s *setup, extra map[string]string) cli {
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return cli{bin: b.bin, dir: s.dir, env: childEnv(b.environ, env)}
}

// instance is a running Tollgate and the clients, user and key the
// scenarios use.
type instance struct {
	setup       *setup
	mode        string
	base        string
	ceilingBase string
	proc        *process
	api         api
	cc          credentials // client_credentials, scope bench:read
	web         credentials // password and refresh_token
	rs          credentials // resource server: tollgate:introspect
	username    string
	password    string
	apiKey      string
	// apiKeyMissing says why the API-key exchange cannot be measured.
	apiKeyMissing string
}

// startInstance starts tollgate serve, waits until it is ready, and creates
// (or, on a second start, creates again) the scenario's clients.
func (b *bench) startInstance(ctx context.Context, s *setup, name string) (*instance, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := b.cli(s, map[string]string{"TOLLGATE_ADDR": addr})
	p, err := startProcess(name, []string{b.bin, "serve"}, s.dir, c.env, filepath.Join(s.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	in := &instance{setup: s, mode: s.mode, base: "http://" + addr, ceilingBase: b.ceilingBase, proc: p, api: newAPI("http://" + addr)}
	b.logf("[%s] started %s (pid %d) at %s", s.mode, name, p.pid(), in.base)
	if err := p.waitReady(ctx, in.base+"/readyz", time.Minute); err != nil {
		return nil, errors.Join(err, p.stop(stopTimeout))
	}
	if err := in.createFixtures(ctx, c, name); err != nil {
		return nil, errors.Join(fmt.Errorf("creating clients and users with the CLI: %w", err), p.stop(stopTimeout))
	}
	return in, nil
}

// createFixtures creates the clients, the user and the API key through the
// CLI. A missing or failing apikey command is not an error: the API-key
// scenario is then reported as not available, with the reason.
func (in *instance) createFixtures(ctx context.Context, c cli, tag string) error {
	var err error
	if in.cc, err = c.createClient(ctx, "--name", tag+"-cc", "--scopes", benchScope); err != nil {
		return err
	}
	if in.web, err = c.createClient(ctx, "--name", tag+"-web", "--grant-types", "password,refresh_token", "--scopes", benchScope); err != nil {
		return err
	}
	if in.rs, err = c.createClient(ctx, "--name", tag+"-rs", "--scopes", "tollgate:introspect"); err != nil {
		return err
	}
	in.username, in.password = tag+"-user", rand.Text()
	if err := c.createUser(ctx, in.username, in.password); err != nil {
		return err
	}
	in.apiKey, err = c.createAPIKey(ctx, in.cc.ID, benchScope)
	switch {
	case errors.Is(err, errNoAPIKeyCommand):
		in.apiKeyMissing = err.Error()
		return nil
	case err != nil:
		in.apiKeyMissing = "tollgate apikey create failed: " + err.Error()
		return nil
	}
	in.apiKeyMissing, err = in.api.probeExchange(ctx, in.apiKey)
	return err
}
