package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestLogValueRedactsSecrets(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString([]byte(randomSecret(t))[:MasterKeySize])
	pw := randomSecret(t)
	for _, tc := range []struct {
		name   string
		mutate func(c *Config)
		// want are fragments the log line must hold.
		want []string
	}{
		{
			name:   "master key",
			mutate: func(c *Config) { c.MasterKey = key },
			want:   []string{`"master_key":"[redacted]"`},
		},
		{
			name:   "database password",
			mutate: func(c *Config) { c.Database.URL = "postgres://user:" + pw + "@host/db" },
			want:   []string{`"url":"postgres://user:xxxxx@host/db"`},
		},
		{
			name:   "database password with escaped characters",
			mutate: func(c *Config) { c.Database.URL = "postgresql://user:" + pw + "%40%2F@host:5432/db?sslmode=require" },
			want:   []string{`"url":"postgresql://user:xxxxx@host:5432/db?sslmode=require"`},
		},
		{
			name: "database password in query",
			mutate: func(c *Config) {
				c.Database.URL = "postgres://host/db?user=u&password=" + pw + "&sslmode=verify-full&sslpassword=" + pw
			},
			want: []string{`"url":"postgres://host/db?user=u&password=xxxxx&sslmode=verify-full&sslpassword=xxxxx"`},
		},
		{
			name:   "unparseable database URL",
			mutate: func(c *Config) { c.Database.URL = "postgres://user:" + pw + "@host:port/db" },
			want:   []string{`"database":{"url":"[redacted]"}`},
		},
		{
			name:   "redis password",
			mutate: func(c *Config) { c.Redis.URL = "rediss://:" + pw + "@cache:6380/1" },
			want:   []string{`"url":"rediss://:xxxxx@cache:6380/1"`},
		},
		{
			name:   "redis user and password",
			mutate: func(c *Config) { c.Redis.URL = "redis://tollgate:" + pw + "@cache:6379" },
			want:   []string{`"url":"redis://tollgate:xxxxx@cache:6379"`},
		},
		{
			name: "everything at once",
			mutate: func(c *Config) {
				c.MasterKey = key
				c.Database.URL = "postgres://user:" + pw + "@host/db"
				c.Redis.URL = "redis://:" + pw + "@cache:6379"
			},
			want: []string{`"master_key":"[redacted]"`, "user:xxxxx@host", "redis://:xxxxx@cache"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.mutate(&c)
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
			out := buf.String()
			for _, secret := range []string{key, pw} {
				if strings.Contains(out, secret) {
					t.Errorf("log line holds a secret: %s", out)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("log line %s lacks %s", out, w)
				}
			}
			printed := fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
			for _, secret := range []string{key, pw} {
				if strings.Contains(printed, secret) {
					t.Errorf("fmt prints a secret: %s", printed)
				}
			}
		})
	}
}

// TestLogValueShowsSettings checks the redacted view still tells an operator
// what is running.
func TestLogValueShowsSettings(t *testing.T) {
	t.Parallel()
	c := Default()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	var line struct {
		Config struct {
			Addr     string `json:"addr"`
			Issuer   string `json:"issuer"`
			Database struct {
				URL string `json:"url"`
			} `json:"database"`
			MasterKey string `json:"master_key"`
			Tokens    struct {
				AccessTTL  string `json:"access_ttl"`
				RefreshTTL string `json:"refresh_ttl"`
			} `json:"tokens"`
			Server struct {
				IdleTimeout string `json:"idle_timeout"`
			} `json:"server"`
		} `json:"config"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v in %s", err, buf.String())
	}
	got := line.Config
	if got.Addr != "127.0.0.1:8080" || got.Issuer != "http://127.0.0.1:8080" || got.Database.URL != "sqlite:tollgate.db" ||
		got.MasterKey != "" || got.Tokens.AccessTTL != "5m" || got.Tokens.RefreshTTL != "720h" || got.Server.IdleTimeout != "1m" {
		t.Errorf("logged config = %+v", got)
	}
}
