package sqlstore

import (
	"context"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// migrationsTable records which migrations ran.
const migrationsTable = "schema_migrations"

// migrationLockKey is the PostgreSQL advisory lock that serialises Migrate
// across processes starting at once (an arbitrary constant: "tollgate").
const migrationLockKey int64 = 0x746f6c6c67617465

// migrations lists every schema change in order. Each one is frozen: it
// defines the tables it creates or alters with its own private structs, so
// later changes to the live models never rewrite history. Append; never
// edit a migration that has shipped.
func migrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		migrationInitial(),
		migrationRevocations(),
		migrationTokensRevokedAt(),
		migrationAPIKeys(),
		migrationAuditLog(),
		migrationClientRateLimit(),
		migrationRevocationNodes(),
		migrationLifetimes(),
		migrationRevocationsKey(),
		migrationAPIKeySubjects(),
		migrationChangeLog(),
		migrationClientDisabled(),
		migrationClientDPoPBound(),
		migrationRefreshDPoP(),
		migrationClientKeys(),
		migrationAssertionReplay(),
		migrationTrustedIssuers(),
		migrationClientFederation(),
		migrationAudiences(),
		migrationSubjectClaims(),
	}
}

// Migrate brings the schema up to date. It is idempotent and safe to run
// from several processes at once: on PostgreSQL it holds an advisory lock,
// on SQLite the write lock, for the whole run, and every migration runs in
// that one transaction.
func (s *Store) Migrate(ctx context.Context) error {
	return s.write(ctx, "migrate", func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
				return err
			}
		}
		m := gormigrate.New(tx, &gormigrate.Options{
			TableName:    migrationsTable,
			IDColumnName: "id",
			IDColumnSize: 255,
			// The transaction is ours, opened by s.write.
			UseTransaction: false,
		}, migrations())
		return m.Migrate()
	})
}

// Pending returns the IDs of the migrations not yet applied, in order. A
// binary refuses to serve a schema that lacks its migrations, and tells the
// operator to run them.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	db := s.read(ctx)
	applied := map[string]bool{}
	if db.Migrator().HasTable(migrationsTable) {
		var ids []string
		if err := db.Table(migrationsTable).Pluck("id", &ids).Error; err != nil {
			return nil, wrapErr("list applied migrations", err)
		}
		for _, id := range ids {
			applied[id] = true
		}
	}
	var pending []string
	for _, m := range migrations() {
		if !applied[m.ID] {
			pending = append(pending, m.ID)
		}
	}
	return pending, nil
}
