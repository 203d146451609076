// Package testenv holds what every package's tests share about their
// environment: the one-line notice when the PostgreSQL or Redis suites
// skip, and the switch for the slow tests. Only tests import it.
package testenv

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Variables the tests read.
const (
	EnvDatabaseURL = "TOLLGATE_TEST_DATABASE_URL"
	EnvRedisURL    = "TOLLGATE_TEST_REDIS_URL"
	// EnvSlow set to 1 runs the tests Slow skips; .ci/run sets it.
	EnvSlow = "TOLLGATE_TEST_SLOW"
)

// Service is an outside server some of a package's suites need.
type Service struct {
	Name, Env, Example string
}

// The services the tests know.
var (
	PostgreSQL = Service{"PostgreSQL", EnvDatabaseURL, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"}
	Redis      = Service{"Redis", EnvRedisURL, "redis://127.0.0.1:6379/0"}
)

// Main runs a package's tests (call it from TestMain). Locally, when a
// service's variable is unset, it first says once which suites skip and
// how to run them; with CI=true a missing service fails those tests
// instead, so it says nothing.
func Main(m *testing.M, services ...Service) {
	if line := notice(os.Getenv, services); line != "" {
		w := terminal()
		fmt.Fprintln(w, line)
		if c, ok := w.(io.Closer); ok && w != os.Stderr {
			c.Close()
		}
	}
	os.Exit(m.Run())
}

// notice is the skip line, or "" when nothing skips.
func notice(getenv func(string) string, services []Service) string {
	if getenv("CI") == "true" {
		return ""
	}
	var names, sets []string
	for _, s := range services {
		if getenv(s.Env) == "" {
			names = append(names, s.Name)
			sets = append(sets, s.Env+"="+s.Example)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s suites skipped: set %s (see README \"Tests\")",
		pkgName(), strings.Join(names, " and "), strings.Join(sets, " and "))
}

// terminal is where the notice goes. go test ./... shows a passing
// package's output only with -v, so the notice goes to the controlling
// terminal when there is one, else to stderr.
func terminal() io.Writer {
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		return f
	}
	return os.Stderr
}

// pkgName names the package under test by its directory in the module,
// e.g. tollgate/store/sqlstore (go test runs in the package's folder).
func pkgName() string {
	dir, err := os.Getwd()
	if err != nil {
		return "tollgate"
	}
	for root := dir; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil || rel == "." {
				return "tollgate"
			}
			return "tollgate/" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(root)
		if parent == root {
			return filepath.Base(dir)
		}
		root = parent
	}
}

// Slow skips t unless TOLLGATE_TEST_SLOW=1. reason says, in a few words,
// what makes it slow.
func Slow(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(EnvSlow) != "1" {
		t.Skipf("slow (%s): set %s=1 to run it", reason, EnvSlow)
	}
}

// Parallel raises how many of a package's parallel tests run at once to n,
// unless the command line set -parallel. Call it from TestMain, before
// Main, in a package whose tests mostly wait on processes and real
// intervals rather than use the CPU (the default, GOMAXPROCS, leaves such a
// package idle on a small machine).
func Parallel(n int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", fmt.Sprint(n)); err != nil {
			panic(err)
		}
	}
}
