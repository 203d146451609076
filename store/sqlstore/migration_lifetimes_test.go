package sqlstore

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// openUnmigrated opens a store on a new, empty SQLite file and, when
// TOLLGATE_TEST_DATABASE_URL is set, on a new PostgreSQL schema.
func openUnmigrated(t *testing.T) map[string]*Store {
	t.Helper()
	stores := map[string]*Store{}
	open := func(name, url string, opts Options) *Store {
		s, err := Open(t.Context(), url, opts)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { _ = s.Close() })
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
		_ = s.db.WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error
	})
	stores[DialectPostgres] = s
	return stores
}

// TestLifetimesMigrationStartsFromClients: upgrading a database whose
// clients already issue long-lived tokens starts every mark from what the
// clients have, so a revocation right after the upgrade covers their
// tokens; and a binary that predates the migration still writes clients.
func TestLifetimesMigrationStartsFromClients(t *testing.T) {
	for name, s := range openUnmigrated(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			err := s.write(ctx, "migrate to before", func(tx *gorm.DB) error {
				return gormigrate.New(tx, &gormigrate.Options{TableName: migrationsTable, IDColumnName: "id", IDColumnSize: 255}, migrations()).
					MigrateTo("202611300001_revocation_nodes")
			})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for i, ttl := range []time.Duration{0, 24 * time.Hour, time.Hour} {
				c := oldClient(string(rune('0'+i)), now)
				c.AccessTokenTTLNs = int64(ttl)
				if err := s.db.WithContext(ctx).Create(&c).Error; err != nil {
					t.Fatalf("old binary creates a client: %v", err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := s.Lifetimes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := (store.LifetimeMarks{Longest: 24 * time.Hour}); got != want {
				t.Errorf("marks after the upgrade = %+v, want %+v", got, want)
			}
			c, err := s.GetClient(ctx, "c1")
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxAccessTokenTTL != 24*time.Hour {
				t.Errorf("client c1's MaxAccessTokenTTL = %v, want its lifetime, 24h", c.MaxAccessTokenTTL)
			}
			// Expand only: the old model still inserts and updates.
			old := oldClient("9", now)
			if err := s.db.WithContext(ctx).Create(&old).Error; err != nil {
				t.Errorf("old binary creates a client after the upgrade: %v", err)
			}
			if err := s.db.WithContext(ctx).Model(&clientRowV7{}).Where("id = ?", "c1").Update("access_token_ttl_ns", int64(time.Minute)).Error; err != nil {
				t.Errorf("old binary updates a client after the upgrade: %v", err)
			}
		})
	}
}

// clientRowV7 is table clients as a binary before migration
// 202612010001_lifetimes knows it (the columns it writes).
type clientRowV7 struct {
	ID                string    `gorm:"column:id;primaryKey"`
	Name              string    `gorm:"column:name"`
	SecretHash        []byte    `gorm:"column:secret_hash"`
	GrantTypes        string    `gorm:"column:grant_types"`
	Scopes            string    `gorm:"column:scopes"`
	DefaultScopes     string    `gorm:"column:default_scopes"`
	Audience          string    `gorm:"column:audience"`
	Roles             string    `gorm:"column:roles"`
	AccessTokenTTLNs  int64     `gorm:"column:access_token_ttl_ns"`
	RefreshTokenTTLNs int64     `gorm:"column:refresh_token_ttl_ns"`
	RateLimit         int       `gorm:"column:rate_limit"`
	CreatedAt         time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (clientRowV7) TableName() string { return "clients" }

func oldClient(n string, now time.Time) clientRowV7 {
	e := encodeList(nil)
	return clientRowV7{ID: "c" + n, Name: "n" + n, SecretHash: []byte{1}, GrantTypes: e, Scopes: e, DefaultScopes: e, Audience: e, Roles: e, CreatedAt: now, UpdatedAt: now}
}
