package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if (clientID == "") == (user == "") {
				return errors.New("name exactly one of --client CLIENT_ID or --user USER")
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				var at time.Time
				var err error
				what := "client " + clientID
				if clientID != "" {
					at, err = o.revokeClientTokens(ctx, clientID)
				} else {
					u, ferr := o.findUser(ctx, user)
					if ferr != nil {
						return ferr
					}
					what = "user " + u.Username + " (" + u.ID + ")"
					at, err = o.revokeUserTokens(ctx, u.ID)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "revoked every token issued to %s up to %s\n", what, at.Format(time.RFC3339))
				return err
			})(cmd, args)
		},
	}
	cmd.Flags().StringVar(&clientID, "client", "", "client_id whose tokens to revoke")
	cmd.Flags().StringVar(&user, "user", "", "user id or username whose tokens to revoke")
	return cmd
}
