package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// testKey is a valid master key.
var testKey = base64.StdEncoding.EncodeToString(make([]byte, MasterKeySize))

func TestValidate(t *testing.T) {
	t.Parallel()
	const pg = "postgres://tollgate:pw@db.internal:5432/tollgate?sslmode=disable"
	for _, tc := range []struct {
		name   string
		mutate func(c *Config)
		// want holds substrings of the single problem; nil means valid.
		want []string
	}{
		{"default", func(c *Config) {}, nil},
		// addr
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, []string{"TOLLGATE_ADDR", "HOST:PORT"}},
		{"addr with port name", func(c *Config) { c.Addr = "localhost:http" }, []string{"TOLLGATE_ADDR"}},
		{"addr port too large", func(c *Config) { c.Addr = "localhost:65536" }, []string{"TOLLGATE_ADDR"}},
		{"addr all interfaces with explicit issuer", func(c *Config) { c.Addr = ":8080"; c.Issuer = "https://auth.example.com" }, nil},
		{"addr port 0 for tests", func(c *Config) { c.Addr = "127.0.0.1:0" }, nil},
		// issuer
		{"issuer https with path", func(c *Config) { c.Issuer = "https://example.com/auth" }, nil},
		{"issuer relative", func(c *Config) { c.Issuer = "auth.example.com" }, []string{"TOLLGATE_ISSUER", "absolute http(s) URL"}},
		{"issuer other scheme", func(c *Config) { c.Issuer = "ftp://auth.example.com" }, []string{"TOLLGATE_ISSUER", "absolute http(s) URL"}},
		{"issuer opaque", func(c *Config) { c.Issuer = "https:auth.example.com" }, []string{"TOLLGATE_ISSUER", "absolute http(s) URL"}},
		{"issuer query", func(c *Config) { c.Issuer = "https://example.com?tenant=a" }, []string{"TOLLGATE_ISSUER", "query or fragment"}},
		{"issuer empty query", func(c *Config) { c.Issuer = "https://example.com?" }, []string{"query or fragment"}},
		{"issuer fragment", func(c *Config) { c.Issuer = "https://example.com#x" }, []string{"query or fragment"}},
		{"issuer empty fragment", func(c *Config) { c.Issuer = "https://example.com#" }, []string{"query or fragment"}},
		{"issuer trailing slash", func(c *Config) { c.Issuer = "https://example.com/" }, []string{"TOLLGATE_ISSUER", "slash"}},
		{"issuer user info", func(c *Config) { c.Issuer = "https://admin@example.com" }, []string{"TOLLGATE_ISSUER", "user info"}},
		{"issuer without host", func(c *Config) { c.Issuer = "http://:8080" }, []string{"TOLLGATE_ISSUER", "no host"}},
		{"issuer derived from 0.0.0.0", func(c *Config) { c.Issuer = "http://0.0.0.0:8080" }, []string{"TOLLGATE_ISSUER", "no host", "public URL"}},
		{"issuer derived from [::]", func(c *Config) { c.Issuer = "http://[::]:8080" }, []string{"no host"}},
		// database
		{"postgres with key", func(c *Config) { c.Database.URL = pg; c.MasterKey = testKey }, nil},
		{"postgresql with key file", func(c *Config) { c.Database.URL = "postgresql://db/t"; c.MasterKeyFile = "/k" }, nil},
		{"postgres without key", func(c *Config) { c.Database.URL = pg }, []string{"TOLLGATE_MASTER_KEY", "required with PostgreSQL", "openssl rand -base64 32"}},
		{"postgres malformed", func(c *Config) { c.Database.URL = "postgres://u:pw@db:port/t"; c.MasterKey = testKey }, []string{"TOLLGATE_DATABASE_URL", "not a valid URL"}},
		{"postgres upper case", func(c *Config) { c.Database.URL = "POSTGRES://db/t"; c.MasterKey = testKey }, []string{"TOLLGATE_DATABASE_URL", "not supported"}},
		{"mysql", func(c *Config) { c.Database.URL = "mysql://db/t" }, []string{"TOLLGATE_DATABASE_URL", "postgres://", "postgresql://", "sqlite:PATH"}},
		{"bare file name", func(c *Config) { c.Database.URL = "tollgate.db" }, []string{"not supported", "sqlite:PATH"}},
		{"sqlite without path", func(c *Config) { c.Database.URL = "sqlite:" }, []string{"TOLLGATE_DATABASE_URL", "names no file"}},
		{"sqlite with double slash", func(c *Config) { c.Database.URL = "sqlite://tollgate.db" }, []string{"TOLLGATE_DATABASE_URL", "without //"}},
		{"sqlite absolute", func(c *Config) { c.Database.URL = "sqlite:/var/lib/tollgate/t.db" }, nil},
		// redis
		{"redis", func(c *Config) { c.Redis.URL = "redis://:pw@cache:6379/0" }, nil},
		{"rediss", func(c *Config) { c.Redis.URL = "rediss://cache:6380" }, nil},
		{"redis other scheme", func(c *Config) { c.Redis.URL = "http://cache:6379" }, []string{"TOLLGATE_REDIS_URL", "redis://", "rediss://"}},
		{"redis without scheme", func(c *Config) { c.Redis.URL = "cache:6379" }, []string{"TOLLGATE_REDIS_URL", "not a Redis URL"}},
		{"redis without host", func(c *Config) { c.Redis.URL = "redis://" }, []string{"TOLLGATE_REDIS_URL"}},
		{"redis bad database", func(c *Config) { c.Redis.URL = "redis://cache:6379/main" }, []string{"TOLLGATE_REDIS_URL", "database number"}},
		// master key
		{"master key with sqlite", func(c *Config) { c.MasterKey = testKey }, nil},
		{"master key with newline", func(c *Config) { c.MasterKey = testKey + "\n" }, nil},
		{"master key not base64", func(c *Config) { c.MasterKey = "not base64!" }, []string{"TOLLGATE_MASTER_KEY", "base64", "openssl rand -base64 32"}},
		{"master key too short", func(c *Config) { c.MasterKey = base64.StdEncoding.EncodeToString(make([]byte, 16)) }, []string{"TOLLGATE_MASTER_KEY", "16 bytes, need 32", "openssl rand -base64 32"}},
		{"master key and file", func(c *Config) { c.MasterKey = testKey; c.MasterKeyFile = "/k" }, []string{"TOLLGATE_MASTER_KEY", "TOLLGATE_MASTER_KEY_FILE", "only one"}},
		// tokens
		{"access ttl too short", func(c *Config) { c.Tokens.AccessTTL = 30 * time.Second }, []string{"TOLLGATE_ACCESS_TOKEN_TTL", "30s", "between 1m and 24h"}},
		{"access ttl too long", func(c *Config) { c.Tokens.AccessTTL = 25 * time.Hour }, []string{"TOLLGATE_ACCESS_TOKEN_TTL", "between 1m and 24h"}},
		{"access ttl bounds", func(c *Config) { c.Tokens.AccessTTL = 24 * time.Hour; c.Tokens.RefreshTTL = 24 * time.Hour }, nil},
		{"refresh ttl below access ttl", func(c *Config) { c.Tokens.RefreshTTL = time.Minute }, []string{"TOLLGATE_REFRESH_TOKEN_TTL", "at least"}},
		{"blank audience", func(c *Config) { c.Tokens.Audience = " " }, []string{"TOLLGATE_DEFAULT_AUDIENCE"}},
		{"ES256", func(c *Config) { c.Tokens.SigningAlgorithm = "ES256" }, nil},
		{"RS256", func(c *Config) { c.Tokens.SigningAlgorithm = "RS256" }, []string{"TOLLGATE_SIGNING_ALG", "EdDSA or ES256"}},
		{"lower-case eddsa", func(c *Config) { c.Tokens.SigningAlgorithm = "eddsa" }, []string{"TOLLGATE_SIGNING_ALG"}},
		{"negative clock skew", func(c *Config) { c.Tokens.ClockSkew = -time.Second }, []string{"TOLLGATE_CLOCK_SKEW", "between 0s and 5m"}},
		{"large clock skew", func(c *Config) { c.Tokens.ClockSkew = time.Hour }, []string{"TOLLGATE_CLOCK_SKEW"}},
		{"public scopes", func(c *Config) { c.Tokens.PublicScopes = "orders:read orders:write" }, nil},
		{"public scope with a quote", func(c *Config) { c.Tokens.PublicScopes = `orders:read a"b` }, []string{"TOLLGATE_PUBLIC_SCOPES", `"a\"b"`}},
		{"reuse grace of 2s", func(c *Config) { c.Tokens.RefreshReuseGrace = 2 * time.Second }, nil},
		{"negative reuse grace", func(c *Config) { c.Tokens.RefreshReuseGrace = -time.Second }, []string{"TOLLGATE_REFRESH_REUSE_GRACE"}},
		{"long reuse grace", func(c *Config) { c.Tokens.RefreshReuseGrace = 5 * time.Minute }, []string{"TOLLGATE_REFRESH_REUSE_GRACE", "between 0s and 1m"}},
		{"no key pre-publication", func(c *Config) { c.Tokens.KeyPrePublish = 0 }, []string{"TOLLGATE_KEY_PREPUBLISH", "between 1m and 24h"}},
		// log
		{"log level warn", func(c *Config) { c.Log.Level = "warn" }, nil},
		{"log level upper case", func(c *Config) { c.Log.Level = "INFO" }, []string{"TOLLGATE_LOG_LEVEL", "debug, info, warn or error"}},
		{"log level trace", func(c *Config) { c.Log.Level = "trace" }, []string{"TOLLGATE_LOG_LEVEL"}},
		{"log format text", func(c *Config) { c.Log.Format = "text" }, nil},
		{"log format logfmt", func(c *Config) { c.Log.Format = "logfmt" }, []string{"TOLLGATE_LOG_FORMAT", "json or text"}},
		// server
		{"zero shutdown timeout", func(c *Config) { c.Server.ShutdownTimeout = 0 }, []string{"TOLLGATE_SHUTDOWN_TIMEOUT", "positive"}},
		{"zero read header timeout", func(c *Config) { c.Server.ReadHeaderTimeout = 0 }, []string{"TOLLGATE_READ_HEADER_TIMEOUT"}},
		{"negative read timeout", func(c *Config) { c.Server.ReadTimeout = -time.Second }, []string{"TOLLGATE_READ_TIMEOUT"}},
		{"zero write timeout", func(c *Config) { c.Server.WriteTimeout = 0 }, []string{"TOLLGATE_WRITE_TIMEOUT"}},
		{"zero idle timeout", func(c *Config) { c.Server.IdleTimeout = 0 }, []string{"TOLLGATE_IDLE_TIMEOUT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.mutate(&c)
			errs := problems(c.Validate())
			if tc.want == nil {
				if len(errs) != 0 {
					t.Fatalf("Validate() = %v, want nil", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("Validate() reported %d problems, want 1: %v", len(errs), errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs[0].Error(), w) {
					t.Errorf("problem %q does not mention %q", errs[0], w)
				}
			}
		})
	}
}

// problems splits an errors.Join result into its parts.
func problems(err error) []error {
	if err == nil {
		return nil
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return joined.Unwrap()
	}
	return []error{err}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Addr = "nowhere"
	c.Issuer = "https://example.com/"
	c.Database.URL = "postgres://db/t" // and no master key
	c.Redis.URL = "memcached://cache"
	c.Tokens.AccessTTL = time.Second
	c.Tokens.SigningAlgorithm = "HS256"
	c.Log.Format = "xml"
	c.Server.IdleTimeout = 0
	errs := problems(c.Validate())
	want := []string{
		"TOLLGATE_ADDR", "TOLLGATE_ISSUER", "TOLLGATE_REDIS_URL", "TOLLGATE_MASTER_KEY",
		"TOLLGATE_ACCESS_TOKEN_TTL", "TOLLGATE_SIGNING_ALG", "TOLLGATE_LOG_FORMAT", "TOLLGATE_IDLE_TIMEOUT",
	}
	if len(errs) != len(want) {
		t.Fatalf("Validate() reported %d problems, want %d:\n%v", len(errs), len(want), errors.Join(errs...))
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) {
			t.Errorf("problem %d = %q, want it to name %s", i, errs[i], w)
		}
	}
}

