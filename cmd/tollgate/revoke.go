package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/store"
)

func revokeCmd(e *env) *cobra.Command {
	var clientID, user string
	cmd := &cobra.Command{
		Use:   "revoke (--client CLIENT_ID | --user USER)",
		Short: "Revoke every token issued so far to a client or a user",
		Long: `Revoke every access and refresh token issued so far to a client (by
client_id) or a user (by id or username). Running servers drop the access
tokens from introspection and the revocation feed within moments; refresh
tokens stop working at once. Tokens issued afterwards are not affected.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (clientID == "") == (user == "") {
				return errors.New("name exactly one of --client CLIENT_ID or --user USER")
			}
			ctx := cmd.Context()
			a, err := e.openAdmin(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			reg := a.registry
			var at time.Time
			var what string
			if clientID != "" {
				at, err = reg.RevokeClientTokens(ctx, clientID)
				what = "client " + clientID
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no client %q; list them with: tollgate client list", clientID)
				}
			} else {
				u, lerr := findUser(ctx, a.sql, user)
				if lerr != nil {
					return lerr
				}
				at, err = reg.RevokeUserTokens(ctx, u.ID)
				what = "user " + u.Username + " (" + u.ID + ")"
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "revoked every token issued to %s up to %s\n", what, at.Format(time.RFC3339))
			return err
		},
	}
	cmd.Flags().StringVar(&clientID, "client", "", "client_id whose tokens to revoke")
	cmd.Flags().StringVar(&user, "user", "", "user id or username whose tokens to revoke")
	return cmd
}
