package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// remote runs admin operations through a server's admin API, as an admin
// client: it gets a tollgate:admin token by client_credentials.
type remote struct {
	base string
	hc   *http.Client
}

var _ ops = remote{}

// openRemote connects to the admin API at server with the admin client's
// credentials.
func openRemote(ctx context.Context, server, clientID, clientSecret string) (remote, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return remote{}, errors.New("--server must be the server's base URL, e.g. https://auth.example.com")
	}
	if clientID == "" || clientSecret == "" {
		return remote{}, errors.New("--server needs an admin client's credentials: set TOLLGATE_ADMIN_CLIENT_ID and TOLLGATE_ADMIN_CLIENT_SECRET (a client with the tollgate:admin scope)")
	}
	base := strings.TrimRight(server, "/")
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: base + "/oauth2/token", Scopes: []string{admin.ScopeAdmin}}
	hc := &http.Client{Timeout: 30 * time.Second}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	return remote{base: base + admin.Prefix, hc: oauth2.NewClient(ctx, cc.TokenSource(ctx))}, nil
}

func (r remote) Close() error { return nil }

// do calls the admin API; out receives the JSON answer. A problem+json
// answer becomes an error with its detail and field messages.
func (r remote) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := r.hc.Do(req)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return adminCredentialsError(re)
		}
		return fmt.Errorf("calling the admin API: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var p struct {
			Title  string                `json:"title"`
			Detail string                `json:"detail"`
			Errors []registry.FieldError `json:"errors"`
		}
		if json.Unmarshal(raw, &p) == nil && p.Title != "" {
			if len(p.Errors) > 0 {
				return &registry.ValidationError{Fields: p.Errors, Conflict: res.StatusCode == http.StatusConflict}
			}
			return fmt.Errorf("%s (HTTP %d): %s", p.Title, res.StatusCode, p.Detail)
		}
		return fmt.Errorf("the admin API answered HTTP %d", res.StatusCode)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// adminCredentialsError explains why the server gave no admin token.
func adminCredentialsError(re *oauth2.RetrieveError) error {
	why := re.ErrorCode
	if re.ErrorDescription != "" {
		why += ": " + re.ErrorDescription
	}
	if why == "" && re.Response != nil {
		why = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	}
	fix := "check TOLLGATE_ADMIN_CLIENT_ID and TOLLGATE_ADMIN_CLIENT_SECRET: they must be the client_id and the current secret of a client with the " + admin.ScopeAdmin + " scope"
	if re.ErrorCode == "invalid_scope" {
		fix = "the client in TOLLGATE_ADMIN_CLIENT_ID lacks the " + admin.ScopeAdmin + " scope; use an admin client, or give it the scope (tollgate client update CLIENT_ID --scopes \"" + admin.ScopeAdmin + " …\")"
	}
	return fmt.Errorf("the server refused the admin credentials (%s); %s (on the server's database: tollgate client create --name admin --scopes %s)", why, fix, admin.ScopeAdmin)
}

