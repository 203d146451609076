package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validate reports every problem at once, joined with errors.Join, each
// naming the YAML key and the variable and saying what to write instead. It
// returns nil for a usable configuration, such as Default(). It does no I/O.
func (c Config) Validate() error {
	return errors.Join(c.problems()...)
}

// problems lists what Validate reports, one error per problem.
func (c Config) problems() []error {
	var errs []error
	errs = append(errs, validateAddr(c.Addr)...)
	errs = append(errs, validateIssuer(c.Issuer)...)
	errs = append(errs, validateDatabase(c.Database.URL)...)
	errs = append(errs, validateRedis(c.Redis)...)
	errs = append(errs, validateMasterKey(c)...)
	errs = append(errs, validateTokens(c.Tokens)...)
	errs = append(errs, validateLog(c.Log)...)
	errs = append(errs, validateServer(c.Server)...)
	if c.Limits.ClientRate < 0 || c.Limits.IPRate < 0 {
		errs = append(errs, fmt.Errorf("limits.client_rate (TOLLGATE_RATE_LIMIT_CLIENT) and limits.ip_rate (TOLLGATE_RATE_LIMIT_IP) are requests per second: 0 (no limit) or more"))
	}
	if c.Limits.RevocationRate < 0 {
		errs = append(errs, fmt.Errorf("limits.revocation_rate (TOLLGATE_RATE_LIMIT_REVOCATION) is requests per second: 0 (no limit) or more"))
	}
	if c.Limits.StreamsPerClient < 1 || c.Limits.Streams < 1 {
		errs = append(errs, fmt.Errorf("limits.streams_per_client (TOLLGATE_REVOCATION_STREAMS_PER_CLIENT) and limits.streams (TOLLGATE_REVOCATION_STREAMS) must be at least 1"))
	}
	if c.Limits.LoginRate < 0 {
		errs = append(errs, fmt.Errorf("limits.login_rate (TOLLGATE_RATE_LIMIT_LOGIN) is logins per minute per username: 0 (no limit) or more"))
	}
	if q := c.Limits.LoginQueueTimeout; q < 100*time.Millisecond || q > 30*time.Second {
		errs = append(errs, fmt.Errorf("limits.login_queue_timeout (TOLLGATE_LOGIN_QUEUE_TIMEOUT) %s is out of range: write 100ms to 30s, e.g. 2s", q))
	}
	if c.Limits.APIKeysPerOwner < 0 {
		errs = append(errs, fmt.Errorf("limits.api_keys_per_owner (TOLLGATE_API_KEYS_PER_OWNER) must be 0 (no limit) or more"))
	}
	return errs
}

// validateAddr checks the listen address. Its advice names the issuer too:
// the issuer defaults to http://ADDR, which is no URL for :PORT.
func validateAddr(addr string) []error {
	if hostPort(addr) {
		return nil
	}
	port := portOf(addr)
	return []error{fmt.Errorf("addr (TOLLGATE_ADDR) %q is not HOST:PORT: write TOLLGATE_ADDR=127.0.0.1:%s to listen on this machine only, "+
		"or TOLLGATE_ADDR=:%s with TOLLGATE_ISSUER=https://auth.example.com to listen on every interface "+
		"(the issuer is the URL clients reach Tollgate at)", addr, port, port)}
}

func validateAddrNamed(label, addr string) []error {
	if hostPort(addr) {
		return nil
	}
	return []error{fmt.Errorf("%s %q is not HOST:PORT: write e.g. 127.0.0.1:9090, or :9090 for every interface", label, addr)}
}

// hostPort reports whether addr is HOST:PORT with a numeric port; HOST may
// be empty (every interface).
func hostPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	return err == nil
}

// portOf guesses the port the user meant in a malformed address: a bare
// number ("8080"), or the number after the last colon; else 8080.
func portOf(addr string) string {
	p := addr[strings.LastIndex(addr, ":")+1:]
	if _, err := strconv.ParseUint(p, 10, 16); err == nil {
		return p
	}
	return "8080"
}

