package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
)

func apikeyShowCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one API key (never the key itself)",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			v, err := o.getAPIKey(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, v)
			}
			return writeTable(e.stdout, []string{"FIELD", "VALUE"}, [][]string{
				{"id", v.ID}, {"name", v.Name}, {"owner", ownerOf(v)}, {"key", v.Prefix + "…" + v.Last4},
				{"scope", orDash(v.Scope)}, {"state", keyState(v)}, {"expires_at", timeText(v.ExpiresAt)},
				{"last_used_at", timeText(v.LastUsedAt)}, {"revoked_at", timeText(v.RevokedAt)},
				{"created_at", v.CreatedAt.Format(time.RFC3339)},
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

// keyState is active, expired or revoked.
func keyState(v registry.APIKeyView) string {
	switch {
	case v.RevokedAt != nil:
		return "revoked"
	case v.ExpiresAt != nil && time.Now().After(*v.ExpiresAt):
		return "expired"
	}
	return "active"
}

// timeText shows an optional time, "-" when absent.
func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
