package sqlstore

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// openSchemaTestStores returns migrated stores on a new SQLite file and,
// when TOLLGATE_TEST_DATABASE_URL is set, on a new PostgreSQL schema that
// is dropped afterwards. (sqltest imports this package, so these internal
// tests cannot use it.)
func openSchemaTestStores(t *testing.T) map[string]*Store {
	t.Helper()
	stores := map[string]*Store{}
	open := func(name, url string, opts Options) *Store {
		s, err := Open(t.Context(), url, opts)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("migrate %s: %v", name, err)
		}
		return s
	}
	stores[DialectSQLite] = open(DialectSQLite, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), Options{})
	url := os.Getenv("TOLLGATE_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("TOLLGATE_TEST_DATABASE_URL is not set (required when CI=true)")
		}
		t.Logf("TOLLGATE_TEST_DATABASE_URL is not set; PostgreSQL not tested")
		return stores
	}
	schema := "tg_test_" + strings.ToLower(rand.Text())
	s := open(DialectPostgres, url, Options{Schema: schema})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.db.WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	stores[DialectPostgres] = s
	return stores
}

// TestSQLiteForeignKeysOnEveryConnection: the cascade from owners to API
// keys depends on PRAGMA foreign_keys, which SQLite sets per connection.
func TestSQLiteForeignKeysOnEveryConnection(t *testing.T) {
	t.Parallel()
	s := openSchemaTestStores(t)[DialectSQLite]
	ctx := t.Context()
	for i := range sqliteReadConns {
		// Holding each connection forces the pool to open a new one.
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		defer conn.Close()
		var on int
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
			t.Fatalf("conn %d: PRAGMA foreign_keys: %v", i, err)
		}
		if on != 1 {
			t.Errorf("conn %d: foreign_keys = %d, want 1", i, on)
		}
	}
}

// TestAPIKeysHaveExactlyOneOwner: the schema itself refuses a key with no
// owner or with two, whatever writes it.
func TestAPIKeysHaveExactlyOneOwner(t *testing.T) {
	t.Parallel()
	for name, s := range openSchemaTestStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			mustNoErr(t, s.CreateUser(ctx, &store.User{ID: "o", Username: "o", PasswordHash: "h"}))
			mustNoErr(t, s.CreateClient(ctx, &store.Client{ID: "o", Name: "o", SecretHash: []byte{1}}))
			owner := "o"
			for _, row := range []apiKeyRow{
				{ID: "key_none", Hash: []byte{1}},
				{ID: "key_both", Hash: []byte{2}, OwnerUserID: &owner, OwnerClientID: &owner},
			} {
				row.CreatedAt, row.Scopes = dbTime(time.Now()), "[]"
				err := s.db.WithContext(ctx).Create(&row).Error
				if err == nil || !strings.Contains(err.Error(), "api_keys_one_owner") {
					t.Errorf("insert %s: err = %v, want the api_keys_one_owner check to fail", row.ID, err)
				}
			}
		})
	}
}

// TestGetAPIKeyByHashUsesIndex: the exchange's lookup is an index search,
// not a scan, on both dialects.
func TestGetAPIKeyByHashUsesIndex(t *testing.T) {
	t.Parallel()
	for name, s := range openSchemaTestStores(t) {
		t.Run(name, func(t *testing.T) {
			var plan []string
			err := s.db.WithContext(t.Context()).Transaction(func(tx *gorm.DB) error {
				explain := "EXPLAIN QUERY PLAN SELECT * FROM api_keys WHERE hash = ?"
				column := "detail"
				if name == DialectPostgres {
					// A tiny table is cheaper to scan: ask whether the
					// index can serve the query at all.
					if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
						return err
					}
					explain, column = "EXPLAIN SELECT * FROM api_keys WHERE hash = ?", "QUERY PLAN"
				}
				rows, err := tx.Raw(explain, []byte{1, 2, 3}).Rows()
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var r map[string]any
					if err := tx.ScanRows(rows, &r); err != nil {
						return err
					}
					plan = append(plan, toString(r[column]))
				}
				return rows.Err()
			})
			mustNoErr(t, err)
			if joined := strings.Join(plan, "\n"); !strings.Contains(joined, "api_keys_hash_key") {
				t.Errorf("plan does not use api_keys_hash_key:\n%s", joined)
			}
		})
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, end string
		ok     bool
	}{
		{"a", "b", true},
		{"client:", "client;", true},
		{"user:ü", "user:ý", true},
		{"x\uD7FF", "x\uE000", true},
		{"x\U0010FFFF", "y", true},
		{"x\U0010FFFF\U0010FFFF", "y", true},
		{"\U0010FFFF", "", false},
	}
	for _, tc := range tests {
		end, ok := prefixEnd(tc.p)
		if end != tc.end || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.p, end, ok, tc.end, tc.ok)
		}
	}
}

// FuzzPrefixEnd: for valid UTF-8, s starts with p exactly when p <= s and
// s is below prefixEnd(p), in byte order; that is what ListAudit asks the
// database.
func FuzzPrefixEnd(f *testing.F) {
	for _, seed := range [][2]string{{"client:", "client:x"}, {"a\U0010FFFF", "a\U0010FFFFb"}, {"ab", "b"}, {"\uD7FF", "\uE000"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if !utf8.ValidString(p) || !utf8.ValidString(s) {
			return
		}
		end, ok := prefixEnd(p)
		if ok && (!utf8.ValidString(end) || end <= p) {
			t.Fatalf("prefixEnd(%q) = %q: not valid UTF-8 above p", p, end)
		}
		inRange := s >= p && (!ok || s < end)
		if inRange != strings.HasPrefix(s, p) {
			t.Fatalf("p=%q s=%q end=%q ok=%v: in range %v, HasPrefix %v", p, s, end, ok, inRange, !inRange)
		}
	})
}
