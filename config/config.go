// Package config holds Tollgate's one Config: its defaults, Load (defaults,
// then an optional YAML file, then TOLLGATE_* environment variables) and
// Validate. Only cmd/ imports it; other packages take small option structs.
package config

import (
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// sqlitePrefix marks an embedded SQLite database URL: sqlite:PATH.
const sqlitePrefix = "sqlite:"

// keyFileName is the master key file created beside the SQLite database when
// no key is configured.
const keyFileName = "tollgate.key"

// Config is every setting of the tollgate binary. YAML keys are the snake_case
// names in the struct tags; see EnvDoc for the environment variables.
type Config struct {
	// Addr is the host:port the HTTP server listens on.
	Addr string `yaml:"addr"`
	// Issuer is the "iss" of every token and the base of the discovery
	// document. Empty after the file and environment means "http://" + Addr.
	Issuer   string   `yaml:"issuer"`
	Database Database `yaml:"database"`
	Redis    Redis    `yaml:"redis"`
	// MasterKey is the base64 of 32 random bytes that seals signing keys at
	// rest. It is a secret: LogValue and String redact it.
	MasterKey string `yaml:"master_key"`
	// MasterKeyFile names a file holding the master key in the same base64
	// form. Use KeyFilePath for the effective location.
	MasterKeyFile string `yaml:"master_key_file"`
	Tokens        Tokens `yaml:"tokens"`
	Log           Log    `yaml:"log"`
	Server        Server `yaml:"server"`
	Limits        Limits `yaml:"limits"`
}

// Database selects the SQL store.
type Database struct {
	// URL is postgres://…, postgresql://… or sqlite:PATH. Its password is a
	// secret: LogValue redacts it.
	URL string `yaml:"url"`
}

// Redis optionally holds refresh and revocation state shared by every node.
type Redis struct {
	// URL is redis://… or rediss://…; empty keeps that state in the SQL store.
	URL string `yaml:"url"`
	// Prefix starts every key Tollgate writes.
	Prefix string `yaml:"prefix"`
	// Mode is how URL reaches Redis: "standalone" (default), "sentinel"
	// (the URL names sentinels and master_name=) or "cluster" (seed nodes
	// as addr= parameters).
	Mode string `yaml:"mode"`
}

// Tokens shapes the tokens Tollgate issues and the keys that sign them.
type Tokens struct {
	AccessTTL  time.Duration `yaml:"access_ttl"`
	RefreshTTL time.Duration `yaml:"refresh_ttl"`
	// Audience is the default "aud"; empty after load means the issuer.
	Audience string `yaml:"audience"`
	// SigningAlgorithm is the JWS "alg" of new keys: EdDSA or ES256.
	SigningAlgorithm string `yaml:"signing_algorithm"`
	// ClockSkew is the leeway allowed when checking exp, nbf and iat.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// RefreshReuseGrace is how long after a rotation a duplicate of the
	// rotated refresh token is tolerated (a client's concurrent retry)
	// instead of revoking the token family. Zero tolerates no reuse
	// (RFC 9700 §4.14.2).
	RefreshReuseGrace time.Duration `yaml:"refresh_reuse_grace"`
	// KeyPrePublish is how long a new signing key is published in the JWKS
	// before it signs, so resource servers know it first.
	KeyPrePublish time.Duration `yaml:"key_prepublish"`
	// PublicScopes, space-separated, are the scopes the unauthenticated
	// discovery document advertises in scopes_supported. Empty (the
	// default) omits the field: the clients' scopes are not published.
	PublicScopes string `yaml:"public_scopes"`
	// DPoPNonce is "required" to make the token endpoint demand a nonce of
	// its own in every DPoP proof (RFC 9449 §8), or "off" (the default).
	DPoPNonce string `yaml:"dpop_nonce"`
	// AssertionMaxLifetime caps how far ahead the exp of a private_key_jwt
	// client assertion may be (RFC 7523 §3).
	AssertionMaxLifetime time.Duration `yaml:"assertion_max_lifetime"`
	// JWKSFetchTimeout bounds one fetch of a client's jwks_uri.
	JWKSFetchTimeout time.Duration `yaml:"jwks_fetch_timeout"`
}

// PublicScopeList returns PublicScopes split into scope values.
func (t Tokens) PublicScopeList() []string {
	return strings.Fields(t.PublicScopes)
}

// Log configures the process logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// Limits are request-rate limits on the token, introspection and
// revocation endpoints, in requests per second. They are off (0) unless
// configured, so legitimate high-volume clients and load tests are not
// throttled by surprise. With Redis they are cluster-wide (GCRA), else per
// process.
type Limits struct {
	// ClientRate applies to each client that has no rate_limit of its own.
	ClientRate int `yaml:"client_rate"`
	// IPRate applies to each caller address.
	IPRate int `yaml:"ip_rate"`
	// RevocationRate is each client's revocation budget (POST
	// /oauth2/revoke), on by default, unlike the rates above: every
	// revocation is held by every node until it expires. 0 turns it off.
	RevocationRate int `yaml:"revocation_rate"`
	// StreamsPerClient and Streams cap the open revocation streams per
	// client and per node.
	StreamsPerClient int `yaml:"streams_per_client"`
	Streams          int `yaml:"streams"`
	// LoginRate bounds successful password logins per username per minute
	// (on by default: one account cannot take every password-hashing
	// slot). 0: no limit.
	LoginRate int `yaml:"login_rate"`
	// LoginQueueTimeout is how long a password login waits for a free
	// password-hashing slot before it is answered 503 with Retry-After.
	LoginQueueTimeout time.Duration `yaml:"login_queue_timeout"`
	// APIKeysPerOwner bounds the active API keys of one owner (a user, a
	// client, or an application's subject); 0: no limit.
	APIKeysPerOwner int `yaml:"api_keys_per_owner"`
}

// Server holds the HTTP server's timeouts.
type Server struct {
	// ShutdownTimeout bounds the graceful drain after a signal.
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// TrustedProxies lists, comma-separated, the reverse proxies (IPs or
	// CIDRs) whose X-Forwarded-For is believed. Empty trusts none: the
	// client address is the connection's.
	TrustedProxies string `yaml:"trusted_proxies"`
	// MetricsAddr is where Prometheus metrics are served: "" on the main
	// listener at /metrics, "off" nowhere, or host:port for a listener of
	// their own.
	MetricsAddr string `yaml:"metrics_addr"`
	// Tracing turns on OpenTelemetry tracing: "" off, "otlp" (exported
	// over OTLP/HTTP, configured by the standard OTEL_EXPORTER_OTLP_*
	// variables), or "stdout" (spans as JSON on standard error).
	Tracing string `yaml:"tracing"`
	// Console serves the admin web console at /console: "true" (the
	// default) or "false".
	Console string `yaml:"console"`
}

// ConsoleOn reports whether the admin console is served.
func (s Server) ConsoleOn() bool { return s.Console != "false" }

// Default returns the configuration used when nothing is set: the embedded
// SQLite store in tollgate.db, no Redis, listening on 127.0.0.1:8080. It is
// valid.
func Default() Config {
	c := defaults()
	c.derive()
	return c
}

// defaults is Default before the derived fields (Issuer, Audience) are
// filled, so Load can tell whether the file or environment set them.
func defaults() Config {
	return Config{
		Addr:     "127.0.0.1:8080",
		Database: Database{URL: sqlitePrefix + "tollgate.db"},
		Redis:    Redis{Prefix: "tollgate:"},
		Tokens: Tokens{
			AccessTTL:        5 * time.Minute,
			RefreshTTL:       720 * time.Hour,
			SigningAlgorithm: "EdDSA",
			ClockSkew:        30 * time.Second,
			KeyPrePublish:    10 * time.Minute,
			DPoPNonce:        "off",

			AssertionMaxLifetime: 5 * time.Minute,
			JWKSFetchTimeout:     5 * time.Second,
		},
		Log:    Log{Level: "info", Format: "json"},
		Limits: Limits{RevocationRate: 50, StreamsPerClient: 100, Streams: 2000, LoginRate: 10, LoginQueueTimeout: 2 * time.Second, APIKeysPerOwner: 100},
		Server: Server{
			ShutdownTimeout:   15 * time.Second,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       60 * time.Second,
			Console:           "true",
		},
	}
}

// derive fills the settings whose default depends on others.
func (c *Config) derive() {
	if c.Issuer == "" {
		c.Issuer = "http://" + c.Addr
	}
	if c.Tokens.Audience == "" {
		c.Tokens.Audience = c.Issuer
	}
}

// Embedded reports whether the database is the embedded SQLite store.
func (c Config) Embedded() bool {
	return strings.HasPrefix(c.Database.URL, sqlitePrefix)
}

// SQLitePath returns the text after "sqlite:" in the database URL (a file
// path, optionally with driver query parameters), or "" when the database is
// not SQLite.
func (c Config) SQLitePath() string {
	if !c.Embedded() {
		return ""
	}
	return strings.TrimPrefix(c.Database.URL, sqlitePrefix)
}

// KeyFilePath returns the file the master key is read from: MasterKeyFile
// when set, otherwise tollgate.key beside the SQLite database. It returns ""
// when the key comes from MasterKey, or when neither applies (PostgreSQL
// without a key, which Validate rejects).
func (c Config) KeyFilePath() string {
	switch {
	case c.MasterKey != "":
		return ""
	case c.MasterKeyFile != "":
		return c.MasterKeyFile
	case c.Embedded():
		// Driver parameters (sqlite:t.db?_pragma=…) are not part of the path.
		file, _, _ := strings.Cut(c.SQLitePath(), "?")
		return filepath.Join(filepath.Dir(file), keyFileName)
	default:
		return ""
	}
}

// SlogLevel returns Level as a slog.Level; anything Validate rejects maps to
// slog.LevelInfo.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// TrustedProxyList returns TrustedProxies split into entries.
func (s Server) TrustedProxyList() []string {
	var out []string
	for _, p := range strings.Split(s.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
