package sqlstore_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
)

func TestOpenRejectsBadURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		opts      sqlstore.Options
		wantInErr []string
	}{
		{"unknown scheme", "mysql://root:hunter2@db/tollgate", sqlstore.Options{}, []string{`"mysql:..."`, "postgres://", "sqlite:PATH"}},
		{"empty", "", sqlstore.Options{}, []string{"postgres://", "sqlite:PATH"}},
		{"no scheme", "tollgate.db", sqlstore.Options{}, []string{"postgres://", "sqlite:PATH"}},
		{"sqlite without path", "sqlite:", sqlstore.Options{}, []string{"no path"}},
		{"sqlite path with query", "sqlite:/tmp/t.db?mode=ro", sqlstore.Options{}, []string{"must not contain"}},
		{"unparsable postgres", "postgres://u:hunter2@127.0.0.1:notaport/db", sqlstore.Options{}, []string{"parse postgres URL"}},
		{"bad schema option", "postgres://127.0.0.1/db", sqlstore.Options{Schema: `x"; DROP TABLE clients; --`}, []string{"invalid schema"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := sqlstore.Open(t.Context(), tc.url, tc.opts)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
			for _, want := range tc.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the password", err)
			}
			if errors.Is(err, store.ErrUnavailable) {
				t.Errorf("a malformed URL is not unavailability: %v", err)
			}
		})
	}
}

func TestOpenPostgresUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the dial is refused at once.
	s, err := sqlstore.Open(t.Context(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", sqlstore.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded against a closed port")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestOpenPostgresConnectDeadlineIsUnavailable(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers the startup message.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	s, err := sqlstore.Open(ctx, "postgres://postgres@"+ln.Addr().String()+"/postgres?sslmode=disable", sqlstore.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded against a silent server")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestOpenSQLiteURLForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, url, file string
	}{
		{"missing parent directories created", "sqlite:" + filepath.Join(dir, "a", "b", "t.db"), filepath.Join(dir, "a", "b", "t.db")},
		{"URL form with absolute path", "sqlite://" + filepath.Join(dir, "abs.db"), filepath.Join(dir, "abs.db")},
		{"in memory", "sqlite::memory:", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := sqlstore.Open(t.Context(), tc.url, sqlstore.Options{})
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.url, err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if got := s.Dialect(); got != sqlstore.DialectSQLite {
				t.Errorf("Dialect() = %q, want sqlite", got)
			}
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			c := &store.Client{ID: "c1", Name: "one", SecretHash: []byte{1}}
			if err := s.CreateClient(t.Context(), c); err != nil {
				t.Fatalf("CreateClient: %v", err)
			}
			if _, err := s.GetClient(t.Context(), "c1"); err != nil {
				t.Fatalf("GetClient: %v", err)
			}
			if tc.file != "" {
				if _, err := os.Stat(tc.file); err != nil {
					t.Errorf("database file: %v", err)
				}
			}
		})
	}
}

func TestDialect(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			if got := s.Dialect(); got != b.name {
				t.Errorf("Dialect() = %q, want %q", got, b.name)
			}
			if err := s.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

// The SQLite file holds password hashes and sealed keys: it is created for
// its owner alone, and so are the WAL files SQLite makes beside it.
func TestSQLiteFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tollgate.db")
	s, err := sqlstore.Open(t.Context(), "sqlite:"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group and others", filepath.Base(f), m)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// An existing file keeps the mode its owner gave it.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err = sqlstore.Open(t.Context(), "sqlite:"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("reopening changed the mode of an existing file: %v, %v", fi.Mode(), err)
	}
}
