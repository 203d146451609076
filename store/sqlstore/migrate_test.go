package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// openShared opens n stores on one new, unmigrated database of the given
// dialect, as n processes would.
func openShared(t *testing.T, dialect string, n int, opts sqlstore.Options) []*sqlstore.Store {
	t.Helper()
	var dbURL string
	switch dialect {
	case sqlstore.DialectSQLite:
		dbURL = "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	case sqlstore.DialectPostgres:
		dbURL, _ = sqltest.PostgresURL(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	stores := make([]*sqlstore.Store, n)
	for i := range stores {
		s, err := sqlstore.Open(t.Context(), dbURL, opts)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	return stores
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t) // migrated once already
			c := &store.Client{ID: "c1", Name: "kept", SecretHash: []byte{1, 2, 3}}
			if err := s.CreateClient(t.Context(), c); err != nil {
				t.Fatalf("CreateClient: %v", err)
			}
			for i := range 2 {
				if err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate again #%d: %v", i+1, err)
				}
			}
			if _, err := s.GetClient(t.Context(), "c1"); err != nil {
				t.Fatalf("client lost by re-migration: %v", err)
			}
		})
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			stores := openShared(t, b.name, 4, sqlstore.Options{})
			errs := make(chan error, len(stores))
			start := make(chan struct{})
			for _, s := range stores {
				go func() {
					<-start
					errs <- s.Migrate(t.Context())
				}()
			}
			close(start)
			for range stores {
				if err := <-errs; err != nil {
					t.Errorf("concurrent Migrate: %v", err)
				}
			}
			c := &store.Client{ID: "c1", Name: "one", SecretHash: []byte{1}}
			if err := stores[0].CreateClient(t.Context(), c); err != nil {
				t.Fatalf("CreateClient after migration: %v", err)
			}
		})
	}
}

func TestSQLiteDataSurvivesReopen(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "data", "tollgate.db")
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := &store.RefreshToken{ID: "rt1", FamilyID: "fam1", ClientID: "c1", Scopes: []string{"read"},
		IssuedAt: now, FamilyIssuedAt: now, ExpiresAt: now.Add(time.Hour)}

	s, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	mustDo(t, "CreateClient", s.CreateClient(t.Context(), &store.Client{ID: "c1", Name: "one", SecretHash: []byte{1}}))
	mustDo(t, "CreateUser", s.CreateUser(t.Context(), &store.User{ID: "u1", Username: "alice", PasswordHash: "h"}))
	mustDo(t, "CreateSigningKey", s.CreateSigningKey(t.Context(), &store.SigningKey{ID: "k1", Algorithm: "EdDSA", PrivateKey: []byte{1}, PublicKey: []byte{2}}))
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), tok))
	mustDo(t, "Close", s.Close())

	s, err = sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mustDo(t, "Migrate after reopen", s.Migrate(t.Context()))
	_, err = s.GetClient(t.Context(), "c1")
	mustDo(t, "GetClient", err)
	_, err = s.GetUserByUsername(t.Context(), "alice")
	mustDo(t, "GetUserByUsername", err)
	keys, err := s.ListSigningKeys(t.Context())
	mustDo(t, "ListSigningKeys", err)
	if len(keys) != 1 {
		t.Errorf("%d signing keys after reopen, want 1", len(keys))
	}
	got, err := s.GetRefreshToken(t.Context(), "fam1", "rt1")
	mustDo(t, "GetRefreshToken", err)
	if !got.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tok.ExpiresAt)
	}
}

func TestPostgresSchemaFromURL(t *testing.T) {
	t.Parallel()
	dbURL, schema := sqltest.PostgresURL(t)
	s, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mustDo(t, "Migrate", s.Migrate(t.Context()))

	want := []string{"api_keys", "assertion_replays", "audience_keys", "audiences", "audit_log", "change_log", "change_seq", "clients", "refresh_family_revocations", "refresh_tokens", "revocation_nodes", "revocations", "schema_migrations", "signing_keys", "subject_api_keys", "token_lifetimes", "trusted_issuers", "users"}
	if got := tablesIn(t, schema); !slices.Equal(got, want) {
		t.Errorf("tables in %s = %q, want %q", schema, got, want)
	}
}

func TestPostgresSchemaOptionCreatesSchema(t *testing.T) {
	t.Parallel()
	dbURL, base := sqltest.PostgresURL(t)
	// Options.Schema wins over the URL's search_path and is created.
	other := base + "_opt"
	t.Cleanup(func() { adminExec(t, "DROP SCHEMA IF EXISTS "+other+" CASCADE") })
	s, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{Schema: other})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mustDo(t, "Migrate", s.Migrate(t.Context()))
	if got := tablesIn(t, other); len(got) != 18 {
		t.Errorf("tables in %s = %q, want 18", other, got)
	}
	if got := tablesIn(t, base); len(got) != 0 {
		t.Errorf("tables in %s = %q, want none", base, got)
	}
}

// tablesIn lists the tables of schema, sorted.
func tablesIn(t *testing.T, schema string) []string {
	t.Helper()
	conn := adminConn(t)
	rows, err := conn.Query(t.Context(),
		"SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", schema)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	return names
}

func adminExec(t *testing.T, stmt string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, os.Getenv(sqltest.EnvDatabaseURL))
	if err != nil {
		t.Errorf("connect: %v", err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Errorf("%s: %v", stmt, err)
	}
}

func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), os.Getenv(sqltest.EnvDatabaseURL))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestPending(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, err := s.Pending(ctx)
	if err != nil || !slices.Contains(before, "202611260001_initial") {
		t.Fatalf("fresh database: pending %v, %v; want every migration", before, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if after, err := s.Pending(ctx); err != nil || len(after) != 0 {
		t.Fatalf("after Migrate: pending %v, %v", after, err)
	}
}
