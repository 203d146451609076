// Package sqltest opens migrated sqlstore databases for other packages'
// tests: a SQLite file in a temporary directory, or a fresh schema in the
// PostgreSQL database named by TOLLGATE_TEST_DATABASE_URL. Every store and
// schema is closed or dropped in t.Cleanup.
//
// When TOLLGATE_TEST_DATABASE_URL is unset, the PostgreSQL helpers skip the
// test, or fail it when CI=true.
package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// EnvDatabaseURL names the variable holding the test PostgreSQL URL, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvDatabaseURL = testenv.EnvDatabaseURL

// cleanupTimeout bounds dropping a schema after the test's context ended.
const cleanupTimeout = 30 * time.Second

// OpenSQLite returns a migrated store on a new SQLite file in t.TempDir(),
// closed when the test ends. The file is a copy of one migrated once per
// test binary: under -race migrating SQLite costs a tenth of a second or
// more, and the contract suites open hundreds of stores. Migrate still
// runs on the copy (and finds nothing to do).
func OpenSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, err := migratedSQLite()
	if err != nil {
		t.Fatalf("sqltest: %v", err)
	}
	path := filepath.Join(t.TempDir(), "tollgate.db")
	if err := os.WriteFile(path, db, 0o600); err != nil {
		t.Fatalf("sqltest: %v", err)
	}
	return openMigrated(t, "sqlite:"+path, sqlstore.Options{})
}

// migratedSQLite returns the bytes of a freshly migrated SQLite database,
// made on first use. It is immutable, so sharing it between tests shares
// no state.
var migratedSQLite = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "sqltest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tollgate.db")
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	err = s.Migrate(ctx)
	// Closing the last connection checkpoints the WAL into the file.
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, fmt.Errorf("migrated template %s kept a WAL after close", path)
	}
	return os.ReadFile(path)
})

// OpenPostgres returns a migrated store on a new schema tg_test_<hex> of
// the test database. The store is closed and the schema dropped when the
// test ends.
func OpenPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	base := databaseURL(t)
	schema := newSchemaName(t)
	t.Cleanup(func() { dropSchema(t, base, schema) })
	return openMigrated(t, base, sqlstore.Options{Schema: schema})
}

// PostgresURL creates an empty schema (not migrated) for a test that starts
// a process of its own, and returns the database URL with that schema as
// its search_path query parameter, which sqlstore.Open honours, and the
// schema's name. The schema is dropped when the test ends.
func PostgresURL(t testing.TB) (dbURL, schema string) {
	t.Helper()
	base := databaseURL(t)
	schema = newSchemaName(t)
	execAdmin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { dropSchema(t, base, schema) })

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("sqltest: parse %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

func openMigrated(t testing.TB, dbURL string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dbURL, opts)
	if err != nil {
		t.Fatalf("sqltest: open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sqltest: close: %v", err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("sqltest: migrate: %v", err)
	}
	return s
}

// databaseURL returns the test database URL, or ends the test without one:
// skipped locally, failed in CI.
func databaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvDatabaseURL)
	if u != "" {
		return u
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("sqltest: %s is not set (required when CI=true)", EnvDatabaseURL)
	}
	t.Skipf("sqltest: %s is not set; skipping PostgreSQL test", EnvDatabaseURL)
	return ""
}

func newSchemaName(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("sqltest: rand: %v", err)
	}
	return "tg_test_" + hex.EncodeToString(b)
}

func dropSchema(t testing.TB, base, schema string) {
	execAdmin(t, base, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
}

// execAdmin runs one statement on its own connection. It does not use the
// test's context, which has ended by the time cleanups run.
func execAdmin(t testing.TB, base, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("sqltest: connect: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("sqltest: %s: %v", stmt, err)
	}
}
