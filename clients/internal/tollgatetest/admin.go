package tollgatetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// CLI runs a tollgate command on the server's database, as an operator
// would, and returns its standard output.
func (s *Server) CLI(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(baseEnv(s.DB), s.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("tollgate %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// Client is a registered OAuth client.
type Client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// CreateClient registers a client with a unique name; args are more
// `tollgate client create` flags, such as "--scopes", "a b".
func (s *Server) CreateClient(t testing.TB, args ...string) Client {
	t.Helper()
	out := s.CLI(t, "", append([]string{"client", "create", "--name", "c-" + randHex(6), "--json"}, args...)...)
	var c Client
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == "" || c.Secret == "" {
		t.Fatalf("client create printed %q: %v", out, err)
	}
	return c
}

// User is a registered user.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Password string `json:"-"`
}

// CreateUser registers a user with a random password; args are more
// `tollgate user create` flags.
func (s *Server) CreateUser(t testing.TB, args ...string) User {
	t.Helper()
	pw := "pw-" + randHex(12)
	out := s.CLI(t, pw+"\n", append([]string{"user", "create", "--username", "u-" + randHex(6), "--password-stdin", "--json"}, args...)...)
	var u User
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.ID == "" {
		t.Fatalf("user create printed %q: %v", out, err)
	}
	u.Password = pw
	return u
}

// APIKey is a created API key.
type APIKey struct {
	ID  string `json:"id"`
	Key string `json:"api_key"`
}

// CreateAPIKey runs `tollgate apikey create --json` with a unique name;
// args name the owner (--client ID or --user NAME) and more flags.
func (s *Server) CreateAPIKey(t testing.TB, args ...string) APIKey {
	t.Helper()
	out := s.CLI(t, "", append([]string{"apikey", "create", "--name", "k-" + randHex(6), "--json"}, args...)...)
	var k APIKey
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.ID == "" || k.Key == "" {
		t.Fatalf("apikey create printed %q: %v", out, err)
	}
	return k
}

// Token gets an access token with the client_credentials grant; scope may
// be empty for the client's default.
func (s *Server) Token(t testing.TB, c Client, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return s.tokenRequest(t, c, form)
}

// PasswordToken gets a user's access token with the password grant.
func (s *Server) PasswordToken(t testing.TB, c Client, u User, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {u.Username}, "password": {u.Password}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return s.tokenRequest(t, c, form)
}

func (s *Server) tokenRequest(t testing.TB, c Client, form url.Values) string {
	t.Helper()
	body := s.post(t, c, "/oauth2/token", form, http.StatusOK)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tr.AccessToken
}

// Revoke revokes an access token through the RFC 7009 endpoint, as the
// client it was issued to.
func (s *Server) Revoke(t testing.TB, c Client, token string) {
	t.Helper()
	s.post(t, c, "/oauth2/revoke", url.Values{"token": {token}}, http.StatusOK)
}

func (s *Server) post(t testing.TB, c Client, path string, form url.Values, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", path, resp.StatusCode, body, want)
	}
	return body
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String describes the server for messages.
func (s *Server) String() string { return fmt.Sprintf("tollgate at %s", s.URL) }
