package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

const (
	defaultPostgresConns = 10
	// sqliteReadConns bounds SQLite connections. Readers run in parallel
	// under WAL; writers take the Store's write slot first.
	sqliteReadConns = 8
	// sqliteBusyTimeout is how long a connection waits for another
	// process's write lock before SQLite reports SQLITE_BUSY.
	sqliteBusyTimeout = 10 * time.Second
	sqliteMemory      = ":memory:"
)

// schemaName limits schemas to names PostgreSQL does not case-fold or need
// quoted, so that the search_path parameter and CREATE SCHEMA agree.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func openPostgres(ctx context.Context, dsn string, opts Options, cfg *gorm.Config) (*Store, error) {
	pgCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password in ParseConfigError.
		return nil, fmt.Errorf("sqlstore: parse postgres URL: %w", err)
	}
	schema := opts.Schema
	if schema != "" {
		if !schemaName.MatchString(schema) {
			return nil, fmt.Errorf("sqlstore: invalid schema %q: want [a-z_][a-z0-9_]*", schema)
		}
		pgCfg.RuntimeParams["search_path"] = schema
	} else if sp := pgCfg.RuntimeParams["search_path"]; schemaName.MatchString(sp) {
		schema = sp
	}

	sqlDB := stdlib.OpenDB(*pgCfg)
	conns := opts.MaxOpenConns
	if conns <= 0 {
		conns = defaultPostgresConns
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(time.Hour)

	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), cfg)
	if err != nil {
		return nil, closeOnErr(sqlDB, fmt.Errorf("sqlstore: open postgres: %w", err))
	}
	s := &Store{db: db, sqlDB: sqlDB, dialect: DialectPostgres}
	if err := s.Ping(ctx); err != nil {
		return nil, closeOnErr(sqlDB, err)
	}
	if schema != "" {
		if err := s.ensureSchema(ctx, schema); err != nil {
			return nil, closeOnErr(sqlDB, err)
		}
	}
	return s, nil
}

// ensureSchema creates schema unless it exists. It looks first because
// CREATE SCHEMA IF NOT EXISTS still demands the CREATE privilege on the
// database, which a production role may lack.
func (s *Store) ensureSchema(ctx context.Context, schema string) error {
	var exists bool
	err := s.read(ctx).Raw("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", schema).Scan(&exists).Error
	if err != nil {
		return wrapErr("look up schema", err)
	}
	if exists {
		return nil
	}
	// schema matched schemaName, so it needs no quoting.
	err = wrapErr("create schema", s.read(ctx).Exec("CREATE SCHEMA IF NOT EXISTS "+schema).Error)
	if errors.Is(err, store.ErrConflict) {
		// Another process created it between our look and our CREATE: IF
		// NOT EXISTS does not cover that race.
		return nil
	}
	return err
}

func openSQLite(ctx context.Context, path string, cfg *gorm.Config) (*Store, error) {
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return nil, fmt.Errorf("sqlstore: sqlite URL has no path: want sqlite:PATH")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlstore: sqlite path %q must not contain '?' or '#'", path)
	}
	memory := path == sqliteMemory
	if !memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("sqlstore: create sqlite directory: %w", err)
		}
		if err := createPrivate(path); err != nil {
			return nil, err
		}
	}

	db, err := gorm.Open(sqlite.Open(sqliteDSN(path)), cfg)
	if err != nil {
		return nil, wrapErr("open sqlite", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	if memory {
		// Each connection to :memory: is its own database: keep exactly one
		// and never recycle it.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
	} else {
		sqlDB.SetMaxOpenConns(sqliteReadConns)
		sqlDB.SetMaxIdleConns(sqliteReadConns)
	}
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)

	s := &Store{db: db, sqlDB: sqlDB, dialect: DialectSQLite, writeSem: make(chan struct{}, 1)}
	if err := s.Ping(ctx); err != nil {
		return nil, closeOnErr(sqlDB, err)
	}
	return s, nil
}

// createPrivate creates the database file, if it does not exist yet, with
// mode 0600: it holds password hashes and sealed keys, so only its owner may
// read it. SQLite gives its -wal and -shm files the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create sqlite file: %w", err)
	}
	return f.Close()
}

// sqliteDSN applies the pragmas to every new connection: WAL lets readers
// run beside the writer, busy_timeout makes writers of other processes wait,
// and _txlock=immediate takes the write lock at BEGIN so a transaction never
// fails upgrading from a read lock.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	if path != sqliteMemory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// redactURL names only the scheme of an unaccepted URL, which may carry a
// password.
func redactURL(raw string) string {
	scheme, _, ok := strings.Cut(raw, ":")
	if !ok {
		return "(no scheme)"
	}
	return scheme + ":..."
}
