package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/store"
)

func keysCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "List and rotate token signing keys"}
	cmd.AddCommand(keysListCmd(e), keysRotateCmd(e))
	return cmd
}

// openKeys loads the key manager on the configured database.
func (a *dbAdmin) openKeys(cmd *cobra.Command) (*keys.Manager, error) {
	km, err := keys.New(a.sql, keys.Options{
		SealKey:    keys.Derive(a.master, keys.PurposeSigningKeySeal),
		Algorithm:  a.cfg.Tokens.SigningAlgorithm,
		PrePublish: a.cfg.Tokens.KeyPrePublish,
		Retain:     a.cfg.Tokens.AccessTTL + a.cfg.Tokens.ClockSkew,
		Logger:     a.log,
	})
	if err == nil {
		err = km.Load(cmd.Context())
	}
	return km, err
}

func keysRotateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Create the next signing key; it is published now and signs after TOLLGATE_KEY_PREPUBLISH",
		Long: `Create the next signing key. Running servers publish it in the JWKS within a
minute, and it starts signing only after the pre-publication delay
(TOLLGATE_KEY_PREPUBLISH, default 10m), so resource servers never meet an
unknown kid. The current key then stops signing and stays published until
every token it signed has expired.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := e.openAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			km, err := a.openKeys(cmd)
			if err != nil {
				return err
			}
			k, err := km.Rotate(cmd.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "new key %s (%s) is published now and signs from %s\n", k.ID, k.Algorithm, k.ActiveAt.Format(time.RFC3339))
			return err
		},
	}
}

func keysListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List signing keys (public facts only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := e.openAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			km, err := a.openKeys(cmd)
			if err != nil {
				return err
			}
			type view struct {
				KID       string     `json:"kid"`
				Algorithm string     `json:"alg"`
				State     string     `json:"state"`
				CreatedAt time.Time  `json:"created_at"`
				ActiveAt  time.Time  `json:"active_at"`
				RetiredAt *time.Time `json:"retired_at,omitempty"`
			}
			now := time.Now()
			var views []view
			var rows [][]string
			for _, k := range km.Keys() {
				v := view{KID: k.ID, Algorithm: k.Algorithm, State: keyState(k, now), CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt}
				retired := "-"
				if !k.RetiredAt.IsZero() {
					v.RetiredAt = &k.RetiredAt
					retired = k.RetiredAt.Format(time.RFC3339)
				}
				views = append(views, v)
				rows = append(rows, []string{v.KID, v.Algorithm, v.State, v.ActiveAt.Format(time.RFC3339), retired})
			}
			if asJSON {
				return writeJSON(e.stdout, views)
			}
			return writeTable(e.stdout, []string{"KID", "ALG", "STATE", "SIGNS_FROM", "RETIRED_AT"}, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func keyState(k store.SigningKey, now time.Time) string {
	switch {
	case !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt):
		return "retired"
	case now.Before(k.ActiveAt):
		return "next"
	default:
		return "active"
	}
}
