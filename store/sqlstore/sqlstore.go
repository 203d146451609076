// Package sqlstore keeps Tollgate's clients, users, signing keys, refresh
// token state and revocations in SQL through GORM: PostgreSQL in
// production, or an embedded pure-Go SQLite file by default. Its GORM
// models are private; callers see only the store interfaces and the
// sentinel errors of package store.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// Dialect names returned by (*Store).Dialect.
const (
	// DialectPostgres is PostgreSQL, through pgx.
	DialectPostgres = "postgres"
	// DialectSQLite is the embedded pure-Go SQLite.
	DialectSQLite = "sqlite"
)

// Options tunes Open. The zero value is valid.
type Options struct {
	// Logger receives GORM's statements at debug level, with placeholders
	// instead of parameter values. Nil discards them.
	Logger *slog.Logger
	// Schema is, for PostgreSQL only, the schema put first in search_path;
	// it is created if missing. It overrides a search_path query parameter
	// in the URL. It must match [a-z_][a-z0-9_]* (at most 63 bytes).
	Schema string
	// MaxOpenConns caps the PostgreSQL connection pool (default 10). SQLite
	// ignores it.
	MaxOpenConns int
	// Now is the clock used to decide whether refresh tokens, family
	// revocations and revocation entries have expired in calls that take no
	// time argument. Nil means time.Now.
	Now func() time.Time
	// RevocationPoll is how often WatchRevocations asks the database for
	// entries recorded by other processes (default 500ms). Entries recorded
	// through the same Store reach its watchers at once.
	RevocationPoll time.Duration
	// ChangePoll is how often WatchChanges reads the change log for
	// client and API-key changes made by other processes (default 250ms).
	ChangePoll time.Duration
}

// Store implements store.ClientStore, store.UserStore,
// store.SigningKeyStore, store.RefreshTokenStore, store.RevocationStore,
// store.AudienceStore and the other store interfaces on one SQL database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	now     func() time.Time
	// writeSem serialises this process's write transactions on SQLite, which
	// allows one writer at a time; waiting here instead of in SQLite's busy
	// handler keeps writers fair and free of "database is locked". Nil on
	// PostgreSQL.
	writeSem chan struct{}
	// revocationPoll and watchers serve WatchRevocations.
	revocationPoll time.Duration
	watchers       revocationWatchers
	// changePoll and changeWatchers serve WatchChanges.
	changePoll     time.Duration
	changeWatchers revocationWatchers
}

var (
	_ store.ClientStore       = (*Store)(nil)
	_ store.UserStore         = (*Store)(nil)
	_ store.SigningKeyStore   = (*Store)(nil)
	_ store.RefreshTokenStore = (*Store)(nil)
	_ store.RevocationStore   = (*Store)(nil)
	_ store.AudienceStore     = (*Store)(nil)
)

// Open connects to the database named by url and checks that it answers.
// Accepted forms:
//
//	postgres://user:pass@host:5432/db?sslmode=disable&search_path=myschema
//	postgresql://...
//	sqlite:PATH          (e.g. sqlite:/var/lib/tollgate/tollgate.db, sqlite:data/t.db)
//	sqlite://PATH        (the same; sqlite:///abs/path.db is /abs/path.db)
//	sqlite::memory:      (one private in-memory database, for tests)
//
// For PostgreSQL the schema comes from opts.Schema or else from the
// search_path query parameter; a single plain schema name is created if
// missing. For SQLite the parent directory of PATH is created if missing.
// An unreachable database gives an error matching store.ErrUnavailable.
// Open does not migrate: call Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cfg := &gorm.Config{
		Logger:                 newGormLogger(logger),
		SkipDefaultTransaction: true,
		DisableAutomaticPing:   true,
		NowFunc:                func() time.Time { return dbTime(now()) },
	}

	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err = openPostgres(ctx, url, opts, cfg)
	case strings.HasPrefix(url, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"), cfg)
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database URL scheme in %q: want postgres://..., postgresql://... or sqlite:PATH", redactURL(url))
	}
	if err != nil {
		return nil, err
	}
	s.now = now
	s.revocationPoll = opts.RevocationPoll
	if s.revocationPoll <= 0 {
		s.revocationPoll = defaultRevocationPoll
	}
	s.changePoll = opts.ChangePoll
	if s.changePoll <= 0 {
		s.changePoll = defaultChangePoll
	}
	return s, nil
}

// Dialect reports "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers; store.ErrUnavailable if not.
func (s *Store) Ping(ctx context.Context) error {
	return wrapErr("ping", s.sqlDB.PingContext(ctx))
}

// Close closes every connection. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.sqlDB.Close(); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// write runs fn in one transaction. On SQLite it first takes this Store's
// write slot, and the transaction begins IMMEDIATE so that another process
// waits in busy_timeout rather than failing on lock upgrade.
func (s *Store) write(ctx context.Context, op string, fn func(tx *gorm.DB) error) error {
	if s.writeSem != nil {
		select {
		case s.writeSem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("sqlstore: %s: %w", op, ctx.Err())
		}
		defer func() { <-s.writeSem }()
	}
	return wrapErr(op, s.db.WithContext(ctx).Transaction(fn))
}

// read returns a session bound to ctx for queries outside a transaction.
func (s *Store) read(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx)
}

// closeOnErr closes sqlDB when Open fails after creating it.
func closeOnErr(sqlDB *sql.DB, err error) error {
	return errors.Join(err, sqlDB.Close())
}
