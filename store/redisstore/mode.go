package redisstore

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Deployment modes for Options.Mode.
const (
	// ModeStandalone is a single Redis server (also the meaning of "").
	ModeStandalone = "standalone"
	// ModeSentinel finds the master through Redis Sentinel and follows
	// failovers.
	ModeSentinel = "sentinel"
	// ModeCluster is Redis Cluster.
	ModeCluster = "cluster"
)

// Dial settings applied when the URL leaves them unset. go-redis v9 would
// dial for up to 5s per attempt, 5 attempts per connection, inside up to 4
// tries per command (max_retries 3), and read for 5s: a blackholed Redis
// would hold a request for well over a minute before it could fail with
// 503. One dial per try leaves retrying to max_retries, as go-redis did
// before it retried dials; in Sentinel mode it also stops the retries
// nesting (each master dial asks the sentinels, with retries of its own),
// which made an unreachable Sentinel take 36s to report. Write follows
// read, as go-redis does when write_timeout is unset.
const (
	defaultDialTimeout   = 2 * time.Second
	defaultReadTimeout   = 3 * time.Second
	defaultDialerRetries = 1
)

// conn is a client built from a URL and what may be logged about it.
type conn struct {
	client redis.UniversalClient
	mode   string
	// target names what Open pings, for errors; attrs describe it for the
	// log. Neither holds a credential.
	target string
	attrs  []any
}

// newConn builds the client for mode from url without connecting. Every error
// is a configuration error and never quotes the URL, which may hold a
// password.
func newConn(rawURL, mode string) (*conn, error) {
	switch mode {
	case "", ModeStandalone:
		return newStandalone(rawURL)
	case ModeSentinel:
		return newSentinel(rawURL)
	case ModeCluster:
		return newCluster(rawURL)
	}
	return nil, fmt.Errorf("redisstore: unknown mode %q: want %q (or empty), %q or %q",
		mode, ModeStandalone, ModeSentinel, ModeCluster)
}

func newStandalone(rawURL string) (*conn, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, parseErr(ModeStandalone, err)
	}
	bound(&o.DialTimeout, &o.ReadTimeout, &o.DialerRetries)
	return &conn{
		client: redis.NewClient(o),
		mode:   ModeStandalone,
		target: o.Addr,
		attrs:  []any{slog.String("addr", o.Addr), slog.Int("db", o.DB), slog.Bool("tls", o.TLSConfig != nil)},
	}, nil
}

// newSentinel: the URL's host and addr= parameters name the sentinels, its
// user and password are the sentinels' own; the master's credentials go in
// the username= and password= parameters (go-redis ParseFailoverURL).
func newSentinel(rawURL string) (*conn, error) {
	o, err := redis.ParseFailoverURL(rawURL)
	if err != nil {
		return nil, parseErr(ModeSentinel, err)
	}
	switch {
	case o.MasterName == "":
		return nil, errors.New("redisstore: sentinel url: the master_name parameter is required")
	case o.RouteByLatency || o.RouteRandomly || o.ReplicaOnly:
		// The store writes on every call, and NewFailoverClient panics on
		// the first two.
		return nil, errors.New("redisstore: sentinel url: route_by_latency, route_randomly and replica_only are not supported: the store writes to the master")
	}
	bound(&o.DialTimeout, &o.ReadTimeout, &o.DialerRetries)
	addrs := strings.Join(o.SentinelAddrs, ",")
	return &conn{
		client: redis.NewFailoverClient(o),
		mode:   ModeSentinel,
		target: "master " + o.MasterName + " via sentinels " + addrs,
		attrs: []any{
			slog.String("master_name", o.MasterName), slog.Any("sentinels", o.SentinelAddrs),
			slog.Int("db", o.DB), slog.Bool("tls", o.TLSConfig != nil),
		},
	}, nil
}

// newCluster: the URL's host and addr= parameters are seed nodes; the
// client discovers the rest.
func newCluster(rawURL string) (*conn, error) {
	o, err := redis.ParseClusterURL(rawURL)
	if err != nil {
		return nil, parseErr(ModeCluster, err)
	}
	// ParseClusterURL ignores the path; a database number there would be
	// silently dropped, and Cluster has database 0 only.
	if u, err := url.Parse(rawURL); err == nil && strings.Trim(u.Path, "/") != "" && strings.Trim(u.Path, "/") != "0" {
		return nil, errors.New("redisstore: cluster url: Redis Cluster has database 0 only; drop the path")
	}
	if o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
		// Replicas lag: a token another node just issued could read as
		// unknown, and its refresh fail with invalid_grant.
		return nil, errors.New("redisstore: cluster url: read_only, route_by_latency and route_randomly are not supported: the store must read its own writes")
	}
	bound(&o.DialTimeout, &o.ReadTimeout, &o.DialerRetries)
	return &conn{
		client: redis.NewClusterClient(o),
		mode:   ModeCluster,
		target: "cluster " + strings.Join(o.Addrs, ","),
		attrs:  []any{slog.Any("seeds", o.Addrs), slog.Bool("tls", o.TLSConfig != nil)},
	}, nil
}

// bound sets the dial and read settings the URL left unset (zero).
// Negative timeouts, go-redis's "no timeout", are the operator's choice and
// kept.
func bound(dialTimeout, readTimeout *time.Duration, dialerRetries *int) {
	if *dialTimeout == 0 {
		*dialTimeout = defaultDialTimeout
	}
	if *readTimeout == 0 {
		*readTimeout = defaultReadTimeout
	}
	if *dialerRetries <= 0 {
		*dialerRetries = defaultDialerRetries
	}
}

// parseErr reports why a URL did not parse without quoting it: net/url's
// errors carry the whole URL, password included, so only their cause is
// kept.
func parseErr(mode string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("redisstore: parse %s url: %w", mode, err)
}
