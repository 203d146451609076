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
	"github.com/tollgate/tollgate/store"
)

func userCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users of the password grant (directly in the configured database)"}
	cmd.AddCommand(userCreateCmd(e), userListCmd(e), userDeleteCmd(e))
	return cmd
}

func userCreateCmd(e *env) *cobra.Command {
	var (
		spec          registry.UserSpec
		roles         string
		passwordStdin bool
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:     "create --username NAME --password-stdin",
		Short:   "Create a user; the password is read from standard input",
		Example: `  printf '%s' "$PASSWORD" | tollgate user create --username alice --password-stdin --roles admin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !passwordStdin {
				return errors.New("pass the password on standard input with --password-stdin (never as an argument, where other users can see it)")
			}
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			if err != nil && line == "" {
				return errors.New("no password on standard input")
			}
			spec.Password = strings.TrimRight(line, "\r\n")
			spec.Roles = splitList(roles)
			a, err := e.openAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			u, err := a.registry.CreateUser(cmd.Context(), spec)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, registry.ViewUser(u))
			}
			_, err = fmt.Fprintf(e.stdout, "id:       %s\nusername: %s\nroles:    %s\n", u.ID, u.Username, orDash(strings.Join(u.Roles, ",")))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Username, "username", "", "unique username (required)")
	f.StringVar(&roles, "roles", "", "comma-separated roles put in the user's tokens")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input (required)")
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := e.openAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			views := []registry.UserView{}
			for after := ""; ; {
				page, err := a.sql.ListUsers(cmd.Context(), after, 200)
				if err != nil {
					return err
				}
				for i := range page {
					views = append(views, registry.ViewUser(&page[i]))
				}
				if len(page) < 200 {
					break
				}
				after = page[len(page)-1].ID
			}
			if asJSON {
				return writeJSON(e.stdout, views)
			}
			rows := make([][]string, len(views))
			for i, v := range views {
				rows[i] = []string{v.ID, v.Username, orDash(strings.Join(v.Roles, ",")), fmt.Sprint(v.Disabled), v.CreatedAt.Format(time.RFC3339)}
			}
			return writeTable(e.stdout, []string{"ID", "USERNAME", "ROLES", "DISABLED", "CREATED"}, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func userDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete USER_ID",
		Short: "Delete a user; their refresh tokens stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.openAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			err = a.sql.DeleteUser(cmd.Context(), args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no user %q; list them with: tollgate user list", args[0])
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "deleted user %s\n", args[0])
			return err
		},
	}
}

// findUser looks a user up by id, then by username.
func findUser(ctx context.Context, us store.UserStore, idOrName string) (*store.User, error) {
	u, err := us.GetUser(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		u, err = us.GetUserByUsername(ctx, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user %q; list them with: tollgate user list", idOrName)
	}
	return u, err
}