// TestValidateNeverQuotesSecrets covers values Validate rejects while they
// hold a secret.
func TestValidateNeverQuotesSecrets(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	for _, tc := range []struct {
		name   string
		mutate func(c *Config)
	}{
		{"unsupported database", func(c *Config) { c.Database.URL = "mysql://u:" + secret + "@db/t" }},
		{"malformed postgres URL", func(c *Config) { c.Database.URL = "postgres://u:" + secret + "@db:port/t"; c.MasterKey = testKey }},
		{"unsupported redis", func(c *Config) { c.Redis.URL = "memcached://u:" + secret + "@cache" }},
		{"malformed redis", func(c *Config) { c.Redis.URL = "redis://:" + secret + "@cache:port" }},
		{"redis bad database", func(c *Config) { c.Redis.URL = "redis://:" + secret + "@cache/x" }},
		{"short master key", func(c *Config) { c.MasterKey = secret }},
		{"master key and file", func(c *Config) { c.MasterKey = secret; c.MasterKeyFile = "/k" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want a problem")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Validate() quotes the secret: %v", err)
			}
		})
	}
}

// randomSecret returns a fresh base64 string of 24 random bytes: valid
// base64, but the wrong length for a master key.
func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestDecodeMasterKey(t *testing.T) {
	t.Parallel()
	want := make([]byte, MasterKeySize)
	if _, err := rand.Read(want); err != nil {
		t.Fatal(err)
	}
	encoded := base64.StdEncoding.EncodeToString(want)
	got, err := DecodeMasterKey("  " + encoded + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("DecodeMasterKey round trip = %x, want %x", got, want)
	}
}
