package sqlstore

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Table audit_log as migration 202611280002_audit_log creates it. ID is
// bigserial on PostgreSQL and INTEGER PRIMARY KEY AUTOINCREMENT on SQLite,
// so an ID is never handed out twice. before_json and after_json hold the
// JSON documents as text (NULL when absent), readable with psql or
// sqlite3. On PostgreSQL target sorts in byte order ("C"), which the
// target-prefix filter's range scan on audit_log_target_idx relies on.
var (
	auditPostgresV5 = []string{
		`CREATE TABLE audit_log (
			id bigserial PRIMARY KEY,
			occurred_at timestamptz NOT NULL,
			actor text NOT NULL,
			action text NOT NULL,
			target text COLLATE "C" NOT NULL,
			before_json text,
			after_json text
		)`,
		`CREATE INDEX audit_log_target_idx ON audit_log (target, id)`,
	}
	auditSQLiteV5 = []string{
		"CREATE TABLE `audit_log` (" +
			"`id` integer PRIMARY KEY AUTOINCREMENT," +
			"`occurred_at` datetime NOT NULL," +
			"`actor` text NOT NULL," +
			"`action` text NOT NULL," +
			"`target` text NOT NULL," +
			"`before_json` text," +
			"`after_json` text)",
		"CREATE INDEX `audit_log_target_idx` ON `audit_log` (`target`, `id`)",
	}
)

func migrationAuditLog() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "202611280002_audit_log",
		Migrate: func(tx *gorm.DB) error {
			stmts := auditSQLiteV5
			if tx.Dialector.Name() == DialectPostgres {
				stmts = auditPostgresV5
			}
			return execAll(tx, stmts)
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec("DROP TABLE audit_log").Error
		},
	}
}
