package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// secretAudience receives encrypted tokens in TestNestedTokensWithJose.
const secretAudience = "https://secret.example"

// openNested runs node-express/nested.js (jose) on tok as the API api.
func openNested(t *testing.T, tg *tollgate, api client, tok string) (map[string]map[string]any, error) {
	t.Helper()
	argv := nodeArgv(t) // skips, or fails in CI, without node and jose
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], filepath.Join(here(), "node-express", "nested.js"), tg.URL, secretAudience)
	cmd.Env = append(cmd.Environ(), "NOTES_CLIENT_ID="+api.ID, "NOTES_CLIENT_SECRET="+api.Secret)
	cmd.Stdin = strings.NewReader(tok)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, &exec.ExitError{Stderr: errOut.Bytes()}
	}
	var r map[string]map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("nested.js printed %q", out.String())
	}
	return r, nil
}

// TestNestedTokensWithJose: an independent JOSE implementation (Node
// jose) opens an encrypted token with nothing but the key set the API
// fetched from /oauth2/audience-keys and the public JWKS: the inner token
// verifies and carries the private claims. A tampered or plain token is
// refused.
func TestNestedTokensWithJose(t *testing.T) {
	tg := startTollgate(t)
	admin := tg.createClient(t, "--scopes", "tollgate:admin")
	// Through the admin API, so that the running server's ring knows the
	// audience at once.
	body, _ := json.Marshal(map[string]any{"name": secretAudience, "encrypted": true})
	req, _ := http.NewRequest(http.MethodPost, tg.URL+"/admin/v1/audiences", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tg.token(t, admin, "tollgate:admin"))
	req.Header.Set("Content-Type", "application/json")
	do(t, req, http.StatusCreated)
	api := tg.createClient(t, "--scopes", "tollgate:decrypt", "--audience", secretAudience)
	app := tg.createClient(t, "--audience", secretAudience+","+audience, "--claim", "tenant=acme", "--private-claim", "risk_score=7")
	cc := func(aud string) string {
		return tg.accessToken(t, &app, url.Values{"grant_type": {"client_credentials"}, "audience": {aud}})
	}
	tok := cc(secretAudience)
	if n := strings.Count(tok, "."); n != 4 {
		t.Fatalf("the token has %d dots, want a 5-part JWE", n)
	}

	r, err := openNested(t, tg, api, tok)
	if err != nil {
		t.Fatalf("jose refused the token: %s", err.(*exec.ExitError).Stderr)
	}
	h, p := r["header"], r["payload"]
	if h["alg"] != "ECDH-ES+A256KW" || h["enc"] != "A256GCM" || h["cty"] != "JWT" || h["kid"] == nil {
		t.Errorf("header %v", h)
	}
	if p["sub"] != app.ID || p["aud"] != secretAudience || p["tenant"] != "acme" || p["risk_score"] != 7.0 || p["iss"] != tg.URL {
		t.Errorf("payload %v", p)
	}

	i := strings.LastIndexByte(tok, '.') + 3 // inside the tag
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	for name, bad := range map[string]string{
		"tampered tag": tok[:i] + string(c) + tok[i+1:],
		"plain JWS":    cc(audience),
	} {
		if _, err := openNested(t, tg, api, bad); err == nil {
			t.Errorf("%s: jose accepted it", name)
		} else if s := string(err.(*exec.ExitError).Stderr); !strings.HasPrefix(s, "refused: ") {
			t.Errorf("%s: %s", name, s)
		}
	}
}
