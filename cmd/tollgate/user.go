package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
)

func userCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users of the password grant (in the configured database, or a server's admin API with --server)"}
	cmd.AddCommand(userCreateCmd(e), userListCmd(e), userShowCmd(e), userUpdateCmd(e), userSetPasswordCmd(e), userRevokeTokensCmd(e), userDeleteCmd(e))
	return cmd
}

func userCreateCmd(e *env) *cobra.Command {
	var (
		spec          registry.UserSpec
		roles         string
		passwordStdin bool
		asJSON        bool
		claims        claimFlags
	)
	cmd := &cobra.Command{
		Use:     "create --username NAME --password-stdin",
		Short:   "Create a user; the password is read from standard input",
		Example: `  printf '%s\n' "$PASSWORD" | tollgate user create --username alice --password-stdin --roles admin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !passwordStdin {
				return errors.New("pass the password on standard input with --password-stdin (never as an argument, where other users can see it)")
			}
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			if err != nil && line == "" {
				return errors.New("no password on standard input")
			}
			spec.Password = strings.TrimRight(line, "\r\n")
			spec.Roles = splitList(roles)
			if spec.Claims, spec.PrivateClaims, err = claims.read(cmd.Flags().Changed); err != nil {
				return err
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				u, err := o.createUser(ctx, spec)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(e.stdout, u)
				}
				_, err = fmt.Fprintf(e.stdout, "id:       %s\nusername: %s\nroles:    %s\n", u.ID, u.Username, orDash(strings.Join(u.Roles, ",")))
				return err
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Username, "username", "", "unique username (required)")
	f.StringVar(&roles, "roles", "", "comma-separated roles put in the user's tokens")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input (required)")
	claims.register(f, "user")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	_ = cmd.MarkFlagRequired("username")
	return cmd
}

func userListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			views, err := o.listUsers(ctx)
			if err != nil {
				return err
			}
			return printList(e, asJSON, views, []string{"ID", "USERNAME", "ROLES", "DISABLED", "CREATED"}, func(v registry.UserView) []string {
				return []string{v.ID, v.Username, orDash(strings.Join(v.Roles, ",")), fmt.Sprint(v.Disabled), v.CreatedAt.Format(time.RFC3339)}
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func userDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete USER",
		Short: "Delete a user (by id or username); their API keys and tokens stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			u, err := o.findUser(ctx, args[0])
			if err != nil {
				return err
			}
			if err := o.deleteUser(ctx, u.ID); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "deleted user %s (%s)\n", u.Username, u.ID)
			return err
		}),
	}
}