// validateIssuer applies RFC 8414 §2 (an issuer has no query or fragment)
// and OpenID Connect Discovery §4.3 (it is compared verbatim, so a trailing
// slash would make a different issuer). Plain http stays allowed for
// development.
func validateIssuer(issuer string) []error {
	const label = "issuer (TOLLGATE_ISSUER)"
	const example = "e.g. https://auth.example.com"
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return []error{fmt.Errorf("%s %q is not an absolute http(s) URL: set it to the URL clients reach Tollgate at, %s", label, issuer, example)}
	}
	var errs []error
	if ip, err := netip.ParseAddr(u.Hostname()); u.Hostname() == "" || (err == nil && ip.IsUnspecified()) {
		errs = append(errs, fmt.Errorf("%s %q names no host clients can reach: set it to the public URL, e.g. TOLLGATE_ISSUER=https://auth.example.com (it defaults to http://ADDR, which only works when addr names a host)", label, issuer))
	}
	if u.User != nil {
		errs = append(errs, fmt.Errorf("%s must not contain user info: remove the part before @", label))
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(issuer, "#") {
		errs = append(errs, fmt.Errorf("%s %q has a query or fragment: remove everything from ? or #", label, issuer))
	}
	if strings.HasSuffix(u.Path, "/") {
		errs = append(errs, fmt.Errorf("%s %q ends with a slash: remove it, issuers are compared verbatim", label, issuer))
	}
	return errs
}

func validateDatabase(dbURL string) []error {
	const label = "database.url (TOLLGATE_DATABASE_URL)"
	const forms = "postgres://USER:PASSWORD@HOST:PORT/DB, postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:PATH (e.g. sqlite:tollgate.db)"
	switch {
	case strings.HasPrefix(dbURL, sqlitePrefix):
		path := strings.TrimPrefix(dbURL, sqlitePrefix)
		if path == "" || strings.HasPrefix(path, "?") {
			return []error{fmt.Errorf("%s names no file: write sqlite:PATH, e.g. sqlite:tollgate.db", label)}
		}
		if strings.HasPrefix(path, "//") {
			return []error{fmt.Errorf("%s %q: write sqlite:PATH without //, e.g. sqlite:/var/lib/tollgate/tollgate.db", label, dbURL)}
		}
	case isPostgres(dbURL):
		// The parse error would quote the URL and its password, so it is
		// not wrapped.
		if _, err := url.Parse(dbURL); err != nil {
			return []error{fmt.Errorf("%s is not a valid URL (check that special characters in the password are percent-encoded): write %s", label, forms)}
		}
	default:
		return []error{fmt.Errorf("%s %s is not supported: write %s", label, redactURL(dbURL), forms)}
	}
	return nil
}

// isPostgres reports a PostgreSQL URL. The prefixes are case-sensitive
// because pgx reads any other spelling as a key=value string.
func isPostgres(dbURL string) bool {
	return strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://")
}

func validateRedis(r Redis) []error {
	var modeErrs []error
	switch r.Mode {
	case "", "standalone", "sentinel", "cluster":
	default:
		modeErrs = append(modeErrs, fmt.Errorf("redis.mode (TOLLGATE_REDIS_MODE) %q: write standalone, sentinel or cluster", r.Mode))
	}
	return append(modeErrs, validateRedisURL(r)...)
}

func validateRedisURL(r Redis) []error {
	const label = "redis.url (TOLLGATE_REDIS_URL)"
	if r.URL == "" {
		return nil
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return []error{fmt.Errorf("%s %s is not a Redis URL: write redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// for TLS, or leave it empty to keep this state in the SQL store", label, redactURL(r.URL))}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if _, err := strconv.ParseUint(db, 10, 8); err != nil {
			return []error{fmt.Errorf("%s %s: the path must be a database number such as /0", label, redactURL(r.URL))}
		}
	}
	return nil
}

