package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// audienceOps manage the audiences that receive encrypted access tokens.
type audienceOps interface {
	createAudience(ctx context.Context, spec registry.AudienceSpec) (registry.AudienceView, error)
	listAudiences(ctx context.Context) ([]registry.AudienceView, error)
	updateAudience(ctx context.Context, name string, p registry.AudiencePatch) (registry.AudienceView, error)
	rotateAudienceKey(ctx context.Context, name string) (registry.AudienceView, error)
	deleteAudience(ctx context.Context, name string) error
}

func (d direct) createAudience(ctx context.Context, spec registry.AudienceSpec) (registry.AudienceView, error) {
	return d.a.registry.CreateAudience(ctx, spec)
}

func (d direct) listAudiences(ctx context.Context) ([]registry.AudienceView, error) {
	return d.a.registry.ListAudiences(ctx)
}

func (d direct) updateAudience(ctx context.Context, name string, p registry.AudiencePatch) (registry.AudienceView, error) {
	v, err := d.a.registry.UpdateAudience(ctx, name, p)
	return v, notFound(err, "audience", name, "tollgate audience list")
}

func (d direct) rotateAudienceKey(ctx context.Context, name string) (registry.AudienceView, error) {
	v, err := d.a.registry.RotateAudienceKey(ctx, name)
	return v, notFound(err, "audience", name, "tollgate audience list")
}

func (d direct) deleteAudience(ctx context.Context, name string) error {
	return notFound(d.a.registry.DeleteAudience(ctx, name), "audience", name, "tollgate audience list")
}

// audiencePath is an audience's admin API path: its name is one segment,
// slashes and all (the server routes on the escaped path).
func audiencePath(name string) string { return "/audiences/" + url.PathEscape(name) }

func (r remote) createAudience(ctx context.Context, spec registry.AudienceSpec) (registry.AudienceView, error) {
	in := map[string]any{"name": spec.Name, "encrypted": spec.Encrypted}
	if spec.KeyAlgorithm != "" {
		in["key_algorithm"] = spec.KeyAlgorithm
	}
	var v registry.AudienceView
	return v, r.do(ctx, http.MethodPost, "/audiences", in, &v)
}

func (r remote) listAudiences(ctx context.Context) ([]registry.AudienceView, error) {
	var out struct {
		Items []registry.AudienceView `json:"items"`
	}
	return out.Items, r.do(ctx, http.MethodGet, "/audiences", nil, &out)
}

func (r remote) updateAudience(ctx context.Context, name string, p registry.AudiencePatch) (registry.AudienceView, error) {
	in := map[string]any{}
	if p.Encrypted != nil {
		in["encrypted"] = *p.Encrypted
	}
	if p.KeyAlgorithm != nil {
		in["key_algorithm"] = *p.KeyAlgorithm
	}
	var v registry.AudienceView
	return v, r.do(ctx, http.MethodPatch, audiencePath(name), in, &v)
}

func (r remote) rotateAudienceKey(ctx context.Context, name string) (registry.AudienceView, error) {
	var v registry.AudienceView
	return v, r.do(ctx, http.MethodPost, audiencePath(name)+"/rotate-key", nil, &v)
}

func (r remote) deleteAudience(ctx context.Context, name string) error {
	return r.do(ctx, http.MethodDelete, audiencePath(name), nil, nil)
}

func audienceCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audience",
		Short: "Manage the audiences (APIs) that receive encrypted access tokens (nested JWTs)",
		Long: `An audience is an API, named by the aud value of its tokens. Marked
encrypted, it receives every token whose audience it is as a nested JWT
(RFC 7519 §5.2): a JWE encrypted to its current key, holding the signed
token and the subject's private claims. Its API fetches the private keys at
/oauth2/audience-keys (a client with the tollgate:decrypt scope and the
audience among its own). See docs/ENCRYPTION.md.`,
	}
	cmd.AddCommand(audienceCreateCmd(e), audienceListCmd(e), audienceUpdateCmd(e), audienceRotateKeyCmd(e), audienceDeleteCmd(e))
	return cmd
}

