package store

import (
	"context"
	"time"
)

// AuditEntry records one change made through the admin API or the CLI.
type AuditEntry struct {
	// ID is assigned by the store when the entry is appended: strictly
	// increasing in append order across every writer. It is the audit
	// listing's cursor.
	ID int64
	At time.Time
	// Actor is who made the change: "client:<client_id>" for an admin
	// token, "cli:<os user>" for the CLI on the database.
	Actor string
	// Action is what was done, e.g. "client.create" or "apikey.revoke".
	Action string
	// Target is what it was done to, e.g. "client:<client_id>".
	Target string
	// Before and After are JSON documents of the target's state around the
	// change, secrets already redacted by the caller. Either is empty when
	// there was no such state (before a create, after a delete). The store
	// keeps their bytes as given.
	Before []byte
	After  []byte
}

// AuditFilter narrows ListAudit. Its zero value matches every entry.
type AuditFilter struct {
	// Target, when set, keeps entries whose Target starts with it
	// (case-sensitive): "client:" matches every client, "client:abc" the
	// client abc and any whose ID starts with abc.
	Target string
	// Action, when set, keeps entries whose Action is exactly it.
	Action string
	// Since, when not zero, keeps entries whose At is at or after it.
	Since time.Time
}

// AuditStore keeps the audit log, an append-only list of changes. Every
// method is safe for concurrent use across processes sharing the backing
// store. Text fields must be valid UTF-8.
type AuditStore interface {
	// AppendAudit records e and sets e.ID. The store sets nothing else: At
	// is stored as given.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns up to limit entries matching filter with ID > after,
	// in ID order. Once a call has returned an entry with ID n, no entry
	// with a lower ID can appear later: a reader that resumes from the last
	// ID it saw misses nothing. A limit of zero or less returns none.
	ListAudit(ctx context.Context, filter AuditFilter, after int64, limit int) ([]AuditEntry, error)
}
