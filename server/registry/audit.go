package registry

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/tollgate/tollgate/store"
)

type actorKey struct{}

// changeTimeout bounds one change once it has begun.
const changeTimeout = 30 * time.Second

// begin detaches a change from its caller's cancellation. A caller that
// leaves (an admin client resetting its connection, an interrupted CLI)
// must not stop a change between its write and its audit entry: once
// begun, the change and its entry are both written, within
// changeTimeout.
func (r *Registry) begin(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), changeTimeout)
}

// WithActor names who is making changes through ctx, for the audit log:
// "client:<client_id>" for an admin token, "cli:<os user>" for the CLI.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "unknown"
}

// record appends an audit entry. before and after are views that carry no
// secrets (nil when there was no such state). The change it records has
// already happened, so a failure to record it is logged and returned.
func (r *Registry) record(ctx context.Context, action, target string, before, after any) error {
	if r.audit == nil {
		return nil
	}
	e := &store.AuditEntry{At: r.now().UTC(), Actor: actorOf(ctx), Action: action, Target: target, Before: marshal(before), After: marshal(after)}
	if err := r.audit.AppendAudit(ctx, e); err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "writing the audit log", slog.String("action", action), slog.String("target", target), slog.String("error", err.Error()))
		return err
	}
	return nil
}

func marshal(v any) []byte {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// target names what a change was made to: "client:<id>", "user:<id>".
func target(prefix, id string) string { return prefix + id }
