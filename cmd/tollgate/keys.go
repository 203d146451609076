package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func keysCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "List and rotate token signing keys"}
	cmd.AddCommand(keysListCmd(e), keysRotateCmd(e))
	return cmd
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
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			k, err := o.rotateSigningKey(ctx)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "new key %s (%s) is published now and signs from %s\n", k.KID, k.Algorithm, k.ActiveAt.Format(time.RFC3339))
			return err
		}),
	}
}

func keysListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List signing keys (public facts only)",
		Args:  cobra.NoArgs,
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			keys, err := o.signingKeys(ctx)
			if err != nil {
				return err
			}
			return printList(e, asJSON, keys, []string{"KID", "ALG", "STATE", "SIGNS_FROM", "RETIRED_AT"}, func(k keyView) []string {
				retired := "-"
				if k.RetiredAt != nil {
					retired = k.RetiredAt.Format(time.RFC3339)
				}
				return []string{k.KID, k.Algorithm, k.State, k.ActiveAt.Format(time.RFC3339), retired}
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}