func audienceCreateCmd(e *env) *cobra.Command {
	var (
		spec   registry.AudienceSpec
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME [--encrypt] [--alg RSA-OAEP-256]",
		Short: "Register an audience; with --encrypt its tokens are encrypted from now on",
		Example: `  tollgate audience create https://payments.example.com --encrypt
  tollgate audience create urn:partner-api --encrypt --alg RSA-OAEP-256 --json`,
		Args: cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			spec.Name = args[0]
			v, err := o.createAudience(ctx, spec)
			if err != nil {
				return err
			}
			return printAudience(e, asJSON, v)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&spec.Encrypted, "encrypt", false, "issue the audience's tokens as nested JWTs, encrypted to a key pair made now")
	f.StringVar(&spec.KeyAlgorithm, "alg", "", "JWE key management: "+strings.Join(store.KeyAlgorithms, " or ")+" (default "+store.KeyECDHES+")")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func audienceListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audiences and the state of their keys",
		Args:  cobra.NoArgs,
		RunE: e.withOps(func(ctx context.Context, o ops, _ []string) error {
			views, err := o.listAudiences(ctx)
			if err != nil {
				return err
			}
			return printList(e, asJSON, views, []string{"NAME", "ENCRYPTED", "ALG", "KEYS", "CREATED"}, func(v registry.AudienceView) []string {
				return []string{v.Name, fmt.Sprint(v.Encrypted), v.KeyAlgorithm, keysSummary(v.Keys), v.CreatedAt.Format(time.RFC3339)}
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func audienceUpdateCmd(e *env) *cobra.Command {
	var (
		encrypt bool
		alg     string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "update NAME [--encrypt[=false]] [--alg ALG]",
		Short: "Turn an audience's encryption on or off, or change its key algorithm (rotating to a key of it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p registry.AudiencePatch
			if cmd.Flags().Changed("encrypt") {
				p.Encrypted = &encrypt
			}
			if cmd.Flags().Changed("alg") {
				p.KeyAlgorithm = &alg
			}
			if p == (registry.AudiencePatch{}) {
				return fmt.Errorf("nothing to change: give --encrypt, --encrypt=false or --alg")
			}
			return e.withOps(func(ctx context.Context, o ops, args []string) error {
				v, err := o.updateAudience(ctx, args[0], p)
				if err != nil {
					return err
				}
				return printAudience(e, asJSON, v)
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&encrypt, "encrypt", false, "encrypt the audience's tokens (--encrypt=false: plain JWS from now on; tokens already issued still decrypt until they expire)")
	f.StringVar(&alg, "alg", "", "JWE key management: "+strings.Join(store.KeyAlgorithms, " or "))
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func audienceRotateKeyCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rotate-key NAME",
		Short: "Make an audience's next key pair: fetchable now, encrypted to after the pre-publication delay",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			v, err := o.rotateAudienceKey(ctx, args[0])
			if err != nil {
				return err
			}
			return printAudience(e, asJSON, v)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func audienceDeleteCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an audience and its keys: tokens already encrypted to it no longer decrypt",
		Args:  cobra.ExactArgs(1),
		RunE: e.withOps(func(ctx context.Context, o ops, args []string) error {
			if err := o.deleteAudience(ctx, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "deleted audience %s\n", args[0])
			return err
		}),
	}
	return cmd
}

// printAudience prints one audience and its keys.
func printAudience(e *env, asJSON bool, v registry.AudienceView) error {
	if asJSON {
		return writeJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "audience:  %s\nencrypted: %t\nalg:       %s\n", v.Name, v.Encrypted, v.KeyAlgorithm)
	if len(v.Keys) == 0 {
		return nil
	}
	rows := make([][]string, len(v.Keys))
	for i, k := range v.Keys {
		retired := "-"
		if k.RetiredAt != nil {
			retired = k.RetiredAt.Format(time.RFC3339)
		}
		rows[i] = []string{k.KID, k.Algorithm, k.State, k.ActiveAt.Format(time.RFC3339), retired}
	}
	return writeTable(e.stdout, []string{"KID", "ALG", "STATE", "ACTIVE_AT", "RETIRED_AT"}, rows)
}

// keysSummary counts an audience's keys by state, e.g. "1 active, 1 pending".
func keysSummary(keys []registry.AudienceKeyView) string {
	if len(keys) == 0 {
		return "-"
	}
	var parts []string
	for _, state := range []string{"active", "pending", "retiring"} {
		n := 0
		for _, k := range keys {
			if k.State == state {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, state))
		}
	}
	return strings.Join(parts, ", ")
}
