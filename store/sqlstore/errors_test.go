package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

var sentinels = []error{store.ErrNotFound, store.ErrConflict, store.ErrUnavailable, store.ErrTokenReused}

func TestTranslate(t *testing.T) {
	t.Parallel()
	refused, err := pgconn.Connect(t.Context(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable")
	if err == nil {
		_ = refused.Close(t.Context())
		t.Fatal("connected to port 1")
	}
	tests := []struct {
		name string
		err  error
		want error // nil: no sentinel added
	}{
		{"record not found", fmt.Errorf("take: %w", gorm.ErrRecordNotFound), store.ErrNotFound},
		{"pg unique violation", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), store.ErrConflict},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, store.ErrUnavailable},
		{"pg admin shutdown", &pgconn.PgError{Code: "57P01"}, store.ErrUnavailable},
		{"pg too many connections", &pgconn.PgError{Code: "53300"}, store.ErrUnavailable},
		{"pg connect error", err, store.ErrUnavailable},
		{"pg conn closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), store.ErrUnavailable},
		{"bad conn", driver.ErrBadConn, store.ErrUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), store.ErrUnavailable},
		{"net op error", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("boom")}, store.ErrUnavailable},
		{"already reused", fmt.Errorf("x: %w", store.ErrTokenReused), store.ErrTokenReused},
		{"pg undefined table", &pgconn.PgError{Code: "42P01"}, nil},
		{"pg not null violation", &pgconn.PgError{Code: "23502"}, nil},
		{"canceled", context.Canceled, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := wrapErr("op", tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("wrapErr dropped the cause: %v", got)
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tc.want))
				}
			}
		})
	}
	if wrapErr("op", nil) != nil {
		t.Error("wrapErr(nil) is not nil")
	}
}

// TestTranslateSQLiteErrors checks real driver errors, whose type cannot be
// built by hand.
func TestTranslateSQLiteErrors(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	db := s.db.WithContext(t.Context())
	if err := db.Exec("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO t VALUES ('a', 'x')").Error; err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sql string
		want      error
	}{
		{"primary key", "INSERT INTO t VALUES ('a', 'y')", store.ErrConflict},
		{"unique", "INSERT INTO t VALUES ('b', 'x')", store.ErrConflict},
		{"not null", "INSERT INTO t VALUES ('c', NULL)", nil},
		{"syntax", "INSERT INTO nowhere VALUES (1)", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := wrapErr("op", db.Exec(tc.sql).Error)
			if got == nil {
				t.Fatal("statement succeeded")
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tc.want))
				}
			}
		})
	}
}
