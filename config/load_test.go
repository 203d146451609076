package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `
addr: 0.0.0.0:9000
issuer: https://auth.example.com
database:
  url: postgres://tollgate@db.internal/tollgate
redis:
  url: redis://cache:6379/2
tokens:
  access_ttl: 10m
  refresh_ttl: 48h
  signing_algorithm: ES256
log:
  level: debug
server:
  idle_timeout: 2m
`)
	env := map[string]string{
		"TOLLGATE_ACCESS_TOKEN_TTL": "15m",
		"TOLLGATE_LOG_LEVEL":        "warn",
		"TOLLGATE_REDIS_PREFIX":     "tg:",
		"TOLLGATE_MASTER_KEY_FILE":  "/run/secrets/tollgate.key",
	}
	c, err := Load(path, envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []struct {
		what      string
		got, want any
	}{
		{"file over default: addr", c.Addr, "0.0.0.0:9000"},
		{"file over default: issuer", c.Issuer, "https://auth.example.com"},
		{"file over default: database", c.Database.URL, "postgres://tollgate@db.internal/tollgate"},
		{"file over default: redis", c.Redis.URL, "redis://cache:6379/2"},
		{"file over default: refresh_ttl", c.Tokens.RefreshTTL, 48 * time.Hour},
		{"file over default: signing_algorithm", c.Tokens.SigningAlgorithm, "ES256"},
		{"file over default: idle_timeout", c.Server.IdleTimeout, 2 * time.Minute},
		{"env over file: access_ttl", c.Tokens.AccessTTL, 15 * time.Minute},
		{"env over file: log level", c.Log.Level, "warn"},
		{"env over default: redis prefix", c.Redis.Prefix, "tg:"},
		{"env over default: master key file", c.MasterKeyFile, "/run/secrets/tollgate.key"},
		{"default kept: clock_skew", c.Tokens.ClockSkew, 30 * time.Second},
		{"default kept: log format", c.Log.Format, "json"},
		{"default kept: read_timeout", c.Server.ReadTimeout, 10 * time.Second},
		{"derived: audience", c.Tokens.Audience, "https://auth.example.com"},
	} {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestLoadFileLeavesUnsetKeysAlone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, content string }{
		{"empty file", ""},
		{"comments only", "# nothing set yet\n"},
		{"empty section", "tokens:\n"},
		{"empty document", "---\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(writeFile(t, tc.content), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c != Default() {
				t.Errorf("got %#v, want Default()", c)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		want    []string
	}{
		{"unknown top-level key", "adress: :8080\n", []string{"adress"}},
		{"unknown nested key", "tokens:\n  acess_ttl: 5m\n", []string{"acess_ttl"}},
		{"two unknown keys", "foo: 1\nlog:\n  colour: red\n", []string{"foo", "colour"}},
		{"duration without unit", "tokens:\n  access_ttl: 300\n", []string{"line 2", "is not a duration"}},
		{"duration in words", "server:\n  read_timeout: ten seconds\n", []string{"line 2", "is not a duration"}},
		{"section is not a mapping", "tokens: 5m\n", []string{"line 1"}},
		{"two documents", "addr: :1\n---\naddr: :2\n", []string{"more than one YAML document"}},
		{"malformed YAML", "addr: [\n", []string{"tollgate.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(writeFile(t, tc.content), nil)
			if err == nil {
				t.Fatal("Load() = nil error, want one")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(path, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(missing) = %v, want a not-exist error naming %s", err, path)
	}
}

func TestLoadEnvErrorsNameVariableAndForm(t *testing.T) {
	t.Parallel()
	_, err := Load("", envMap(map[string]string{
		"TOLLGATE_ACCESS_TOKEN_TTL": "5 minutes",
		"TOLLGATE_IDLE_TIMEOUT":     "60",
		"TOLLGATE_ADDR":             ":9000", // fine; must not be reported
	}))
	if err == nil {
		t.Fatal("Load() = nil error, want one")
	}
	msg := err.Error()
	for _, w := range []string{`TOLLGATE_ACCESS_TOKEN_TTL="5 minutes"`, `TOLLGATE_IDLE_TIMEOUT="60"`, "like 30s, 5m or 720h"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	if strings.Contains(msg, "TOLLGATE_ADDR") {
		t.Errorf("error %q reports a valid variable", msg)
	}
}

// TestEnvDocMatchesLoad records every variable Load asks for: the set must be
// exactly the documented one.
func TestEnvDocMatchesLoad(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var read []string
	getenv := func(k string) string {
		mu.Lock()
		defer mu.Unlock()
		read = append(read, k)
		return ""
	}
	if _, err := Load("", getenv); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, v := range EnvDoc() {
		if v.Description == "" {
			t.Errorf("%s has no description", v.Name)
		}
		documented = append(documented, v.Name)
	}
	slices.Sort(read)
	slices.Sort(documented)
	if !slices.Equal(read, documented) {
		t.Errorf("Load reads %v\nEnvDoc lists %v", read, documented)
	}
	if n := len(slices.Compact(slices.Clone(documented))); n != len(documented) {
		t.Errorf("EnvDoc lists a variable twice: %v", documented)
	}
}

// TestEnvDocDefaultsAreTheDefaults feeds every documented literal default
// back through Load: the result must be Default(), so the docs cannot drift.
func TestEnvDocDefaultsAreTheDefaults(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for _, v := range EnvDoc() {
		if !strings.Contains(v.Default, " ") { // derived defaults are prose
			env[v.Name] = v.Default
		}
	}
	want := map[string]string{"TOLLGATE_ACCESS_TOKEN_TTL": "5m", "TOLLGATE_REFRESH_TOKEN_TTL": "720h", "TOLLGATE_ADDR": "127.0.0.1:8080"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("EnvDoc default of %s = %q, want %q", k, env[k], v)
		}
	}
	c, err := Load("", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if c != Default() {
		t.Errorf("Load(documented defaults) = %#v, want Default()", c)
	}
}

// TestConfigurationDocListsEverySetting keeps docs/CONFIGURATION.md in step
// with the code: each setting's row names its YAML key and variable.
func TestConfigurationDocListsEverySetting(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "CONFIGURATION.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(doc), "\n")
	for _, b := range bindings {
		found := slices.ContainsFunc(lines, func(l string) bool {
			return strings.Contains(l, "`"+b.key+"`") && strings.Contains(l, "`"+b.env+"`")
		})
		if !found {
			t.Errorf("docs/CONFIGURATION.md has no row with `%s` and `%s`", b.key, b.env)
		}
	}
}

// TestConfigurationDocExampleIsValid loads the YAML example of
// docs/CONFIGURATION.md as it is written.
func TestConfigurationDocExampleIsValid(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "CONFIGURATION.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("docs/CONFIGURATION.md has no ```yaml block")
	}
	c, err := Load(writeFile(t, example), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	if c.Embedded() || c.Redis.URL == "" || c.KeyFilePath() != "/run/secrets/tollgate-master-key" {
		t.Errorf("example did not load as written: %v", c)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 720 * time.Hour: "720h",
		90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%d) = %q, want %q", d, got, want)
		}
	}
}
