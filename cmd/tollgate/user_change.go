package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate/tollgate/server/registry"
)

func userShowCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show USER",
		Short: "Show one user (by id or username)",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			u, err := o.findUser(ctx, args[0])
			if err != nil {
				return err
			}
			return printUser(e, asJSON, u)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func printUser(e *env, asJSON bool, u registry.UserView) error {
	if asJSON {
		return writeJSON(e.stdout, u)
	}
	return writeTable(e.stdout, []string{"FIELD", "VALUE"}, [][]string{
		{"id", u.ID}, {"username", u.Username}, {"roles", orDash(strings.Join(u.Roles, ","))},
		{"disabled", fmt.Sprint(u.Disabled)},
		{"claims", claimsShown(u.Claims)}, {"private_claims", claimsShown(u.PrivateClaims)},
		{"created_at", u.CreatedAt.Format(time.RFC3339)},
		{"updated_at", u.UpdatedAt.Format(time.RFC3339)},
	})
}

func userUpdateCmd(e *env) *cobra.Command {
	var (
		roles                     string
		disabled, enabled, asJSON bool
		claims                    claimFlags
	)
	cmd := &cobra.Command{
		Use:   "update USER (--roles ROLES | --disabled | --enabled | --claim NAME=VALUE | --private-claim NAME=VALUE)",
		Short: "Change a user's roles or claims, or disable (revoking their tokens) or enable them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p registry.UserPatch
			switch {
			case disabled && enabled:
				return errors.New("give --disabled or --enabled, not both")
			case disabled || enabled:
				p.Disabled = &disabled
			}
			if cmd.Flags().Changed("roles") {
				r := splitList(roles)
				p.Roles = &r
			}
			var err error
			if p.Claims, p.PrivateClaims, err = claims.read(cmd.Flags().Changed); err != nil {
				return err
			}
			if reflect.ValueOf(p).IsZero() {
				return errors.New("nothing to change: give --roles, --disabled, --enabled, --claim or --private-claim")
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				u, err := o.findUser(ctx, args[0])
				if err != nil {
					return err
				}
				if u, err = o.updateUser(ctx, u.ID, p); err != nil {
					return err
				}
				return printUser(e, asJSON, u)
			})(cmd, args)
		},
	}
	cmd.Flags().StringVar(&roles, "roles", "", `comma-separated roles ("" removes them all)`)
	cmd.Flags().BoolVar(&disabled, "disabled", false, "refuse the user's logins, refreshes and API keys, and revoke their tokens")
	cmd.Flags().BoolVar(&enabled, "enabled", false, "let a disabled user log in again")
	claims.register(cmd.Flags(), "user")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func userSetPasswordCmd(e *env) *cobra.Command {
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "set-password USER --password-stdin",
		Short: "Replace a user's password (asked twice on a terminal, else one line of standard input); revokes their tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !passwordStdin {
				return errors.New("pass the password on standard input with --password-stdin (never as an argument, where other users can see it)")
			}
			pw, err := readPassword(e)
			if err != nil {
				return err
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				u, err := o.findUser(ctx, args[0])
				if err != nil {
					return err
				}
				if err := o.setPassword(ctx, u.ID, pw); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "password of %s (%s) changed; their tokens are revoked\n", u.Username, u.ID)
				return err
			})(cmd, args)
		},
	}
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input (required)")
	return cmd
}

// readPassword asks twice without echo when standard input is a terminal,
// else reads one line.
func readPassword(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(e.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			return string(b), err
		}
		first, err := ask("New password: ")
		if err != nil {
			return "", err
		}
		again, err := ask("Repeat it: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		return first, nil
	}
	return readLine(e.stdin, "password")
}

// readLine reads one line of r, without its line ending.
func readLine(r io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if err != nil && line == "" {
		return "", fmt.Errorf("no %s on standard input", what)
	}
	return line, nil
}

func userRevokeTokensCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "revoke-tokens USER",
		Short: "Revoke every token issued to a user so far (new logins still work)",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			u, err := o.findUser(ctx, args[0])
			if err != nil {
				return err
			}
			at, err := o.revokeUserTokens(ctx, u.ID)
			if err != nil {
				return err
			}
			return printRevoked(e, asJSON, "user "+u.Username+" ("+u.ID+")", at)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}
