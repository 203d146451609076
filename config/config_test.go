package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// envMap returns a getenv that reads m.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFile writes content to a fresh file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tollgate.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultIsValidAndEmbedded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		load func() (Config, error)
	}{
		{"Default", func() (Config, error) { return Default(), nil }},
		{"Load without file or env", func() (Config, error) { return Load("", nil) }},
		{"Load with empty env", func() (Config, error) { return Load("", envMap(nil)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if c != Default() {
				t.Errorf("got %#v, want Default()", c)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"Addr", c.Addr, "127.0.0.1:8080"},
				{"Issuer", c.Issuer, "http://127.0.0.1:8080"},
				{"Audience", c.Tokens.Audience, "http://127.0.0.1:8080"},
				{"Database.URL", c.Database.URL, "sqlite:tollgate.db"},
				{"Embedded", c.Embedded(), true},
				{"SQLitePath", c.SQLitePath(), "tollgate.db"},
				{"Redis.URL", c.Redis.URL, ""},
				{"Redis.Prefix", c.Redis.Prefix, "tollgate:"},
				{"KeyFilePath", c.KeyFilePath(), "tollgate.key"},
				{"AccessTTL", c.Tokens.AccessTTL, 5 * time.Minute},
				{"RefreshTTL", c.Tokens.RefreshTTL, 720 * time.Hour},
				{"SigningAlgorithm", c.Tokens.SigningAlgorithm, "EdDSA"},
				{"RefreshReuseGrace", c.Tokens.RefreshReuseGrace, time.Duration(0)},
				{"SlogLevel", c.Log.SlogLevel(), slog.LevelInfo},
				{"Log.Format", c.Log.Format, "json"},
				{"ShutdownTimeout", c.Server.ShutdownTimeout, 15 * time.Second},
				// Protections on by default (issue 11): revocation budget,
				// stream caps, login rate and queue, API keys per owner.
				{"RevocationRate", c.Limits.RevocationRate, 50},
				{"StreamsPerClient", c.Limits.StreamsPerClient, 100},
				{"Streams", c.Limits.Streams, 2000},
				{"LoginRate", c.Limits.LoginRate, 10},
				{"LoginQueueTimeout", c.Limits.LoginQueueTimeout, 2 * time.Second},
				{"APIKeysPerOwner", c.Limits.APIKeysPerOwner, 100},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
				}
			}
		})
	}
}

func TestIssuerAndAudienceDerived(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		file         string
		env          map[string]string
		wantIssuer   string
		wantAudience string
	}{
		{
			name:         "from env addr",
			env:          map[string]string{"TOLLGATE_ADDR": "10.0.0.5:9000"},
			wantIssuer:   "http://10.0.0.5:9000",
			wantAudience: "http://10.0.0.5:9000",
		},
		{
			name:         "from file addr",
			file:         "addr: auth.internal:8443\n",
			wantIssuer:   "http://auth.internal:8443",
			wantAudience: "http://auth.internal:8443",
		},
		{
			name:         "env addr after file addr",
			file:         "addr: auth.internal:8443\n",
			env:          map[string]string{"TOLLGATE_ADDR": "[::1]:7000"},
			wantIssuer:   "http://[::1]:7000",
			wantAudience: "http://[::1]:7000",
		},
		{
			name:         "explicit issuer is kept and becomes the audience",
			file:         "issuer: https://auth.example.com\n",
			env:          map[string]string{"TOLLGATE_ADDR": "0.0.0.0:8080"},
			wantIssuer:   "https://auth.example.com",
			wantAudience: "https://auth.example.com",
		},
		{
			name:         "explicit audience is kept",
			env:          map[string]string{"TOLLGATE_ISSUER": "https://auth.example.com", "TOLLGATE_DEFAULT_AUDIENCE": "api"},
			wantIssuer:   "https://auth.example.com",
			wantAudience: "api",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			c, err := Load(path, envMap(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != tc.wantIssuer || c.Tokens.Audience != tc.wantAudience {
				t.Errorf("issuer, audience = %q, %q; want %q, %q", c.Issuer, c.Tokens.Audience, tc.wantIssuer, tc.wantAudience)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestKeyFilePath(t *testing.T) {
	t.Parallel()
	const key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"absolute sqlite path", Config{Database: Database{URL: "sqlite:/tmp/x/t.db"}}, "/tmp/x/tollgate.key"},
		{"relative sqlite file", Config{Database: Database{URL: "sqlite:tollgate.db"}}, "tollgate.key"},
		{"relative sqlite dir", Config{Database: Database{URL: "sqlite:data/t.db"}}, "data/tollgate.key"},
		{"sqlite driver parameters", Config{Database: Database{URL: "sqlite:/var/lib/t.db?_pragma=busy_timeout(5000)"}}, "/var/lib/tollgate.key"},
		{"explicit file wins", Config{Database: Database{URL: "sqlite:/tmp/x/t.db"}, MasterKeyFile: "/run/secrets/key"}, "/run/secrets/key"},
		{"explicit file with postgres", Config{Database: Database{URL: "postgres://db/t"}, MasterKeyFile: "/run/secrets/key"}, "/run/secrets/key"},
		{"key from env needs no file", Config{Database: Database{URL: "sqlite:/tmp/x/t.db"}, MasterKey: key}, ""},
		{"postgres without key", Config{Database: Database{URL: "postgres://db/t"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.c.KeyFilePath(); got != tc.want {
				t.Errorf("KeyFilePath() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSlogLevel(t *testing.T) {
	t.Parallel()
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		t.Run(level, func(t *testing.T) {
			t.Parallel()
			if got := (Log{Level: level}).SlogLevel(); got != want {
				t.Errorf("SlogLevel() = %v, want %v", got, want)
			}
		})
	}
}
