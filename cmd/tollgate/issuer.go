package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
)

// issuerOps manage the trusted issuers of workload identity federation.
type issuerOps interface {
	createIssuer(ctx context.Context, spec registry.IssuerSpec) (registry.IssuerView, error)
	listIssuers(ctx context.Context) ([]registry.IssuerView, error)
	updateIssuer(ctx context.Context, name string, p registry.IssuerPatch) (registry.IssuerView, error)
	deleteIssuer(ctx context.Context, name string) error
}

func (d direct) updateIssuer(ctx context.Context, name string, p registry.IssuerPatch) (registry.IssuerView, error) {
	i, err := d.a.registry.UpdateIssuer(ctx, name, p)
	if err != nil {
		return registry.IssuerView{}, err
	}
	return registry.ViewIssuer(i), nil
}

func (r remote) updateIssuer(ctx context.Context, name string, p registry.IssuerPatch) (registry.IssuerView, error) {
	in := map[string]any{}
	if p.Issuer != nil {
		in["issuer"] = *p.Issuer
	}
	if p.Audience != nil {
		in["audience"] = *p.Audience
	}
	if p.JWKSURI != nil {
		in["jwks_uri"] = *p.JWKSURI
	}
	if p.JWKS != nil {
		in["jwks"] = json.RawMessage(*p.JWKS)
	}
	if p.MaxLifetime != nil {
		in["max_lifetime"] = int64(*p.MaxLifetime / time.Second)
	}
	var v registry.IssuerView
	return v, r.do(ctx, http.MethodPatch, "/issuers/"+url.PathEscape(name), in, &v)
}

func (d direct) createIssuer(ctx context.Context, spec registry.IssuerSpec) (registry.IssuerView, error) {
	i, err := d.a.registry.CreateIssuer(ctx, spec)
	if err != nil {
		return registry.IssuerView{}, err
	}
	return registry.ViewIssuer(i), nil
}

func (d direct) listIssuers(ctx context.Context) ([]registry.IssuerView, error) {
	return d.a.registry.ListIssuers(ctx)
}

func (d direct) deleteIssuer(ctx context.Context, name string) error {
	return d.a.registry.DeleteIssuer(ctx, name)
}

func (r remote) createIssuer(ctx context.Context, spec registry.IssuerSpec) (registry.IssuerView, error) {
	in := map[string]any{"name": spec.Name, "issuer": spec.Issuer, "audience": spec.Audience, "max_lifetime": int64(spec.MaxLifetime / time.Second)}
	if spec.JWKSURI != "" {
		in["jwks_uri"] = spec.JWKSURI
	}
	if len(spec.JWKS) > 0 {
		in["jwks"] = json.RawMessage(spec.JWKS)
	}
	var v registry.IssuerView
	return v, r.do(ctx, http.MethodPost, "/issuers", in, &v)
}

func (r remote) listIssuers(ctx context.Context) ([]registry.IssuerView, error) {
	var out struct {
		Items []registry.IssuerView `json:"items"`
	}
	return out.Items, r.do(ctx, http.MethodGet, "/issuers", nil, &out)
}

func (r remote) deleteIssuer(ctx context.Context, name string) error {
	return r.do(ctx, http.MethodDelete, "/issuers/"+url.PathEscape(name), nil, nil)
}

func issuerCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "issuer", Short: "Manage trusted token issuers for workload identity federation (Kubernetes, CI platforms, clouds)"}
	cmd.AddCommand(issuerAddCmd(e), issuerUpdateCmd(e), issuerListCmd(e), issuerDeleteCmd(e))
	return cmd
}

