package testenv

import (
	"strings"
	"testing"
)

func TestNotice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string // "" for no notice, else a substring
	}{
		{"both set", map[string]string{EnvDatabaseURL: "postgres://x", EnvRedisURL: "redis://x"}, ""},
		{"CI fails instead", map[string]string{"CI": "true"}, ""},
		{"redis missing", map[string]string{EnvDatabaseURL: "postgres://x"}, "tollgate/internal/testenv: Redis suites skipped: set TOLLGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 (see README \"Tests\")"},
		{"both missing", map[string]string{}, "PostgreSQL and Redis suites skipped: set TOLLGATE_TEST_DATABASE_URL="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := notice(func(k string) string { return tc.env[k] }, []Service{PostgreSQL, Redis})
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("notice = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("notice spans lines: %q", got)
			}
		})
	}
}
