package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// changeOps are the admin operations that change what exists or read one
// record or the audit log, beside the create/list/delete of ops.
type changeOps interface {
	updateClient(ctx context.Context, id string, p registry.ClientPatch) (registry.ClientView, error)
	// rotateClientSecret returns the new secret and when the previous one
	// stops working (zero when it stopped at once).
	rotateClientSecret(ctx context.Context, id string, overlap time.Duration) (secretRotation, error)
	updateUser(ctx context.Context, id string, p registry.UserPatch) (registry.UserView, error)
	setPassword(ctx context.Context, id, password string) error
	getAPIKey(ctx context.Context, id string) (registry.APIKeyView, error)
	// auditPage returns up to limit entries matching f with ID above after.
	auditPage(ctx context.Context, f store.AuditFilter, after int64, limit int) ([]auditEntry, error)
}

// secretRotation is what client rotate-secret prints, once.
type secretRotation struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// PreviousExpiresAt is when the old secret stops working; absent when
	// it stopped at once (--overlap 0).
	PreviousExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

// auditEntry is one audit entry, as the admin API lists it.
type auditEntry struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

func (d direct) updateClient(ctx context.Context, id string, p registry.ClientPatch) (registry.ClientView, error) {
	c, err := d.a.registry.UpdateClient(ctx, id, p)
	if err != nil {
		return registry.ClientView{}, notFound(err, "client", id, "tollgate client list")
	}
	return registry.ViewClient(c), nil
}

func (d direct) rotateClientSecret(ctx context.Context, id string, overlap time.Duration) (secretRotation, error) {
	c, sec, err := d.a.registry.RotateClientSecret(ctx, id, overlap)
	if err != nil {
		return secretRotation{}, notFound(err, "client", id, "tollgate client list")
	}
	out := secretRotation{ClientID: c.ID, ClientSecret: sec}
	if !c.PrevSecretExpiresAt.IsZero() {
		out.PreviousExpiresAt = &c.PrevSecretExpiresAt
	}
	return out, nil
}

func (d direct) updateUser(ctx context.Context, id string, p registry.UserPatch) (registry.UserView, error) {
	u, err := d.a.registry.UpdateUser(ctx, id, p)
	if err != nil {
		return registry.UserView{}, notFound(err, "user", id, "tollgate user list")
	}
	return registry.ViewUser(u), nil
}

func (d direct) setPassword(ctx context.Context, id, password string) error {
	return notFound(d.a.registry.SetPassword(ctx, id, password), "user", id, "tollgate user list")
}

func (d direct) getAPIKey(ctx context.Context, id string) (registry.APIKeyView, error) {
	k, err := d.a.sql.GetAPIKey(ctx, id)
	if err != nil {
		return registry.APIKeyView{}, notFound(err, "API key", id, "tollgate apikey list")
	}
	return registry.ViewAPIKey(k), nil
}

func (d direct) auditPage(ctx context.Context, f store.AuditFilter, after int64, limit int) ([]auditEntry, error) {
	rows, err := d.a.sql.ListAudit(ctx, f, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]auditEntry, len(rows))
	for i, e := range rows {
		out[i] = auditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Before: e.Before, After: e.After}
	}
	return out, nil
}
