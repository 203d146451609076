package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EnvVar documents one environment variable Load reads.
type EnvVar struct {
	// Name is the variable, e.g. TOLLGATE_ADDR.
	Name string
	// Default is the value used when neither the variable nor the file sets
	// the setting; "" means unset.
	Default string
	// Description says what the setting does.
	Description string
}

// binding ties one environment variable to the Config field it sets. It is
// the single list both Load and EnvDoc read, so they cannot disagree.
type binding struct {
	env string
	// key is the YAML path of the same setting.
	key  string
	desc string
	// def replaces the default shown by EnvDoc when it is derived from other
	// settings rather than a fixed value.
	def string
	// field returns a *string or *time.Duration inside c.
	field func(c *Config) any
}

// bindings lists every TOLLGATE_* variable, in the order EnvDoc prints them.
var bindings = []binding{
	{"TOLLGATE_ADDR", "addr", "host:port the HTTP server listens on", "",
		func(c *Config) any { return &c.Addr }},
	{"TOLLGATE_ISSUER", "issuer", "public base URL of this server, the \"iss\" of every token (absolute http(s) URL, no query, fragment or trailing slash)",
		"http:// + TOLLGATE_ADDR", func(c *Config) any { return &c.Issuer }},
	{"TOLLGATE_DATABASE_URL", "database.url", "SQL store: postgres://USER:PASSWORD@HOST:PORT/DB, postgresql://… or sqlite:PATH (embedded)", "",
		func(c *Config) any { return &c.Database.URL }},
	{"TOLLGATE_REDIS_URL", "redis.url", "redis:// or rediss:// URL for refresh and revocation state shared by every node; empty keeps it in the SQL store", "",
		func(c *Config) any { return &c.Redis.URL }},
	{"TOLLGATE_REDIS_MODE", "redis.mode", "standalone, sentinel (the URL names the sentinels and ?master_name=) or cluster (seed nodes as ?addr= parameters)", "",
		func(c *Config) any { return &c.Redis.Mode }},
	{"TOLLGATE_REDIS_PREFIX", "redis.prefix", "prefix of every Redis key Tollgate writes", "",
		func(c *Config) any { return &c.Redis.Prefix }},
	{"TOLLGATE_MASTER_KEY", "master_key", "secret that seals signing keys at rest: base64 of 32 bytes (generate one with: openssl rand -base64 32); required with PostgreSQL unless TOLLGATE_MASTER_KEY_FILE is set", "",
		func(c *Config) any { return &c.MasterKey }},
	{"TOLLGATE_MASTER_KEY_FILE", "master_key_file", "file holding the master key in the same base64 form; unset with SQLite means tollgate.key beside the database file, created on first start",
		"tollgate.key beside the SQLite file", func(c *Config) any { return &c.MasterKeyFile }},
	{"TOLLGATE_ACCESS_TOKEN_TTL", "tokens.access_ttl", "lifetime of access tokens (1m to 24h)", "",
		func(c *Config) any { return &c.Tokens.AccessTTL }},
	{"TOLLGATE_REFRESH_TOKEN_TTL", "tokens.refresh_ttl", "lifetime of refresh tokens (at least the access token TTL)", "",
		func(c *Config) any { return &c.Tokens.RefreshTTL }},
	{"TOLLGATE_DEFAULT_AUDIENCE", "tokens.audience", "\"aud\" of tokens whose client names no audience", "the issuer",
		func(c *Config) any { return &c.Tokens.Audience }},
	{"TOLLGATE_SIGNING_ALG", "tokens.signing_algorithm", "JWS algorithm of new signing keys: EdDSA or ES256", "",
		func(c *Config) any { return &c.Tokens.SigningAlgorithm }},
	{"TOLLGATE_CLOCK_SKEW", "tokens.clock_skew", "leeway when checking exp, nbf and iat (0 to 5m)", "",
		func(c *Config) any { return &c.Tokens.ClockSkew }},
	{"TOLLGATE_REFRESH_REUSE_GRACE", "tokens.refresh_reuse_grace", "0: any reuse of a rotated refresh token revokes its family; a positive window (up to 1m) tolerates a concurrent duplicate refresh", "",
		func(c *Config) any { return &c.Tokens.RefreshReuseGrace }},
	{"TOLLGATE_KEY_PREPUBLISH", "tokens.key_prepublish", "how long a new signing key is in the JWKS before it signs (1m to 24h)", "",
		func(c *Config) any { return &c.Tokens.KeyPrePublish }},
	{"TOLLGATE_PUBLIC_SCOPES", "tokens.public_scopes", "space-separated scopes the discovery document advertises in scopes_supported; empty omits the field", "",
		func(c *Config) any { return &c.Tokens.PublicScopes }},
	{"TOLLGATE_DPOP_NONCE", "tokens.dpop_nonce", "off, or required: DPoP proofs at the token endpoint must carry a nonce it hands out (RFC 9449 §8), which limits a proof made in advance to about a minute", "",
		func(c *Config) any { return &c.Tokens.DPoPNonce }},
	{"TOLLGATE_ASSERTION_MAX_LIFETIME", "tokens.assertion_max_lifetime", "how far ahead the exp of a private_key_jwt client assertion may be (1m to 1h)", "",
		func(c *Config) any { return &c.Tokens.AssertionMaxLifetime }},
	{"TOLLGATE_JWKS_FETCH_TIMEOUT", "tokens.jwks_fetch_timeout", "time limit on fetching a client's jwks_uri (100ms to 30s)", "",
		func(c *Config) any { return &c.Tokens.JWKSFetchTimeout }},
	{"TOLLGATE_LOG_LEVEL", "log.level", "debug, info, warn or error", "",
		func(c *Config) any { return &c.Log.Level }},
	{"TOLLGATE_LOG_FORMAT", "log.format", "json or text", "",
		func(c *Config) any { return &c.Log.Format }},
	{"TOLLGATE_SHUTDOWN_TIMEOUT", "server.shutdown_timeout", "how long in-flight requests may finish after SIGINT or SIGTERM", "",
		func(c *Config) any { return &c.Server.ShutdownTimeout }},
	{"TOLLGATE_READ_HEADER_TIMEOUT", "server.read_header_timeout", "time allowed to read request headers", "",
		func(c *Config) any { return &c.Server.ReadHeaderTimeout }},
	{"TOLLGATE_READ_TIMEOUT", "server.read_timeout", "time allowed to read a whole request", "",
		func(c *Config) any { return &c.Server.ReadTimeout }},
	{"TOLLGATE_WRITE_TIMEOUT", "server.write_timeout", "time allowed to write a response", "",
		func(c *Config) any { return &c.Server.WriteTimeout }},
	{"TOLLGATE_IDLE_TIMEOUT", "server.idle_timeout", "how long an idle keep-alive connection stays open", "",
		func(c *Config) any { return &c.Server.IdleTimeout }},
	{"TOLLGATE_RATE_LIMIT_CLIENT", "limits.client_rate", "token requests per second per client (a client's own rate_limit wins); 0: no limit", "",
		func(c *Config) any { return &c.Limits.ClientRate }},
	{"TOLLGATE_RATE_LIMIT_IP", "limits.ip_rate", "requests per second per caller address on the OAuth endpoints; 0: no limit", "",
		func(c *Config) any { return &c.Limits.IPRate }},
	{"TOLLGATE_RATE_LIMIT_REVOCATION", "limits.revocation_rate", "revocation requests per second per client (POST /oauth2/revoke); 0: no limit", "",
		func(c *Config) any { return &c.Limits.RevocationRate }},
	{"TOLLGATE_REVOCATION_STREAMS_PER_CLIENT", "limits.streams_per_client", "open revocation streams per client on one node (at least 1)", "",
		func(c *Config) any { return &c.Limits.StreamsPerClient }},
	{"TOLLGATE_REVOCATION_STREAMS", "limits.streams", "open revocation streams per node (at least 1)", "",
		func(c *Config) any { return &c.Limits.Streams }},
	{"TOLLGATE_RATE_LIMIT_LOGIN", "limits.login_rate", "successful password logins per minute per username; 0: no limit", "",
		func(c *Config) any { return &c.Limits.LoginRate }},
	{"TOLLGATE_LOGIN_QUEUE_TIMEOUT", "limits.login_queue_timeout", "how long a password login waits for a free password-hashing slot before it is answered 503 with Retry-After (100ms to 30s)", "",
		func(c *Config) any { return &c.Limits.LoginQueueTimeout }},
	{"TOLLGATE_API_KEYS_PER_OWNER", "limits.api_keys_per_owner", "active API keys one owner (user, client or an application's subject) may hold; creating one more fails with 409 until one is revoked; 0: no limit", "",
		func(c *Config) any { return &c.Limits.APIKeysPerOwner }},
	{"TOLLGATE_METRICS_ADDR", "server.metrics_addr", "Prometheus metrics: empty serves /metrics on the main listener, off disables them, host:port serves them on a listener of their own", "",
		func(c *Config) any { return &c.Server.MetricsAddr }},
	{"TOLLGATE_TRACING", "server.tracing", "OpenTelemetry tracing: empty (off), otlp (OTLP/HTTP, set OTEL_EXPORTER_OTLP_ENDPOINT) or stdout", "",
		func(c *Config) any { return &c.Server.Tracing }},
	{"TOLLGATE_CONSOLE", "server.console", "serve the admin web console at /console (sign-in by users with the admin role): true or false", "",
		func(c *Config) any { return &c.Server.Console }},
	{"TOLLGATE_TRUSTED_PROXIES", "server.trusted_proxies", "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client address; empty trusts none", "",
		func(c *Config) any { return &c.Server.TrustedProxies }},
}

