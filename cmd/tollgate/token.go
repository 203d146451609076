package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func tokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Get, decode and introspect access tokens against a server (--server, else the configured issuer)",
	}
	cmd.AddCommand(tokenGetCmd(e), tokenDecodeCmd(e), tokenIntrospectCmd(e))
	return cmd
}

func tokenGetCmd(e *env) *cobra.Command {
	var (
		clientID, scope string
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "get --client-id ID [--scope \"a b\"]",
		Short: "Get an access token by client_credentials; the secret comes from TOLLGATE_CLIENT_SECRET or standard input",
		Example: `  TOLLGATE_CLIENT_SECRET=tgs_… tollgate token get --client-id tgc_… --scope "orders:read"
  printf '%s\n' "$SECRET" | tollgate token get --client-id tgc_… --server https://auth.example.com --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := e.serverBase()
			if err != nil {
				return err
			}
			sec, err := e.clientSecret(true)
			if err != nil {
				return err
			}
			form := url.Values{"grant_type": {"client_credentials"}}
			if scope != "" {
				form.Set("scope", scope)
			}
			raw, err := postOAuth(cmd.Context(), base+"/oauth2/token", clientID, sec, form)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRawJSON(e.stdout, raw)
			}
			var t struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(raw, &t); err != nil || t.AccessToken == "" {
				return errors.New("the token endpoint answered without an access_token")
			}
			_, err = fmt.Fprintln(e.stdout, t.AccessToken)
			return err
		},
	}
	cmd.Flags().StringVar(&clientID, "client-id", "", "the client's client_id (required)")
	cmd.Flags().StringVar(&scope, "scope", "", `space-separated scopes to ask for (default: the client's default scopes)`)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the token endpoint's whole JSON answer")
	_ = cmd.MarkFlagRequired("client-id")
	return cmd
}

func tokenIntrospectCmd(e *env) *cobra.Command {
	var clientID string
	cmd := &cobra.Command{
		Use:   "introspect (TOKEN | -) [--client-id ID]",
		Short: "Ask the server whether a token is active (RFC 7662), as a client with the tollgate:introspect scope",
		Long: `Ask the server's introspection endpoint (RFC 7662) about a token ("-" reads
it from standard input) and print its JSON answer. The caller must be a
client with the tollgate:introspect scope: --client-id with its secret in
TOLLGATE_CLIENT_SECRET (or on standard input when the token is an
argument), else the TOLLGATE_ADMIN_CLIENT_ID and TOLLGATE_ADMIN_CLIENT_SECRET
client.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := e.serverBase()
			if err != nil {
				return err
			}
			tok, err := tokenArg(e, args[0])
			if err != nil {
				return err
			}
			id, sec := e.getenv("TOLLGATE_ADMIN_CLIENT_ID"), e.getenv("TOLLGATE_ADMIN_CLIENT_SECRET")
			if clientID != "" {
				id = clientID
				if sec, err = e.clientSecret(args[0] != "-"); err != nil {
					return err
				}
			} else if id == "" || sec == "" {
				return errors.New("introspection needs a client with the tollgate:introspect scope: give --client-id (secret in TOLLGATE_CLIENT_SECRET) or set TOLLGATE_ADMIN_CLIENT_ID and TOLLGATE_ADMIN_CLIENT_SECRET")
			}
			raw, err := postOAuth(cmd.Context(), base+"/oauth2/introspect", id, sec, url.Values{"token": {tok}})
			if err != nil {
				return err
			}
			return writeRawJSON(e.stdout, raw)
		},
	}
	cmd.Flags().StringVar(&clientID, "client-id", "", "introspect as this client (default: TOLLGATE_ADMIN_CLIENT_ID)")
	return cmd
}

// serverBase is the server the token commands talk to: --server, else the
// configured issuer.
func (e *env) serverBase() (string, error) {
	if e.server != "" {
		u, err := url.Parse(e.server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", errors.New("--server must be the server's base URL, e.g. https://auth.example.com")
		}
		return strings.TrimRight(e.server, "/"), nil
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return "", err
	}
	return strings.TrimRight(cfg.Issuer, "/"), nil
}

// clientSecret reads TOLLGATE_CLIENT_SECRET, else (when stdin may be used)
// one line of standard input. Never a flag: others can read arguments.
func (e *env) clientSecret(stdinOK bool) (string, error) {
	if s := e.getenv("TOLLGATE_CLIENT_SECRET"); s != "" {
		return s, nil
	}
	if !stdinOK {
		return "", errors.New("set TOLLGATE_CLIENT_SECRET to the client's secret (standard input carries the token)")
	}
	s, err := readLine(e.stdin, "client secret")
	if err != nil {
		return "", fmt.Errorf("%w: set TOLLGATE_CLIENT_SECRET or pipe the secret in", err)
	}
	return s, nil
}

// tokenArg is the token argument, or one line of standard input for "-".
func tokenArg(e *env, arg string) (string, error) {
	if arg != "-" {
		return strings.TrimSpace(arg), nil
	}
	s, err := readLine(e.stdin, "token")
	return strings.TrimSpace(s), err
}

// httpClient is the one the token commands use: bounded, never stuck.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// postOAuth posts form to an OAuth endpoint with HTTP Basic client
// authentication and returns the JSON answer; an RFC 6749 §5.2 error
// answer becomes an error with its code and description.
func postOAuth(ctx context.Context, endpoint, clientID, secret string, form url.Values) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", endpoint, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(raw, &oe) == nil && oe.Error != "" {
			return nil, fmt.Errorf("%s refused (HTTP %d): %s: %s", endpoint, res.StatusCode, oe.Error, oe.Description)
		}
		return nil, fmt.Errorf("%s answered HTTP %d", endpoint, res.StatusCode)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%s answered something other than JSON", endpoint)
	}
	return raw, nil
}

// writeRawJSON prints a JSON document indented.
func writeRawJSON(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	return writeJSON(w, v)
}
