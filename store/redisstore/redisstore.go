// Package redisstore keeps refresh-token state and the revocation log in
// Redis. Every key expires with the records it holds, so nothing grows
// without bound (the one exception, the revocation Seq counter, is a single
// integer), and every multi-key change runs in one Lua script whose keys
// share a hash tag, so the store is atomic on a single node and on Redis
// Cluster alike.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "tollgate:"

// Options configures a Store.
type Options struct {
	// Prefix starts every key the store writes, so that several
	// deployments can share one Redis. Default DefaultPrefix. It must not
	// contain '{' or '}': those would move the Redis Cluster hash tag.
	Prefix string
	// Mode says what Open's URL names (the go-redis URL formats):
	//   - "" or ModeStandalone: one server, redis[s]://[user:pass@]host:port/db
	//     (redis.ParseURL).
	//   - ModeSentinel: sentinels, redis[s]://[suser:spass@]host:port/db
	//     ?master_name=NAME[&addr=host:port...][&username=U&password=P];
	//     the userinfo is the sentinels' login, username= and password= the
	//     master's (redis.ParseFailoverURL).
	//   - ModeCluster: seed nodes, redis[s]://[user:pass@]host:port
	//     [?addr=host:port...]; database 0 only (redis.ParseClusterURL).
	// Options that would read from replicas are refused. Dial and
	// read/write timeouts the URL leaves unset default to 2s and 3s, with
	// one dial attempt per command try (max_retries). New ignores Mode: its
	// client is already built.
	Mode string
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
}

// Store implements store.RefreshTokenStore and store.RevocationStore on
// Redis. It is safe for concurrent use, across goroutines and processes
// sharing the Redis.
type Store struct {
	client redis.UniversalClient
	prefix string
	log    *slog.Logger
}

var _ store.RefreshTokenStore = (*Store)(nil)

// Open builds a client for opts.Mode from url (redis:// or rediss://, with
// go-redis query options such as dial_timeout), connects and pings. An
// unreachable server yields an error wrapping store.ErrUnavailable; an
// unknown mode, a bad URL or a refused login does not. No error quotes the
// URL, which may hold a password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if err := validPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	c, err := newConn(url, opts.Mode)
	if err != nil {
		return nil, err
	}
	s := New(c.client, opts)
	if err := s.client.Ping(ctx).Err(); err != nil {
		_ = s.client.Close()
		return nil, s.wrap("ping "+c.target, err)
	}
	attrs := append([]any{slog.String("mode", c.mode)}, c.attrs...)
	s.log.Info("redis store connected", append(attrs, slog.String("prefix", s.prefix))...)
	return s, nil
}

// New wraps an existing client (standalone, Sentinel or Cluster). The Store
// owns it from then on: Close closes it. New panics if opts.Prefix contains
// a brace, a configuration error Open reports as an error instead.
func New(client redis.UniversalClient, opts Options) *Store {
	if err := validPrefix(opts.Prefix); err != nil {
		panic(err)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{client: client, prefix: prefix, log: log}
}

// Ping checks that Redis answers. The error wraps store.ErrUnavailable when
// it does not.
func (s *Store) Ping(ctx context.Context) error {
	return s.wrap("ping", s.client.Ping(ctx).Err())
}

// Close closes the underlying client.
func (s *Store) Close() error {
	return s.client.Close()
}

// Client returns the underlying client, for callers that keep other state in
// the same Redis.
func (s *Store) Client() redis.UniversalClient {
	return s.client
}

func validPrefix(p string) error {
	if strings.ContainsAny(p, "{}") {
		return fmt.Errorf("redisstore: key prefix %q must not contain '{' or '}'", p)
	}
	return nil
}

// wrap translates a go-redis error at the package boundary: redis.Nil
// becomes store.ErrNotFound and anything meaning "Redis cannot serve now"
// wraps store.ErrUnavailable as well as the cause.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case nilReply(err):
		return fmt.Errorf("redisstore: %s: %w", op, store.ErrNotFound)
	case unavailable(err):
		return fmt.Errorf("redisstore: %s: %w: %w", op, store.ErrUnavailable, err)
	default:
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
}

// nilReply reports a nil reply to the command itself, which go-redis
// returns as redis.Nil unwrapped. Wrapped, redis.Nil comes from the
// Sentinel master lookup (no reachable sentinel knows the master): an
// outage, not a missing record, which as ErrNotFound would turn a refresh
// into invalid_grant and make the client drop its token.
func nilReply(err error) bool {
	return errors.Is(err, redis.Nil) && errors.Unwrap(err) == nil
}

// unavailable reports whether err means Redis could not serve the request
// now but may later: network failures, timeouts, a closed or exhausted pool,
// the server replies a failover or restart produces, and sentinels that do
// not know the master. A canceled context is the caller's choice, not an
// outage.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, redis.Nil) && !nilReply(err):
		return true
	}
	return redis.IsLoadingError(err) ||
		redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) ||
		redis.IsMaxClientsError(err)
}
