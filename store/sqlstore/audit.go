package sqlstore

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

var _ store.AuditStore = (*Store)(nil)

// auditRow is the live model of table audit_log (see migrationAuditLog).
type auditRow struct {
	ID         int64     `gorm:"column:id;primaryKey;autoIncrement"`
	OccurredAt time.Time `gorm:"column:occurred_at"`
	Actor      string    `gorm:"column:actor"`
	Action     string    `gorm:"column:action"`
	Target     string    `gorm:"column:target"`
	BeforeJSON *string   `gorm:"column:before_json"`
	AfterJSON  *string   `gorm:"column:after_json"`
}

func (auditRow) TableName() string { return "audit_log" }

func (r *auditRow) toAuditEntry() store.AuditEntry {
	return store.AuditEntry{
		ID:     r.ID,
		At:     fromDBTime(r.OccurredAt),
		Actor:  r.Actor,
		Action: r.Action,
		Target: r.Target,
		Before: fromDBDocument(r.BeforeJSON),
		After:  fromDBDocument(r.AfterJSON),
	}
}

// dbDocument stores a JSON document as text; empty becomes NULL.
func dbDocument(b []byte) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}

// fromDBDocument reads what dbDocument wrote; NULL becomes nil.
func fromDBDocument(s *string) []byte {
	if s == nil || *s == "" {
		return nil
	}
	return []byte(*s)
}

// AppendAudit records e and sets e.ID.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	row := auditRow{
		OccurredAt: dbTime(e.At),
		Actor:      e.Actor,
		Action:     e.Action,
		Target:     e.Target,
		BeforeJSON: dbDocument(e.Before),
		AfterJSON:  dbDocument(e.After),
	}
	err := s.write(ctx, "append audit", func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			// As in Revoke: a sequence hands out IDs before commit, so
			// without this lock a reader could see ID n+1 committed before
			// n and resume past n. SQLite has a single writer already.
			if err := tx.Exec("LOCK TABLE audit_log IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return err
	}
	e.ID = row.ID
	return nil
}

// ListAudit returns up to limit entries matching filter with ID > after,
// in ID order. The target prefix becomes a byte-order range, which both
// dialects can answer from audit_log_target_idx and which, unlike LIKE,
// has no wildcards to escape and no case folding. A filter target that is
// not valid UTF-8 is an error.
func (s *Store) ListAudit(ctx context.Context, filter store.AuditFilter, after int64, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		return []store.AuditEntry{}, nil
	}
	q := s.read(ctx).Where("id > ?", after)
	if filter.Action != "" {
		q = q.Where("action = ?", filter.Action)
	}
	if !filter.Since.IsZero() {
		q = q.Where("occurred_at >= ?", dbTime(filter.Since))
	}
	if p := filter.Target; p != "" {
		if !utf8.ValidString(p) {
			return nil, errors.New("sqlstore: list audit: target filter is not valid UTF-8")
		}
		q = q.Where("target >= ?", p)
		if end, ok := prefixEnd(p); ok {
			q = q.Where("target < ?", end)
		}
	}
	var rows []auditRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, wrapErr("list audit", err)
	}
	out := make([]store.AuditEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].toAuditEntry()
	}
	return out, nil
}

// prefixEnd returns the least valid UTF-8 string above every string that
// starts with p, in byte order (which for valid UTF-8 is code point
// order): p with its last character incremented, after dropping trailing
// U+10FFFF characters, which cannot be. ok is false when p is all U+10FFFF
// and nothing bounds it. p must be valid UTF-8.
func prefixEnd(p string) (end string, ok bool) {
	runes := []rune(p)
	for i := len(runes) - 1; i >= 0; i-- {
		r := runes[i] + 1
		if r == 0xD800 { // surrogates are not characters: skip them
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			runes[i] = r
			return string(runes[:i+1]), true
		}
	}
	return "", false
}
