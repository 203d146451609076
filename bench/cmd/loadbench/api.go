package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// OAuth parameters the scenarios send.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAPIKey    = "urn:tollgate:params:oauth:token-type:api_key"
	benchScope         = "bench:read"
)

// basicAuth is an Authorization header value for c (RFC 6749 §2.3.1: the
// ID and secret are form-encoded first).
func basicAuth(c credentials) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(c.Secret)))
}

// api makes the setup requests (minting, revoking) outside the measured
// load.
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string) api {
	return api{base: base, hc: &http.Client{Timeout: 30 * time.Second}}
}

// post sends a form to path, authenticated as c unless c is empty.
func (a api) post(ctx context.Context, path string, c credentials, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.ID != "" {
		req.Header.Set("Authorization", basicAuth(c))
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// tokenResponse is the part of a token response the benchmark reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// token posts form to the token endpoint and wants a token back.
func (a api) token(ctx context.Context, c credentials, form url.Values) (tokenResponse, error) {
	code, body, err := a.post(ctx, "/oauth2/token", c, form)
	if err != nil {
		return tokenResponse{}, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return tr, fmt.Errorf("token endpoint: %d, not JSON", code)
	}
	if code != http.StatusOK || tr.AccessToken == "" {
		return tr, fmt.Errorf("token endpoint (%s): %d %s", form.Get("grant_type"), code, tr.Error)
	}
	return tr, nil
}

// clientCredentials mints an access token for c.
func (a api) clientCredentials(ctx context.Context, c credentials) (string, error) {
	tr, err := a.token(ctx, c, url.Values{"grant_type": {"client_credentials"}})
	return tr.AccessToken, err
}

// login runs the password grant and returns the refresh token.
func (a api) login(ctx context.Context, c credentials, username, password string) (string, error) {
	tr, err := a.token(ctx, c, url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}})
	if err == nil && tr.RefreshToken == "" {
		err = fmt.Errorf("password grant returned no refresh token")
	}
	return tr.RefreshToken, err
}

// revoke revokes token as its client c (RFC 7009).
func (a api) revoke(ctx context.Context, c credentials, token string) error {
	code, _, err := a.post(ctx, "/oauth2/revoke", c, url.Values{"token": {token}})
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("revoke: %d", code)
	}
	return err
}

// introspect returns the "active" member of token's introspection by rs.
func (a api) introspect(ctx context.Context, rs credentials, token string) (bool, error) {
	code, body, err := a.post(ctx, "/oauth2/introspect", rs, url.Values{"token": {token}})
	if err != nil {
		return false, err
	}
	var v struct {
		Active bool `json:"active"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		return false, fmt.Errorf("introspect: %d", code)
	}
	return v.Active, nil
}

// exchangeForm is the RFC 8693 request that trades an API key for a token.
func exchangeForm(key string) url.Values {
	return url.Values{"grant_type": {grantTokenExchange}, "subject_token": {key}, "subject_token_type": {tokenTypeAPIKey}}
}

// probeExchange tries one API-key exchange. It returns a non-empty reason
// when the server does not offer the exchange (yet), and an error when the
// request could not be made.
func (a api) probeExchange(ctx context.Context, key string) (string, error) {
	code, body, err := a.post(ctx, "/oauth2/token", credentials{}, exchangeForm(key))
	if err != nil {
		return "", err
	}
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	switch {
	case code == http.StatusOK && tr.AccessToken != "":
		return "", nil
	case tr.Error == "unsupported_grant_type":
		return "the server answers unsupported_grant_type to the token-exchange grant", nil
	default:
		return fmt.Sprintf("a probe exchange answered %d %s", code, tr.Error), nil
	}
}
