package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

func apikeyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage API keys, which their owners exchange for access tokens"}
	cmd.AddCommand(apikeyCreateCmd(e), apikeyListCmd(e), apikeyShowCmd(e), apikeyRevokeCmd(e))
	return cmd
}

func apikeyCreateCmd(e *env) *cobra.Command {
	var (
		user, clientID, subject, name, scopes, roles, claims string
		expiresIn                                            time.Duration
		asJSON                                               bool
	)
	cmd := &cobra.Command{
		Use:   "create (--user USER | --client CLIENT_ID | --subject ID --client APP_CLIENT_ID) --name NAME",
		Short: "Create an API key and print it (shown once)",
		Example: `  tollgate apikey create --user alice --name laptop --scopes "reports:read" --expires-in 720h --json
  tollgate apikey create --client tgc_… --name ci --json
  tollgate apikey create --subject 42 --client tgc_… --name laptop --roles editor --claims '{"tenant":"acme"}' --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case subject != "" && (clientID == "" || user != ""):
				return errors.New("a subject's key needs --client APP_CLIENT_ID, the application that owns the subject, and no --user")
			case subject == "" && (user == "") == (clientID == ""):
				return errors.New("name the key's owner with exactly one of --user USER, --client CLIENT_ID or --subject ID --client APP_CLIENT_ID")
			case subject == "" && (roles != "" || claims != ""):
				return errors.New("--roles and --claims are for a subject's key (--subject ID --client APP_CLIENT_ID)")
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				spec := registry.APIKeySpec{OwnerKind: store.OwnerClient, OwnerID: clientID, Name: name, Scopes: strings.Fields(scopes), ExpiresIn: expiresIn}
				if subject != "" {
					spec.OwnerKind, spec.OwnerID, spec.ClientID = store.OwnerSubject, subject, clientID
					spec.Roles = splitList(roles)
					if claims != "" {
						spec.Claims = json.RawMessage(claims)
					}
				}
				if user != "" {
					u, err := o.findUser(ctx, user)
					if err != nil {
						return err
					}
					spec.OwnerKind, spec.OwnerID = store.OwnerUser, u.ID
				}
				v, key, err := o.createAPIKey(ctx, spec)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(e.stdout, struct {
						APIKey string `json:"api_key"`
						registry.APIKeyView
					}{key, v})
				}
				fmt.Fprintf(e.stdout, "id:      %s\napi_key: %s\nowner:   %s\nscope:   %s\n", v.ID, key, ownerOf(v), orDash(v.Scope))
				_, err = fmt.Fprintln(e.stderr, "Store the key now: it is not kept and cannot be shown again.")
				return err
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "owning user (id or username)")
	f.StringVar(&clientID, "client", "", "owning client (client_id); with --subject, the application whose user it is")
	f.StringVar(&subject, "subject", "", "an application's own user id: the key's tokens have it as sub (needs --client)")
	f.StringVar(&roles, "roles", "", "comma-separated roles of a subject's key (at most the application's)")
	f.StringVar(&claims, "claims", "", `JSON object of non-secret claims of a subject's key, e.g. '{"tenant":"acme"}'`)
	f.StringVar(&name, "name", "", "a name to recognise the key by (required)")
	f.StringVar(&scopes, "scopes", "", `space-separated scopes the key's tokens may carry (default for a client's key: the client's scopes)`)
	f.DurationVar(&expiresIn, "expires-in", 0, "lifetime, e.g. 720h (default: no expiry)")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func apikeyListCmd(e *env) *cobra.Command {
	var (
		user, clientID, subject string
		asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:   "list [--user USER | --client CLIENT_ID | --subject ID [--client APP_CLIENT_ID]]",
		Short: "List API keys (never the keys themselves)",
		Args:  cobra.NoArgs,
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			var kind store.OwnerKind
			owner, app := clientID, ""
			switch {
			case subject != "":
				kind, owner, app = store.OwnerSubject, subject, clientID
			case user != "":
				u, err := o.findUser(ctx, user)
				if err != nil {
					return err
				}
				kind, owner = store.OwnerUser, u.ID
			case clientID != "":
				kind = store.OwnerClient
			}
			views, err := o.listAPIKeys(ctx, kind, owner, app)
			if err != nil {
				return err
			}
			return printList(e, asJSON, views, []string{"ID", "NAME", "OWNER", "KEY", "SCOPE", "STATE"}, func(v registry.APIKeyView) []string {
				state := "active"
				if v.RevokedAt != nil {
					state = "revoked"
				} else if v.ExpiresAt != nil && time.Now().After(*v.ExpiresAt) {
					state = "expired"
				}
				return []string{v.ID, v.Name, ownerOf(v), v.Prefix + "…" + v.Last4, orDash(v.Scope), state}
			})
		}),
	}
	cmd.Flags().StringVar(&user, "user", "", "only this user's keys (id or username)")
	cmd.Flags().StringVar(&clientID, "client", "", "only this client's keys; with --subject, only that application's")
	cmd.Flags().StringVar(&subject, "subject", "", "only keys of this application subject (an app's own user id)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func apikeyRevokeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key: every later exchange of it fails",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			if err := o.revokeAPIKey(ctx, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "revoked API key %s\n", args[0])
			return err
		}),
	}
}

// ownerOf shows a key's owner: "user:ID", "client:ID", or
// "subject:ID@APP_CLIENT_ID" for an application's user.
func ownerOf(v registry.APIKeyView) string {
	if v.ClientID != "" {
		return v.OwnerType + ":" + v.OwnerID + "@" + v.ClientID
	}
	return v.OwnerType + ":" + v.OwnerID
}
