package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
)

func clientCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth clients (in the configured database, or a server's admin API with --server)"}
	cmd.AddCommand(clientCreateCmd(e), clientListCmd(e), clientShowCmd(e), clientUpdateCmd(e), clientRotateSecretCmd(e), clientRevokeTokensCmd(e), clientDeleteCmd(e))
	return cmd
}

// createdClient is printed once by client create: the only time the secret
// is ever shown.
type createdClient struct {
	// Absent for a private_key_jwt client, which has none.
	ClientSecret string `json:"client_secret,omitempty"`
	registry.ClientView
}

func clientCreateCmd(e *env) *cobra.Command {
	var (
		spec                              registry.ClientSpec
		grantTypes, scopes, defaultScopes string
		audience, roles                   string
		asJSON                            bool
		keys                              keyFlags
		claims                            claimFlags
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Register a client and print its secret (shown once)",
		Example: `  tollgate client create --name billing-sync --scopes "invoices:read invoices:write"
  tollgate client create --name admin --scopes tollgate:admin --json
  tollgate client create --name web --grant-types password,refresh_token --scopes profile --roles admin --json
  tollgate client create --name worker --auth-method private_key_jwt --jwks-file worker.jwks.json
  tollgate client create --name partner --scopes orders:read --claim tenant=acme --private-claim risk=0.2`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if spec.Claims, spec.PrivateClaims, err = claims.read(cmd.Flags().Changed); err != nil {
				return err
			}
			return keys.apply(&spec, cmd.Flags().Changed)
		},
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			spec.GrantTypes = splitList(grantTypes)
			spec.Scopes = strings.Fields(scopes)
			spec.DefaultScopes = strings.Fields(defaultScopes)
			spec.Audience = splitList(audience)
			spec.Roles = splitList(roles)
			v, sec, err := o.createClient(ctx, spec)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, createdClient{ClientSecret: sec, ClientView: v})
			}
			if sec == "" {
				fmt.Fprintf(e.stdout, "client_id:     %s\nauth_method:   %s (no secret)\n", v.ClientID, v.TokenEndpointAuthMethod)
				_, err = fmt.Fprintf(e.stdout, "grant_types:   %s\nscope:         %s\n", strings.Join(v.GrantTypes, ","), orDash(v.Scope))
				return err
			}
			fmt.Fprintf(e.stdout, "client_id:     %s\nclient_secret: %s\n", v.ClientID, sec)
			fmt.Fprintf(e.stdout, "grant_types:   %s\nscope:         %s\n", strings.Join(v.GrantTypes, ","), orDash(v.Scope))
			_, err = fmt.Fprintln(e.stderr, "Store the secret now: it is not kept and cannot be shown again.")
			return err
		}),
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "unique client name (required)")
	f.StringVar(&grantTypes, "grant-types", "client_credentials", "comma-separated: client_credentials, password, refresh_token")
	f.StringVar(&scopes, "scopes", "", `space-separated scopes the client may request, e.g. "orders:read orders:write"`)
	f.StringVar(&defaultScopes, "default-scopes", "", "scopes granted when a request names none (default: all of --scopes)")
	f.StringVar(&audience, "audience", "", "comma-separated token audience (default: the server's)")
	f.StringVar(&roles, "roles", "", "comma-separated roles put in client_credentials tokens")
	f.DurationVar(&spec.AccessTokenTTL, "access-token-ttl", 0, "access-token lifetime, e.g. 5m (default: the server's)")
	f.DurationVar(&spec.RefreshTokenTTL, "refresh-token-ttl", 0, "refresh-token lifetime, e.g. 720h (default: the server's)")
	f.IntVar(&spec.RateLimit, "rate-limit", 0, "token requests per second for this client (default: TOLLGATE_RATE_LIMIT_CLIENT, off unless set)")
	f.BoolVar(&spec.DPoPBound, "dpop-bound", false, "require a DPoP proof (RFC 9449) with every token request: all its tokens are sender-constrained")
	keys.register(f)
	claims.register(f, "client")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func clientListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			views, err := o.listClients(ctx)
			if err != nil {
				return err
			}
			return printList(e, asJSON, views, []string{"CLIENT_ID", "NAME", "GRANT_TYPES", "SCOPE", "CREATED"}, func(v registry.ClientView) []string {
				return []string{v.ClientID, v.ClientName, strings.Join(v.GrantTypes, ","), orDash(v.Scope), v.CreatedAt.Format(time.RFC3339)}
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func clientShowCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CLIENT_ID",
		Short: "Show one client",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			v, err := o.getClient(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, v)
			}
			return writeTable(e.stdout, []string{"FIELD", "VALUE"}, [][]string{
				{"client_id", v.ClientID}, {"client_name", v.ClientName},
				{"grant_types", strings.Join(v.GrantTypes, ",")}, {"scope", orDash(v.Scope)},
				{"default_scope", orDash(v.DefaultScope)}, {"audience", orDash(strings.Join(v.Audience, ","))},
				{"roles", orDash(strings.Join(v.Roles, ","))},
				{"access_token_ttl", ttlText(v.AccessTokenTTL)}, {"refresh_token_ttl", ttlText(v.RefreshTokenTTL)},
				{"rate_limit", rateText(v.RateLimit)}, {"disabled", fmt.Sprint(v.Disabled)},
				{"dpop_bound_access_tokens", fmt.Sprint(v.DPoPBound)},
				{"token_endpoint_auth_method", v.TokenEndpointAuthMethod},
				{"jwks_uri", orDash(v.JWKSURI)}, {"jwks", orDash(string(v.JWKS))},
				{"federated_issuer", orDash(v.FederatedIssuer)}, {"federated_subject", orDash(v.FederatedSubject)},
				{"federated_claims", orDash(claimsText(v.FederatedClaims))},
				{"claims", claimsShown(v.Claims)}, {"private_claims", claimsShown(v.PrivateClaims)},
				{"created_at", v.CreatedAt.Format(time.RFC3339)},
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func clientDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a client; its secret, API keys and tokens stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			if err := o.deleteClient(ctx, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "deleted client %s\n", args[0])
			return err
		}),
	}
}

// ttlText shows a lifetime in seconds, 0 being the server's default.
func ttlText(seconds int64) string {
	if seconds == 0 {
		return "server default"
	}
	return (time.Duration(seconds) * time.Second).String()
}

// rateText shows a client's rate limit, 0 being the server's.
func rateText(perSecond int) string {
	if perSecond == 0 {
		return "server default"
	}
	return fmt.Sprintf("%d/s", perSecond)
}

// nonNilSlice makes an empty listing print as [] rather than null.
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