func issuerAddCmd(e *env) *cobra.Command {
	var (
		spec     registry.IssuerSpec
		jwksFile string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME --issuer URL --audience AUD [--jwks-uri URL | --jwks-file F]",
		Short: "Trust an external issuer's tokens as client assertions of the clients bound to it",
		Long: `Trust an external issuer. Its keys come from --jwks-file (a static JWK Set,
such as a Kubernetes cluster's service-account keys from
'kubectl get --raw /openid/v1/jwks'), from --jwks-uri, or, with neither,
from OIDC discovery at --issuer. Tokens must carry --audience in aud and
expire at most --max-lifetime ahead. Bind clients to it with
'tollgate client create --federated-issuer NAME --federated-subject SUB'.`,
		Example: `  tollgate issuer add github --issuer https://token.actions.githubusercontent.com --audience https://tollgate.example.com
  tollgate issuer add prod-cluster --issuer https://kubernetes.default.svc.cluster.local --jwks-file cluster-jwks.json --audience tollgate`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(*cobra.Command, []string) error {
			if jwksFile != "" && spec.JWKSURI != "" {
				return fmt.Errorf("give --jwks-file or --jwks-uri, not both")
			}
			if jwksFile != "" {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return fmt.Errorf("--jwks-file: %w", err)
				}
				spec.JWKS = b
			}
			return nil
		},
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			spec.Name = args[0]
			v, err := o.createIssuer(ctx, spec)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, v)
			}
			_, err = fmt.Fprintf(e.stdout, "trusted issuer %s: %s (audience %s)\n", v.Name, v.Issuer, v.Audience)
			return err
		}),
	}
	f := cmd.Flags()
	f.StringVar(&spec.Issuer, "issuer", "", "the issuer URL, exactly as its tokens' iss (required)")
	f.StringVar(&spec.Audience, "audience", "", "the aud its tokens must carry for Tollgate (required)")
	f.StringVar(&spec.JWKSURI, "jwks-uri", "", "where its keys are published (default: OIDC discovery at --issuer)")
	f.StringVar(&jwksFile, "jwks-file", "", "file holding its public JWK Set")
	f.DurationVar(&spec.MaxLifetime, "max-lifetime", registry.DefaultIssuerMaxLifetime, "longest a token of it may still be valid (exp - now)")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.MarkFlagRequired("audience")
	return cmd
}

func issuerUpdateCmd(e *env) *cobra.Command {
	var (
		iss, aud, uri, jwksFile string
		maxLife                 time.Duration
		asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:   "update NAME [--jwks-file F | --jwks-uri URL] [--issuer URL] [--audience AUD] [--max-lifetime D]",
		Short: "Change a trusted issuer: only the flags given change (--jwks-uri \"\" with no --jwks-file: OIDC discovery)",
		Long: `Change a trusted issuer; its clients stay bound. When a cluster rotates
its service-account key, give the set with both keys (kubectl get --raw
/openid/v1/jwks lists both while the old one's tokens live), then the new
one alone.`,
		Example: `  tollgate issuer update prod-cluster --jwks-file cluster-jwks.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var p registry.IssuerPatch
			if jwksFile != "" && f.Changed("jwks-uri") {
				return fmt.Errorf("give --jwks-file or --jwks-uri, not both")
			}
			if jwksFile != "" {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return fmt.Errorf("--jwks-file: %w", err)
				}
				p.JWKS = &b
			}
			for flag, dst := range map[string]struct {
				v   *string
				dst **string
			}{"issuer": {&iss, &p.Issuer}, "audience": {&aud, &p.Audience}, "jwks-uri": {&uri, &p.JWKSURI}} {
				if f.Changed(flag) {
					*dst.dst = dst.v
				}
			}
			if f.Changed("max-lifetime") {
				p.MaxLifetime = &maxLife
			}
			if p == (registry.IssuerPatch{}) {
				return fmt.Errorf("nothing to change: give at least one flag (see tollgate issuer update --help)")
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				v, err := o.updateIssuer(ctx, args[0], p)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(e.stdout, v)
				}
				_, err = fmt.Fprintf(e.stdout, "updated issuer %s\n", v.Name)
				return err
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&iss, "issuer", "", "the issuer URL, exactly as its tokens' iss")
	f.StringVar(&aud, "audience", "", "the aud its tokens must carry for Tollgate")
	f.StringVar(&uri, "jwks-uri", "", "where its keys are published (\"\": OIDC discovery)")
	f.StringVar(&jwksFile, "jwks-file", "", "file holding its public JWK Set")
	f.DurationVar(&maxLife, "max-lifetime", 0, "longest a token of it may still be valid (exp - now)")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func issuerListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List trusted issuers",
		Args:  cobra.NoArgs,
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			list, err := o.listIssuers(ctx)
			if err != nil {
				return err
			}
			return printList(e, asJSON, list, []string{"NAME", "ISSUER", "AUDIENCE", "KEYS", "MAX_LIFETIME"}, func(v registry.IssuerView) []string {
				keys := "discovery"
				switch {
				case v.JWKSURI != "":
					keys = v.JWKSURI
				case len(v.JWKS) > 0:
					keys = "static JWK Set"
				}
				return []string{v.Name, v.Issuer, v.Audience, keys, (time.Duration(v.MaxLifetime) * time.Second).String()}
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func issuerDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Stop trusting an issuer; clients bound to it are refused until bound to another",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			if err := o.deleteIssuer(ctx, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "deleted issuer %s\n", args[0])
			return err
		}),
	}
}
