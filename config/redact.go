package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

const (
	// redactedValue replaces a whole secret.
	redactedValue = "[redacted]"
	// redactedPassword replaces the password inside a URL, keeping its shape.
	redactedPassword = "xxxxx"
)

// LogValue implements slog.LogValuer: every setting under its YAML key, with
// the master key and the passwords inside the database and Redis URLs
// redacted, durations written like 5m.
func (c Config) LogValue() slog.Value {
	dur := func(k string, d time.Duration) slog.Attr { return slog.String(k, formatDuration(d)) }
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("issuer", c.Issuer),
		slog.Group("database", slog.String("url", redactURL(c.Database.URL))),
		slog.Group("redis", slog.String("url", redactURL(c.Redis.URL)), slog.String("prefix", c.Redis.Prefix), slog.String("mode", c.Redis.Mode)),
		slog.String("master_key", redactSecret(c.MasterKey)),
		slog.String("master_key_file", c.MasterKeyFile),
		slog.Group("tokens",
			dur("access_ttl", c.Tokens.AccessTTL),
			dur("refresh_ttl", c.Tokens.RefreshTTL),
			slog.String("audience", c.Tokens.Audience),
			slog.String("signing_algorithm", c.Tokens.SigningAlgorithm),
			dur("clock_skew", c.Tokens.ClockSkew),
			dur("refresh_reuse_grace", c.Tokens.RefreshReuseGrace),
			dur("key_prepublish", c.Tokens.KeyPrePublish),
			slog.String("public_scopes", c.Tokens.PublicScopes),
			slog.String("dpop_nonce", c.Tokens.DPoPNonce),
			dur("assertion_max_lifetime", c.Tokens.AssertionMaxLifetime),
			dur("jwks_fetch_timeout", c.Tokens.JWKSFetchTimeout),
		),
		slog.Group("log", slog.String("level", c.Log.Level), slog.String("format", c.Log.Format)),
		slog.Group("server",
			dur("shutdown_timeout", c.Server.ShutdownTimeout),
			dur("read_header_timeout", c.Server.ReadHeaderTimeout),
			dur("read_timeout", c.Server.ReadTimeout),
			dur("write_timeout", c.Server.WriteTimeout),
			dur("idle_timeout", c.Server.IdleTimeout),
			slog.String("trusted_proxies", c.Server.TrustedProxies),
			slog.String("metrics_addr", c.Server.MetricsAddr),
			slog.String("tracing", c.Server.Tracing),
			slog.String("console", c.Server.Console),
		),
		slog.Group("limits",
			slog.Int("client_rate", c.Limits.ClientRate),
			slog.Int("ip_rate", c.Limits.IPRate),
			slog.Int("revocation_rate", c.Limits.RevocationRate),
			slog.Int("streams_per_client", c.Limits.StreamsPerClient),
			slog.Int("streams", c.Limits.Streams),
			slog.Int("login_rate", c.Limits.LoginRate),
			dur("login_queue_timeout", c.Limits.LoginQueueTimeout),
			slog.Int("api_keys_per_owner", c.Limits.APIKeysPerOwner),
		),
	)
}

// String is the redacted LogValue, so printing a Config with %v or %+v does
// not leak its secrets either.
func (c Config) String() string {
	return c.LogValue().String()
}

// GoString keeps %#v redacted too.
func (c Config) GoString() string {
	return "config.Config" + c.String()
}

func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return redactedValue
}

// RedactURL returns a database or Redis URL fit to print: its password
// replaced by xxxxx, or the whole URL hidden when it does not parse.
func RedactURL(raw string) string {
	return redactURL(raw)
}

// redactURL hides the userinfo password and any query parameter whose name
// mentions a password (libpq accepts ?password= and ?sslpassword=). A URL
// that does not parse cannot be redacted reliably and is hidden whole. An
// SQLite URL holds only a path and is shown as is.
func redactURL(raw string) string {
	if raw == "" || strings.HasPrefix(raw, sqlitePrefix) {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redactedValue
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), redactedPassword)
	}
	u.RawQuery = redactQuery(u.RawQuery)
	return u.String()
}

// redactQuery replaces the values of password parameters, keeping the order
// and encoding of the others.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	params := strings.Split(raw, "&")
	for i, p := range params {
		name, _, _ := strings.Cut(p, "=")
		if unescaped, err := url.QueryUnescape(name); err == nil {
			name = unescaped
		}
		if strings.Contains(strings.ToLower(name), "pass") {
			params[i] = fmt.Sprintf("%s=%s", url.QueryEscape(name), redactedPassword)
		}
	}
	return strings.Join(params, "&")
}
