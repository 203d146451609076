package examples

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// audience is the app's audience, as in docs/INTEGRATE.md.
const audience = "https://notes.example"

// check is one request to a recipe and what it must answer.
type check struct {
	name         string
	method, path string
	auth, body   string // the Authorization header ("" for none), a JSON body
	status       int
	challenge    string // WWW-Authenticate: exactly this, or this prefix if it ends in ","
	field, value string // a JSON field of a 2xx answer
}

// TestRecipes runs each recipe against a real `tollgate serve` with tokens
// bought as docs/INTEGRATE.md does: API keys of the app's own subjects,
// exchanged for access tokens whose sub is the app's user id.
func TestRecipes(t *testing.T) {
	tg := startTollgate(t)
	app := tg.createClient(t, "--scopes", "tollgate:apikeys notes:read notes:write", "--audience", audience)
	other := tg.createClient(t, "--scopes", "notes:read notes:write", "--audience", "https://other.example")
	rw := tg.subjectToken(t, app, "42", "notes:read notes:write")
	ro := tg.subjectToken(t, app, "7", "notes:read")
	cc := tg.token(t, app, "notes:read")
	otherAud := tg.token(t, other, "notes:read notes:write")
	invalid := `Bearer error="invalid_token",`

	checks := []check{
		{name: "right scope: 200 with the subject as user id", method: "GET", path: "/api/me", auth: "Bearer " + rw,
			status: 200, field: "user_id", value: "42"},
		{name: "POST with a bearer token needs no CSRF token", method: "POST", path: "/api/notes", auth: "Bearer " + rw,
			body: `{"text":"buy milk"}`, status: 201, field: "owner", value: "42"},
		{name: "another subject of the same app", method: "GET", path: "/api/me", auth: "Bearer " + ro,
			status: 200, field: "user_id", value: "7"},
		{name: "client_credentials token: sub is the client", method: "GET", path: "/api/me", auth: "Bearer " + cc,
			status: 200, field: "user_id", value: app.ID},
		{name: "bearer scheme is case-insensitive", method: "GET", path: "/api/me", auth: "bearer " + rw,
			status: 200, field: "user_id", value: "42"},
		{name: "no token: 401 Bearer without an error code", method: "GET", path: "/api/me",
			status: 401, challenge: "Bearer"},
		{name: "another scheme counts as no token", method: "GET", path: "/api/me", auth: "Basic dTpw",
			status: 401, challenge: "Bearer"},
		{name: "wrong audience", method: "GET", path: "/api/me", auth: "Bearer " + otherAud,
			status: 401, challenge: invalid},
		{name: "tampered signature", method: "GET", path: "/api/me", auth: "Bearer " + tamperSignature(t, rw),
			status: 401, challenge: invalid},
		{name: "claims changed under a valid signature", method: "GET", path: "/api/me", auth: "Bearer " + forgeSubject(t, rw, "1"),
			status: 401, challenge: invalid},
		{name: "not a JWT", method: "GET", path: "/api/me", auth: "Bearer not-a-jwt",
			status: 401, challenge: invalid},
		{name: "missing scope: 403 insufficient_scope", method: "POST", path: "/api/notes", auth: "Bearer " + ro,
			body: `{"text":"x"}`, status: 403, challenge: `Bearer error="insufficient_scope", scope="notes:write"`},
		{name: "missing scope is checked before the body", method: "POST", path: "/api/notes", auth: "Bearer " + cc,
			body: `{not json`, status: 403, challenge: `Bearer error="insufficient_scope", scope="notes:write"`},
	}
	for _, r := range recipes {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			base := startRecipe(t, r, "NOTES_ISSUER="+tg.URL, "NOTES_AUDIENCE="+audience)
			runChecks(t, base, checks)
		})
	}
}

func runChecks(t *testing.T, base string, checks []check) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := httpc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			got := resp.Header.Get("WWW-Authenticate")
			switch {
			case c.status < 400 && got != "":
				t.Errorf("WWW-Authenticate %q on a %d", got, c.status)
			case strings.HasSuffix(c.challenge, ","):
				if !strings.HasPrefix(got, c.challenge) {
					t.Errorf("WWW-Authenticate %q, want prefix %q", got, c.challenge)
				}
			case got != c.challenge:
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
			var answer map[string]any
			if err := json.Unmarshal(body, &answer); err != nil {
				t.Fatalf("answer is not JSON: %q", body)
			}
			if c.field != "" && answer[c.field] != c.value {
				t.Errorf("%s = %v, want %q in %s", c.field, answer[c.field], c.value, body)
			}
			if wantErr := strings.Contains(c.challenge, "error="); wantErr {
				code := strings.SplitN(strings.SplitN(c.challenge, `error="`, 2)[1], `"`, 2)[0]
				if answer["error"] != code {
					t.Errorf("error = %v, want %q", answer["error"], code)
				}
			}
		})
	}
}

// tamperSignature changes one character in the middle of the signature
// (the last one may carry only padding bits).
func tamperSignature(t *testing.T, jwt string) string {
	t.Helper()
	i := strings.LastIndexByte(jwt, '.') + 10
	if i <= 10 || i >= len(jwt) {
		t.Fatalf("not a JWS: %q", jwt)
	}
	c := byte('A')
	if jwt[i] == 'A' {
		c = 'B'
	}
	return jwt[:i] + string(c) + jwt[i+1:]
}

// forgeSubject rewrites the payload's sub and keeps the old signature.
func forgeSubject(t *testing.T, jwt, sub string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = sub
	raw, _ = json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
}
