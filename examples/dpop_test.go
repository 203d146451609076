package examples

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/verify"
)

// nodeProver makes DPoP proofs with node-express/dpop.js (jose): an
// implementation other than Tollgate's own.
type nodeProver struct {
	t       *testing.T
	node    string
	keyFile string
}

func newNodeProver(t *testing.T) *nodeProver {
	t.Helper()
	argv := nodeArgv(t) // skips, or fails in CI, without node and jose
	return &nodeProver{t: t, node: argv[0], keyFile: filepath.Join(t.TempDir(), "key.jwk")}
}

// proof returns a proof for method and url (and an access token, at a
// resource server) and the key's thumbprint.
func (p *nodeProver) proof(method, rawURL, accessToken string) (proof, jkt string) {
	p.t.Helper()
	args := []string{filepath.Join(here(), "node-express", "dpop.js"), p.keyFile, method, rawURL}
	if accessToken != "" {
		args = append(args, accessToken)
	}
	out, err := exec.Command(p.node, args...).Output()
	if err != nil {
		p.t.Fatalf("node dpop.js: %v", err)
	}
	var r struct{ Proof, JKT string }
	if err := json.Unmarshal(out, &r); err != nil || r.Proof == "" || r.JKT == "" {
		p.t.Fatalf("node dpop.js printed %q: %v", out, err)
	}
	return r.Proof, r.JKT
}

// tokenAnswer posts a client_credentials request with the given DPoP
// headers and returns the status and the decoded answer.
func (tg *tollgate) tokenAnswer(t *testing.T, c client, proofs ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tg.URL+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, c.Secret)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestDPoPTokenEndpoint: a proof made by jose binds the token to its key
// (cnf.jkt, token_type DPoP, RFC 9449 §5), introspection says so (§6.2),
// and bad proofs are invalid_dpop_proof, never a token.
func TestDPoPTokenEndpoint(t *testing.T) {
	p := newNodeProver(t)
	tg := startTollgate(t)
	c := tg.createClient(t, "--scopes", "orders:read")
	rs := tg.createClient(t, "--scopes", "tollgate:introspect")

	proof, jkt := p.proof("POST", tg.URL+"/oauth2/token", "")
	status, body := tg.tokenAnswer(t, c, proof)
	if status != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("token with a proof: %d %v", status, body)
	}
	tok, _ := body["access_token"].(string)
	var claims struct {
		Cnf struct{ JKT string } `json:"cnf"`
	}
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Cnf.JKT != jkt {
		t.Fatalf("cnf.jkt %q, jose's thumbprint %q (%v)", claims.Cnf.JKT, jkt, err)
	}

	req, _ := http.NewRequest(http.MethodPost, tg.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rs.ID, rs.Secret)
	var intro struct {
		Active    bool                 `json:"active"`
		TokenType string               `json:"token_type"`
		Cnf       struct{ JKT string } `json:"cnf"`
	}
	if err := json.Unmarshal(do(t, req, http.StatusOK), &intro); err != nil || !intro.Active || intro.TokenType != "DPoP" || intro.Cnf.JKT != jkt {
		t.Fatalf("introspection: %+v %v", intro, err)
	}

	// Without a proof: a plain bearer token, as before.
	if status, body := tg.tokenAnswer(t, c); status != http.StatusOK || body["token_type"] != "Bearer" {
		t.Fatalf("token without a proof: %d %v", status, body)
	}

	other, _ := p.proof("POST", tg.URL+"/oauth2/other", "")
	getProof, _ := p.proof("GET", tg.URL+"/oauth2/token", "")
	fresh, _ := p.proof("POST", tg.URL+"/oauth2/token", "")
	for name, proofs := range map[string][]string{
		"replayed":       {proof},
		"wrong htu":      {other},
		"wrong htm":      {getProof},
		"two headers":    {fresh, fresh},
		"not a JWT":      {"garbage"},
		"tampered claim": {tamperPayload(t, fresh)},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := tg.tokenAnswer(t, c, proofs...)
			if status != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" || body["access_token"] != nil {
				t.Fatalf("%d %v, want 400 invalid_dpop_proof", status, body)
			}
		})
	}
}

// tamperPayload changes one character of a JWS's payload.
func tamperPayload(t *testing.T, jws string) string {
	parts := strings.Split(jws, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = []byte(strings.Replace(string(payload), `"POST"`, `"post"`, 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
}

// TestDPoPResourceServer: an API protected by clients/bearer accepts a
// DPoP-bound token with a proof made by jose for that request (ath,
// htm, htu), and refuses the token without one.
func TestDPoPResourceServer(t *testing.T) {
	p := newNodeProver(t)
	tg := startTollgate(t)
	rs := tg.createClient(t, "--scopes", "tollgate:introspect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.Open(ctx, verify.Options{Issuer: tg.URL, Audience: tg.URL, ClientID: rs.ID, ClientSecret: rs.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	api := httptest.NewServer(bearer.Authenticate(v)(bearer.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, _ := verify.FromContext(r.Context())
		_, _ = io.WriteString(w, pr.KeyThumbprint)
	}))))
	t.Cleanup(api.Close)

	c := tg.createClient(t)
	proof, jkt := p.proof("POST", tg.URL+"/oauth2/token", "")
	status, body := tg.tokenAnswer(t, c, proof)
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("token: %d %v", status, body)
	}
	call := func(scheme, proof string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, api.URL+"/notes?limit=5", nil)
		req.Header.Set("Authorization", scheme+" "+tok)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	rsProof, _ := p.proof("GET", api.URL+"/notes?limit=5", tok)
	if status, got := call("DPoP", rsProof); status != http.StatusOK || got != jkt {
		t.Fatalf("DPoP with jose's proof: %d %q, want 200 %q", status, got, jkt)
	}
	if status, _ := call("DPoP", rsProof); status != http.StatusUnauthorized {
		t.Fatalf("replayed proof: %d", status)
	}
	if status, _ := call("Bearer", ""); status != http.StatusUnauthorized {
		t.Fatalf("bound token as a bearer token: %d", status)
	}
	noAth, _ := p.proof("GET", api.URL+"/notes", "")
	if status, _ := call("DPoP", noAth); status != http.StatusUnauthorized {
		t.Fatalf("proof without ath: %d", status)
	}
}