// EnvDoc lists every environment variable Load reads, with its default and
// meaning, for the README and `tollgate serve --help`.
func EnvDoc() []EnvVar {
	d := Default()
	out := make([]EnvVar, 0, len(bindings))
	for _, b := range bindings {
		def := b.def
		if def == "" {
			def = formatField(b.field(&d))
		}
		out = append(out, EnvVar{Name: b.env, Default: def, Description: b.desc})
	}
	return out
}

// applyEnv sets every field whose variable is non-empty. An empty variable
// counts as unset, because getenv cannot tell the two apart. It returns one
// problem per malformed value.
func (c *Config) applyEnv(getenv func(string) string) []error {
	if getenv == nil {
		return nil
	}
	var errs []error
	for _, b := range bindings {
		if v := getenv(b.env); v != "" {
			if err := b.set(c, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// set parses v into b's field. Only durations and numbers are parsed, so the
// value may be quoted in the error: secrets are plain strings and never fail
// here.
func (b binding) set(c *Config, v string) error {
	switch p := b.field(c).(type) {
	case *string:
		*p = v
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s=%q is not a duration: %s", b.env, v, durationAdvice(v))
		}
		*p = d
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s=%q is not a whole number: write one like 50", b.env, v)
		}
		*p = n
	default:
		return fmt.Errorf("config: %s is bound to an unsupported field type %T", b.env, p)
	}
	return nil
}

// formatField renders a *string or *time.Duration field for humans.
func formatField(p any) string {
	switch p := p.(type) {
	case *string:
		return *p
	case *time.Duration:
		return formatDuration(*p)
	case *int:
		return strconv.Itoa(*p)
	default:
		return fmt.Sprint(p)
	}
}

// formatDuration writes d the way users write it: 720h, 5m, 1h30m, 0s,
// instead of time.Duration's 720h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
