package ceiling

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, base, id, secret string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestTokenVerifies issues a token over real HTTP and checks its RFC 9068
// header and claims and its Ed25519 signature.
func TestTokenVerifies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := New(nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	resp, body := post(t, srv.URL, ClientID, ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, headers %v, body %s", resp.StatusCode, resp.Header, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != Scope {
		t.Fatalf("response %+v", tr)
	}
	parts := strings.Split(tr.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", tr.AccessToken)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.PublicKey(), []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("signature does not verify")
	}
	var hdr map[string]string
	decode(t, parts[0], &hdr)
	if hdr["alg"] != "EdDSA" || hdr["typ"] != "at+jwt" {
		t.Fatalf("header %v", hdr)
	}
	var c claims
	decode(t, parts[1], &c)
	want := claims{Iss: Issuer, Exp: now.Add(TTL).Unix(), Aud: Audience, Sub: ClientID, ClientID: ClientID, Iat: now.Unix(), Jti: c.Jti, Scope: Scope}
	if c != want || len(c.Jti) < 20 {
		t.Fatalf("claims %+v, want %+v", c, want)
	}
	_, body2 := post(t, srv.URL, ClientID, ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if strings.Contains(string(body2), c.Jti) {
		t.Fatal("two tokens share a jti")
	}
}

// TestRefusals checks the errors, in RFC 6749 §5.2 form.
func TestRefusals(t *testing.T) {
	s, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	cc := url.Values{"grant_type": {"client_credentials"}}
	for _, tc := range []struct {
		name, id, secret string
		form             url.Values
		status           int
		body             string
	}{
		{"wrong secret", ClientID, "nope", cc, http.StatusUnauthorized, `{"error":"invalid_client"}`},
		{"wrong client", "other", ClientSecret, cc, http.StatusUnauthorized, `{"error":"invalid_client"}`},
		{"no credentials", "", "", cc, http.StatusUnauthorized, `{"error":"invalid_client"}`},
		{"other grant", ClientID, ClientSecret, url.Values{"grant_type": {"password"}}, http.StatusBadRequest, `{"error":"unsupported_grant_type"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, srv.URL, tc.id, tc.secret, tc.form)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/oauth2/token")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET answered %d", resp.StatusCode)
		}
	})
}

func decode(t *testing.T, part string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
