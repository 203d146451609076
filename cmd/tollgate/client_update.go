package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
)

func clientUpdateCmd(e *env) *cobra.Command {
	var (
		grantTypes, scopes, defaultScopes, audience, roles string
		accessTTL, refreshTTL                              time.Duration
		rateLimit                                          int
		disabled, enabled, dpopBound, asJSON               bool
		keys                                               keyFlags
		claims                                             claimFlags
	)
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID [flags]",
		Short: "Change a client: only the flags given change; --disabled also revokes its tokens",
		Long: `Change a client. Only the flags given change; give a flag an empty value
("") to clear a list. --disabled refuses the client at every endpoint
(invalid_client), stops its API keys and revokes every token it holds, as
'tollgate client revoke-tokens' does; --enabled lets it get new tokens again.`,
		Example: `  tollgate client update tgc_… --scopes "orders:read orders:write"
  tollgate client update tgc_… --access-token-ttl 5m --rate-limit 20 --json
  tollgate client update tgc_… --disabled
  tollgate client update tgc_… --jwks-file both-keys.jwks.json
  tollgate client update tgc_… --claim tenant=acme --private-claim internal_id=42`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if disabled && enabled {
				return errors.New("give --disabled or --enabled, not both")
			}
			f := cmd.Flags()
			var p registry.ClientPatch
			lists := []struct {
				flag  string
				value string
				split func(string) []string
				dst   **[]string
			}{
				{"grant-types", grantTypes, splitList, &p.GrantTypes},
				{"scopes", scopes, strings.Fields, &p.Scopes},
				{"default-scopes", defaultScopes, strings.Fields, &p.DefaultScopes},
				{"audience", audience, splitList, &p.Audience},
				{"roles", roles, splitList, &p.Roles},
			}
			for _, l := range lists {
				if f.Changed(l.flag) {
					v := l.split(l.value)
					*l.dst = &v
				}
			}
			if f.Changed("access-token-ttl") {
				p.AccessTokenTTL = &accessTTL
			}
			if f.Changed("refresh-token-ttl") {
				p.RefreshTokenTTL = &refreshTTL
			}
			if f.Changed("rate-limit") {
				p.RateLimit = &rateLimit
			}
			if disabled || enabled {
				p.Disabled = &disabled
			}
			if f.Changed("dpop-bound") {
				p.DPoPBound = &dpopBound
			}
			if err := keys.patch(&p, f.Changed); err != nil {
				return err
			}
			var err error
			if p.Claims, p.PrivateClaims, err = claims.read(f.Changed); err != nil {
				return err
			}
			if reflect.ValueOf(p).IsZero() {
				return errors.New("nothing to change: give at least one flag (see tollgate client update --help)")
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				v, err := o.updateClient(ctx, args[0], p)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(e.stdout, v)
				}
				state := "enabled"
				if v.Disabled {
					state = "disabled (its tokens are revoked)"
				}
				_, err = fmt.Fprintf(e.stdout, "updated client %s: %s\n", v.ClientID, state)
				return err
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&grantTypes, "grant-types", "", "comma-separated: client_credentials, password, refresh_token")
	f.StringVar(&scopes, "scopes", "", `space-separated scopes the client may request`)
	f.StringVar(&defaultScopes, "default-scopes", "", "scopes granted when a request names none (empty: all of the scopes)")
	f.StringVar(&audience, "audience", "", "comma-separated token audience (empty: the server's)")
	f.StringVar(&roles, "roles", "", "comma-separated roles put in client_credentials tokens")
	f.DurationVar(&accessTTL, "access-token-ttl", 0, "access-token lifetime, e.g. 5m (0: the server's)")
	f.DurationVar(&refreshTTL, "refresh-token-ttl", 0, "refresh-token lifetime, e.g. 720h (0: the server's)")
	f.IntVar(&rateLimit, "rate-limit", 0, "token requests per second for this client (0: the server's limit)")
	f.BoolVar(&disabled, "disabled", false, "refuse the client everywhere and revoke its tokens")
	f.BoolVar(&enabled, "enabled", false, "let a disabled client get tokens again")
	f.BoolVar(&dpopBound, "dpop-bound", false, "require a DPoP proof with every token request (--dpop-bound=false: no longer)")
	keys.register(f)
	claims.register(f, "client")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func clientRotateSecretCmd(e *env) *cobra.Command {
	var (
		overlap time.Duration
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID [--overlap 1h]",
		Short: "Give a client a new secret (shown once); the old one works for --overlap",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			r, err := o.rotateClientSecret(ctx, args[0], overlap)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "client_id:     %s\nclient_secret: %s\n", r.ClientID, r.ClientSecret)
			old := "the previous secret stopped working"
			if r.PreviousExpiresAt != nil {
				old = "the previous secret works until " + r.PreviousExpiresAt.Format(time.RFC3339)
			}
			_, err = fmt.Fprintf(e.stderr, "Store the secret now: it is not kept and cannot be shown again; %s.\n", old)
			return err
		}),
	}
	cmd.Flags().DurationVar(&overlap, "overlap", registry.DefaultSecretOverlap, "how long the previous secret keeps working (0: stop it now; at most "+registry.MaxSecretOverlap.String()+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func clientRevokeTokensCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "revoke-tokens CLIENT_ID",
		Short: "Revoke every token issued to a client so far (new ones still work)",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			at, err := o.revokeClientTokens(ctx, args[0])
			if err != nil {
				return err
			}
			return printRevoked(e, asJSON, "client "+args[0], at)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

// printRevoked reports a subject-wide revocation.
func printRevoked(e *env, asJSON bool, what string, at time.Time) error {
	if asJSON {
		return writeJSON(e.stdout, map[string]time.Time{"revoked_at": at})
	}
	_, err := fmt.Fprintf(e.stdout, "revoked every token issued to %s up to %s\n", what, at.Format(time.RFC3339))
	return err
}
