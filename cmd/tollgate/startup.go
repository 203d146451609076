package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/store"
)

// The errors below turn a failure to start (to reach PostgreSQL or Redis, to
// listen) into one line: what failed, the URL with its password redacted,
// the cause in a few words and what to set instead. Drivers are told apart
// by the methods their errors carry, so cmd imports neither.

// sqlState is implemented by PostgreSQL server errors (pgconn.PgError).
type sqlState interface {
	error
	SQLState() string
}

// redisReply is implemented by the error replies of a Redis server, whose
// first word is the kind of error.
type redisReply interface {
	error
	RedisError()
}

// startupError is a clear, one-line account of err.
type startupError struct {
	msg string
	err error
}

func (e *startupError) Error() string { return e.msg }
func (e *startupError) Unwrap() error { return e.err }

func explain(err error, format string, args ...any) error {
	return &startupError{msg: fmt.Sprintf(format, args...), err: err}
}

// databaseUnreachable describes err, from opening the PostgreSQL database
// at dbURL, or returns nil when err is not about reaching it.
func databaseUnreachable(dbURL string, err error) error {
	var pg sqlState
	at := config.RedactURL(dbURL)
	if errors.As(err, &pg) {
		switch code := pg.SQLState(); {
		case code == "3D000": // invalid_catalog_name
			return explain(err, "PostgreSQL at %s has no such database (%s); create it (createdb NAME) or correct the database name in TOLLGATE_DATABASE_URL", at, oneLine(pg))
		case strings.HasPrefix(code, "28"): // invalid authorization
			return explain(err, "PostgreSQL at %s refused the login (%s); check the user and password in TOLLGATE_DATABASE_URL", at, oneLine(pg))
		}
	}
	why := networkCause(err)
	if why == "" {
		if !errors.Is(err, store.ErrUnavailable) {
			return nil
		}
		why = oneLine(err)
	}
	return explain(err, "cannot reach PostgreSQL at %s: %s; start PostgreSQL or correct the host and port in TOLLGATE_DATABASE_URL", at, why)
}

// redisUnreachable describes err, from connecting to Redis at redisURL, or
// returns nil when err is not about reaching it.
func redisUnreachable(redisURL string, err error) error {
	at := config.RedactURL(redisURL)
	var reply redisReply
	if errors.As(err, &reply) {
		switch kind, _, _ := strings.Cut(reply.Error(), " "); kind {
		case "WRONGPASS", "NOAUTH", "NOPERM":
			return explain(err, "Redis at %s refused the login (%s); check the user and password in TOLLGATE_REDIS_URL", at, oneLine(reply))
		}
	}
	why := networkCause(err)
	if why == "" {
		if !errors.Is(err, store.ErrUnavailable) {
			return nil
		}
		why = oneLine(err)
	}
	return explain(err, "cannot reach Redis at %s: %s; start Redis or unset TOLLGATE_REDIS_URL to keep refresh and revocation state in the database", at, why)
}

// networkCause names a dial failure in a few words ("connection refused",
// "no such host db.internal", "timed out"), or returns "".
func networkCause(err error) string {
	var dns *net.DNSError
	var sys *os.SyscallError
	var ne net.Error
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return "no such host " + dns.Name
	case errors.As(err, &dns):
		return "looking up " + dns.Name + ": " + dns.Err
	case errors.As(err, &sys):
		return sys.Err.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	return ""
}

// oneLine is err's message on one line: drivers list each connection
// attempt on a line of its own.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// listenFailed describes a failure to listen on cfg.Addr with what to set
// instead. A suggested port is one that was free a moment ago.
func listenFailed(cfg config.Config, err error) error {
	host, _, _ := net.SplitHostPort(cfg.Addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return explain(err, "cannot listen on %s (TOLLGATE_ADDR): another process already listens there; stop it, or set TOLLGATE_ADDR=%s%s",
			cfg.Addr, freeAddr(host), issuerFollows(cfg))
	case errors.Is(err, syscall.EACCES):
		return explain(err, "cannot listen on %s (TOLLGATE_ADDR): ports below 1024 need privileges; set TOLLGATE_ADDR=%s%s",
			cfg.Addr, net.JoinHostPort(host, "8080"), issuerFollows(cfg))
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return explain(err, "cannot listen on %s (TOLLGATE_ADDR): %s is not an address of this machine; set TOLLGATE_ADDR=%s%s",
			cfg.Addr, host, freeAddr("127.0.0.1"), issuerFollows(cfg))
	}
	return fmt.Errorf("listening on %s (TOLLGATE_ADDR): %w", cfg.Addr, err)
}

// freeAddr returns host with a port that is free now, or host:8081 when
// none can be found.
func freeAddr(host string) string {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return net.JoinHostPort(host, "8081")
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return net.JoinHostPort(host, port)
}

// issuerFollows reminds that an issuer set by hand does not follow the
// address; the derived one (http://ADDR) does.
func issuerFollows(cfg config.Config) string {
	if cfg.Issuer == "http://"+cfg.Addr {
		return ""
	}
	return " (TOLLGATE_ISSUER stays " + cfg.Issuer + ": change it too if clients reach this port directly)"
}