func validateTokens(t Tokens) []error {
	var errs []error
	errs = append(errs, checkRange("tokens.access_ttl (TOLLGATE_ACCESS_TOKEN_TTL)", t.AccessTTL, time.Minute, 24*time.Hour)...)
	if t.RefreshTTL < t.AccessTTL {
		errs = append(errs, fmt.Errorf("tokens.refresh_ttl (TOLLGATE_REFRESH_TOKEN_TTL) is %s, shorter than tokens.access_ttl (%s): set it to at least the access token TTL",
			formatDuration(t.RefreshTTL), formatDuration(t.AccessTTL)))
	}
	if strings.TrimSpace(t.Audience) == "" {
		errs = append(errs, errors.New("tokens.audience (TOLLGATE_DEFAULT_AUDIENCE) is blank: leave it unset to use the issuer, or name the resource servers' audience"))
	}
	if t.SigningAlgorithm != "EdDSA" && t.SigningAlgorithm != "ES256" {
		errs = append(errs, fmt.Errorf("tokens.signing_algorithm (TOLLGATE_SIGNING_ALG) %q is not supported: write EdDSA or ES256", t.SigningAlgorithm))
	}
	errs = append(errs, checkRange("tokens.clock_skew (TOLLGATE_CLOCK_SKEW)", t.ClockSkew, 0, 5*time.Minute)...)
	// A long grace would let a stolen refresh token be replayed unnoticed.
	errs = append(errs, checkRange("tokens.refresh_reuse_grace (TOLLGATE_REFRESH_REUSE_GRACE)", t.RefreshReuseGrace, 0, time.Minute)...)
	errs = append(errs, checkRange("tokens.key_prepublish (TOLLGATE_KEY_PREPUBLISH)", t.KeyPrePublish, time.Minute, 24*time.Hour)...)
	errs = append(errs, checkRange("tokens.assertion_max_lifetime (TOLLGATE_ASSERTION_MAX_LIFETIME)", t.AssertionMaxLifetime, time.Minute, time.Hour)...)
	errs = append(errs, checkRange("tokens.jwks_fetch_timeout (TOLLGATE_JWKS_FETCH_TIMEOUT)", t.JWKSFetchTimeout, 100*time.Millisecond, 30*time.Second)...)
	if t.DPoPNonce != "off" && t.DPoPNonce != "required" {
		errs = append(errs, fmt.Errorf("tokens.dpop_nonce (TOLLGATE_DPOP_NONCE) %q is not a choice: write off or required", t.DPoPNonce))
	}
	for _, s := range t.PublicScopeList() {
		if !scopeToken(s) {
			errs = append(errs, fmt.Errorf("tokens.public_scopes (TOLLGATE_PUBLIC_SCOPES) holds %q, not a scope: separate scopes with spaces; each may hold printable ASCII other than '\"' and '\\' (RFC 6749 §3.3)", s))
		}
	}
	return errs
}

// scopeToken reports whether s is one RFC 6749 §3.3 scope-token:
// %x21 / %x23-5B / %x5D-7E.
func scopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

func validateLog(l Log) []error {
	var errs []error
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level (TOLLGATE_LOG_LEVEL) %q is not supported: write debug, info, warn or error", l.Level))
	}
	if l.Format != "json" && l.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format (TOLLGATE_LOG_FORMAT) %q is not supported: write json or text", l.Format))
	}
	return errs
}

func validateServer(s Server) []error {
	timeouts := []struct {
		label string
		d     time.Duration
	}{
		{"server.shutdown_timeout (TOLLGATE_SHUTDOWN_TIMEOUT)", s.ShutdownTimeout},
		{"server.read_header_timeout (TOLLGATE_READ_HEADER_TIMEOUT)", s.ReadHeaderTimeout},
		{"server.read_timeout (TOLLGATE_READ_TIMEOUT)", s.ReadTimeout},
		{"server.write_timeout (TOLLGATE_WRITE_TIMEOUT)", s.WriteTimeout},
		{"server.idle_timeout (TOLLGATE_IDLE_TIMEOUT)", s.IdleTimeout},
	}
	var errs []error
	for _, t := range timeouts {
		// net/http reads zero as "no timeout", which lets slow clients
		// hold connections open forever.
		if t.d <= 0 {
			errs = append(errs, fmt.Errorf("%s is %s: set a positive duration such as 10s", t.label, formatDuration(t.d)))
		}
	}
	switch s.Tracing {
	case "", "otlp", "stdout":
	default:
		errs = append(errs, fmt.Errorf("server.tracing (TOLLGATE_TRACING) %q: write otlp, stdout, or leave it empty for no tracing", s.Tracing))
	}
	if s.Console != "true" && s.Console != "false" {
		errs = append(errs, fmt.Errorf("server.console (TOLLGATE_CONSOLE) %q: write true or false", s.Console))
	}
	if a := s.MetricsAddr; a != "" && a != "off" {
		errs = append(errs, validateAddrNamed("server.metrics_addr (TOLLGATE_METRICS_ADDR)", a)...)
	}
	for _, p := range s.TrustedProxyList() {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, fmt.Errorf("server.trusted_proxies (TOLLGATE_TRUSTED_PROXIES): %q is neither an IP address nor a CIDR such as 10.0.0.0/8", p))
			}
		}
	}
	return errs
}

// checkRange reports d outside [lo, hi].
func checkRange(label string, d, lo, hi time.Duration) []error {
	if d < lo || d > hi {
		return []error{fmt.Errorf("%s is %s: set it between %s and %s", label, formatDuration(d), formatDuration(lo), formatDuration(hi))}
	}
	return nil
}