// all pages through a listing.
func all[T any](ctx context.Context, r remote, path string) ([]T, error) {
	var out []T
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for {
		var p struct {
			Items      []T    `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := r.do(ctx, http.MethodGet, path+sep+"limit=500&cursor="+url.QueryEscape(cursor), nil, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
}

func (r remote) createClient(ctx context.Context, spec registry.ClientSpec) (registry.ClientView, string, error) {
	in := map[string]any{
		"client_name": spec.Name, "grant_types": spec.GrantTypes, "scope": strings.Join(spec.Scopes, " "),
		"default_scope": strings.Join(spec.DefaultScopes, " "), "audience": spec.Audience, "roles": spec.Roles,
		"access_token_ttl": int64(spec.AccessTokenTTL / time.Second), "refresh_token_ttl": int64(spec.RefreshTokenTTL / time.Second),
		"rate_limit": spec.RateLimit, "dpop_bound_access_tokens": spec.DPoPBound,
	}
	keyFields(in, spec)
	claimFields(in, spec.Claims, spec.PrivateClaims)
	var out struct {
		ClientSecret string `json:"client_secret"`
		registry.ClientView
	}
	err := r.do(ctx, http.MethodPost, "/clients", in, &out)
	return out.ClientView, out.ClientSecret, err
}

func (r remote) listClients(ctx context.Context) ([]registry.ClientView, error) {
	return all[registry.ClientView](ctx, r, "/clients")
}

func (r remote) getClient(ctx context.Context, id string) (registry.ClientView, error) {
	var v registry.ClientView
	return v, r.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(id), nil, &v)
}

func (r remote) deleteClient(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodDelete, "/clients/"+url.PathEscape(id), nil, nil)
}

func (r remote) createUser(ctx context.Context, spec registry.UserSpec) (registry.UserView, error) {
	var v registry.UserView
	in := map[string]any{"username": spec.Username, "password": spec.Password, "roles": spec.Roles}
	claimFields(in, spec.Claims, spec.PrivateClaims)
	return v, r.do(ctx, http.MethodPost, "/users", in, &v)
}

func (r remote) listUsers(ctx context.Context) ([]registry.UserView, error) {
	return all[registry.UserView](ctx, r, "/users")
}

func (r remote) findUser(ctx context.Context, idOrName string) (registry.UserView, error) {
	var v registry.UserView
	if err := r.do(ctx, http.MethodGet, "/users/"+url.PathEscape(idOrName), nil, &v); err == nil {
		return v, nil
	}
	users, err := r.listUsers(ctx)
	if err != nil {
		return v, err
	}
	for _, u := range users {
		if u.Username == idOrName {
			return u, nil
		}
	}
	return v, fmt.Errorf("no user %q; list them with: tollgate user list", idOrName)
}

func (r remote) deleteUser(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodDelete, "/users/"+url.PathEscape(id), nil, nil)
}

func (r remote) createAPIKey(ctx context.Context, spec registry.APIKeySpec) (registry.APIKeyView, string, error) {
	in := map[string]any{"owner_type": spec.OwnerKind, "owner_id": spec.OwnerID, "name": spec.Name,
		"scope": strings.Join(spec.Scopes, " "), "expires_in": int64(spec.ExpiresIn / time.Second)}
	if spec.ClientID != "" {
		in["client_id"] = spec.ClientID
	}
	if len(spec.Roles) > 0 {
		in["roles"] = spec.Roles
	}
	if len(spec.Claims) > 0 {
		in["claims"] = spec.Claims
	}
	var out struct {
		APIKey string `json:"api_key"`
		registry.APIKeyView
	}
	err := r.do(ctx, http.MethodPost, "/api-keys", in, &out)
	return out.APIKeyView, out.APIKey, err
}

func (r remote) listAPIKeys(ctx context.Context, kind store.OwnerKind, ownerID, clientID string) ([]registry.APIKeyView, error) {
	q := url.Values{}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	if kind != "" {
		q.Set("owner_type", string(kind))
	}
	if ownerID != "" {
		q.Set("owner_id", ownerID)
	}
	return all[registry.APIKeyView](ctx, r, "/api-keys?"+q.Encode())
}

func (r remote) revokeAPIKey(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodDelete, "/api-keys/"+url.PathEscape(id), nil, nil)
}

func (r remote) revokeClientTokens(ctx context.Context, id string) (time.Time, error) {
	var out struct {
		RevokedAt time.Time `json:"revoked_at"`
	}
	return out.RevokedAt, r.do(ctx, http.MethodPost, "/clients/"+url.PathEscape(id)+"/revoke-tokens", nil, &out)
}

func (r remote) revokeUserTokens(ctx context.Context, id string) (time.Time, error) {
	var out struct {
		RevokedAt time.Time `json:"revoked_at"`
	}
	return out.RevokedAt, r.do(ctx, http.MethodPost, "/users/"+url.PathEscape(id)+"/revoke-tokens", nil, &out)
}

func (r remote) signingKeys(ctx context.Context) ([]keyView, error) {
	var out struct {
		Items []keyView `json:"items"`
	}
	return out.Items, r.do(ctx, http.MethodGet, "/signing-keys", nil, &out)
}

func (r remote) rotateSigningKey(ctx context.Context) (keyView, error) {
	var v keyView
	return v, r.do(ctx, http.MethodPost, "/signing-keys/rotate", nil, &v)
}
