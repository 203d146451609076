package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/store"
)

// auditPageSize is how many entries one read asks for (the admin API's
// largest page).
const auditPageSize = 500

func auditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log of admin changes"}
	cmd.AddCommand(auditListCmd(e))
	return cmd
}

func auditListCmd(e *env) *cobra.Command {
	var (
		f      store.AuditFilter
		since  string
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [--target T] [--action A] [--since 1h|RFC3339] [--limit N]",
		Short: "List the newest audit entries (oldest first) matching the filters",
		Example: `  tollgate audit list --since 24h
  tollgate audit list --target client:tgc_… --action client.update --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 {
				return errors.New("--limit must be at least 1")
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			return e.withOps(func(ctx context.Context, o ops, _ []string) error {
				entries, err := newestAudit(ctx, o, f, limit)
				if err != nil {
					return err
				}
				return printList(e, asJSON, entries, []string{"ID", "AT", "ACTOR", "ACTION", "TARGET"}, func(a auditEntry) []string {
					return []string{fmt.Sprint(a.ID), a.At.Format(time.RFC3339), a.Actor, a.Action, a.Target}
				})
			})(cmd, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Target, "target", "", `only entries whose target starts with this, e.g. "client:tgc_…" or "user:"`)
	fl.StringVar(&f.Action, "action", "", "only entries of this action, e.g. client.update")
	fl.StringVar(&since, "since", "", "only entries this recent: a duration (1h, 30m) or an RFC 3339 time")
	fl.IntVar(&limit, "limit", 100, "print at most this many entries, the newest")
	fl.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

// parseSince reads --since: a duration back from now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: give a duration back from now (1h, 30m) or an RFC 3339 time (2026-12-01T09:00:00Z)", strings.TrimSpace(s))
}

// newestAudit pages through the matching entries, oldest first (the only
// order the log is read in), and keeps the newest limit of them.
func newestAudit(ctx context.Context, o ops, f store.AuditFilter, limit int) ([]auditEntry, error) {
	var kept []auditEntry
	for after := int64(0); ; {
		page, err := o.auditPage(ctx, f, after, auditPageSize)
		if err != nil {
			return nil, err
		}
		kept = append(kept, page...)
		if len(kept) > limit {
			kept = append(kept[:0], kept[len(kept)-limit:]...)
		}
		if len(page) < auditPageSize {
			return kept, nil
		}
		after = page[len(page)-1].ID
	}
}
