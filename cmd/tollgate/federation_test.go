package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeIssuer is an OIDC issuer on httptest, with its own keys: discovery
// at /.well-known/openid-configuration and the key set at /keys.
type fakeIssuer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []testKey
}

func newFakeIssuer(t *testing.T, keys ...testKey) *fakeIssuer {
	f := &fakeIssuer{keys: keys}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": f.URL, "jwks_uri": f.URL + "/keys"})
		case "/keys":
			f.mu.Lock()
			defer f.mu.Unlock()
			w.Write(jwks(t, f.keys...))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// rotate publishes k beside the issuer's keys.
func (f *fakeIssuer) rotate(k testKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, k)
}

// federatedForm is a client_credentials request of client id whose
// client_assertion is an external token.
func federatedForm(id, tok string) url.Values {
	f := assertionForm(tok)
	f.Set("client_id", id)
	return f
}

// createBoundClient creates a client bound to a trusted issuer.
func (e *testEnv) createBoundClient(name string, args ...string) string {
	e.t.Helper()
	out := e.mustCLI("", append([]string{"client", "create", "--json", "--name", name}, args...)...)
	var c struct {
		ClientID string `json:"client_id"`
		Secret   string `json:"client_secret"`
		Issuer   string `json:"federated_issuer"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || c.Secret != "" || c.Issuer == "" {
		e.t.Fatalf("client create printed %q (%v)", out, err)
	}
	return c.ClientID
}

// TestFederationOIDC: a CI-style workload sends the token its platform
// (a fake OIDC issuer found by discovery) gave it, and gets a Tollgate
// token for the bound client, again and again until the token expires;
// the issuer rotating its key is followed; tokens of another issuer, for
// another audience, of an unbound subject or repository, expired or too
// long-lived are invalid_client.
func TestFederationOIDC(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.start()
			k1 := newEd25519Key(t, "gh-1")
			ci := newFakeIssuer(t, k1)
			const aud = "https://tollgate.test"
			e.mustCLI("", "issuer", "add", "ci", "--issuer", ci.URL, "--audience", aud, "--max-lifetime", "1h")
			if out := e.mustCLI("", "issuer", "list"); !strings.Contains(out, ci.URL) || !strings.Contains(out, "discovery") {
				t.Errorf("issuer list: %s", out)
			}
			id := e.createBoundClient("deployer", "--federated-issuer", "ci", "--federated-subject", "repo:org/app:ref:refs/heads/*", "--federated-claim", "repository=org/app")
			now := time.Now()
			claims := func(change func(map[string]any)) map[string]any {
				c := map[string]any{
					"iss": ci.URL, "aud": aud, "sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app",
					"ref": "refs/heads/main", "jti": randHex(8), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
				}
				if change != nil {
					change(c)
				}
				return c
			}
			tok := k1.sign(t, claims(nil))
			for i := range 2 {
				if r := e.post("/oauth2/token", federatedForm(id, tok), nil); r.status != http.StatusOK {
					t.Fatalf("federated token, use %d: %d %s", i+1, r.status, r.raw)
				}
			}
			if b == postgresRedis {
				n2 := e.node()
				n2.start()
				if r := n2.post("/oauth2/token", federatedForm(id, tok), nil); r.status != http.StatusOK {
					t.Fatalf("the same token at node 2: %d %s", r.status, r.raw)
				}
			}
			// Key rotation at the issuer: the new kid is fetched.
			k2 := newEd25519Key(t, "gh-2")
			ci.rotate(k2)
			if r := e.post("/oauth2/token", federatedForm(id, k2.sign(t, claims(nil))), nil); r.status != http.StatusOK {
				t.Fatalf("token signed with the rotated key: %d %s", r.status, r.raw)
			}

			stranger := newEd25519Key(t, "gh-1")
			other := newFakeIssuer(t, stranger)
			bad := []struct{ name, tok, why string }{
				{"another audience", k1.sign(t, claims(func(c map[string]any) { c["aud"] = "https://elsewhere" })), "aud"},
				{"another issuer", stranger.sign(t, claims(func(c map[string]any) { c["iss"] = other.URL })), "signature"},
				{"untrusted iss", k1.sign(t, claims(func(c map[string]any) { c["iss"] = other.URL })), "iss"},
				{"unbound subject", k1.sign(t, claims(func(c map[string]any) { c["sub"] = "repo:org/evil:ref:refs/heads/main" })), "sub"},
				{"claim mismatch", k1.sign(t, claims(func(c map[string]any) { c["repository"] = "org/evil" })), "claim"},
				{"expired", k1.sign(t, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), "expired"},
				{"beyond the issuer's max lifetime", k1.sign(t, claims(func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() })), "ahead"},
				{"future nbf", k1.sign(t, claims(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), "nbf"},
			}
			for _, tc := range bad {
				wantInvalidClient(t, tc.name, e.post("/oauth2/token", federatedForm(id, tc.tok), nil), tc.why)
			}
			// Without client_id the token's sub names no client.
			wantInvalidClient(t, "no client_id", e.post("/oauth2/token", assertionForm(tok), nil), "client_id")
		})
	}
}

// TestFederationKubernetes: a cluster's service-account keys registered
// as a static JWK Set; a projected service-account token (RS256, list
// aud, kubernetes.io claims) authenticates the client bound to its exact
// subject, and keeps doing so while kubelet reuses it; another service
// account's token does not.
func TestFederationKubernetes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	sa := newRSAKey(t, "k8s-sa-1", 2048)
	const iss = "https://kubernetes.default.svc.cluster.local"
	e.mustCLI("", "issuer", "add", "prod", "--issuer", iss, "--jwks-file", writeFile(t, "cluster-jwks.json", jwks(t, sa)), "--audience", "tollgate")
	id := e.createBoundClient("payments-worker", "--federated-issuer", "prod", "--federated-subject", "system:serviceaccount:payments:worker")
	projected := func(sub string) string {
		now := time.Now()
		return sa.sign(t, map[string]any{
			"iss": iss, "sub": sub, "aud": []string{"tollgate"},
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"kubernetes.io": map[string]any{
				"namespace":      "payments",
				"serviceaccount": map[string]any{"name": "worker", "uid": "0b4c6a4e-1d1b-4c2e-9d35-3f1f7c1c2a10"},
				"pod":            map[string]any{"name": "worker-7d9f", "uid": "5f0e4c3a-8b7a-4c1e-a3f2-0d9e8c7b6a51"},
			},
		})
	}
	tok := projected("system:serviceaccount:payments:worker")
	for i := range 3 {
		r := e.post("/oauth2/token", federatedForm(id, tok), nil)
		if r.status != http.StatusOK {
			t.Fatalf("projected token, use %d: %d %s", i+1, r.status, r.raw)
		}
	}
	wantInvalidClient(t, "another service account", e.post("/oauth2/token", federatedForm(id, projected("system:serviceaccount:payments:other")), nil), "sub")

	// The cluster rotates its service-account key: both keys, then the
	// new one alone, with no moment when the workload is refused.
	sa2 := newRSAKey(t, "k8s-sa-2", 2048)
	e.mustCLI("", "issuer", "update", "prod", "--jwks-file", writeFile(t, "both.json", jwks(t, sa, sa2)))
	tok2 := sa2.sign(t, map[string]any{"iss": iss, "sub": "system:serviceaccount:payments:worker", "aud": []string{"tollgate"}, "exp": time.Now().Add(time.Hour).Unix()})
	for name, tk := range map[string]string{"old key": tok, "new key": tok2} {
		if r := e.post("/oauth2/token", federatedForm(id, tk), nil); r.status != http.StatusOK {
			t.Errorf("%s during the overlap: %d %s", name, r.status, r.raw)
		}
	}
	e.mustCLI("", "issuer", "update", "prod", "--jwks-file", writeFile(t, "new.json", jwks(t, sa2)))
	wantInvalidClient(t, "the retired cluster key", e.post("/oauth2/token", federatedForm(id, tok), nil), "kid")
	tok = tok2

	// Admin checks: an issuer needs an https issuer and an audience; a
	// binding needs a known issuer and a subject.
	a := e.newAdmin()
	if r := a.call("POST", "/issuers", map[string]any{"name": "x", "issuer": "http://example.com", "audience": ""}); r.status != http.StatusBadRequest || !strings.Contains(r.raw, "audience") || !strings.Contains(r.raw, "https") {
		t.Errorf("bad issuer: %d %s", r.status, r.raw)
	}
	if r := a.call("POST", "/clients", map[string]any{"client_name": "unbound", "token_endpoint_auth_method": "private_key_jwt", "federated_issuer": "nope", "federated_subject": "s"}); r.status != http.StatusBadRequest || !strings.Contains(r.raw, "no trusted issuer") {
		t.Errorf("unknown issuer: %d %s", r.status, r.raw)
	}
	if r := a.call("GET", "/issuers", nil); r.status != http.StatusOK || !strings.Contains(r.raw, `"name":"prod"`) {
		t.Errorf("list issuers: %d %s", r.status, r.raw)
	}
	// Deleting the issuer refuses its clients.
	e.mustCLI("", "issuer", "delete", "prod")
	wantInvalidClient(t, "issuer deleted", e.post("/oauth2/token", federatedForm(id, tok), nil), "not configured")
}

// TestMachineIdentityCLIOverServer: with --server the CLI manages issuers,
// keys and bindings through the admin API, and the result works.
func TestMachineIdentityCLIOverServer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin")
	e.start()
	r := e.node()
	r.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": adminID, "TOLLGATE_ADMIN_CLIENT_SECRET": adminSecret}
	remote := func(args ...string) string {
		t.Helper()
		out, err := r.cli("", append([]string{"--server", e.srv.URL}, args...)...)
		if err != nil {
			t.Fatalf("tollgate --server %v: %v", args, err)
		}
		return out
	}
	key := newEd25519Key(t, "k1")
	var c struct {
		ClientID string `json:"client_id"`
		Method   string `json:"token_endpoint_auth_method"`
	}
	out := remote("client", "create", "--name", "remote-signer", "--jwks-file", writeFile(t, "jwks.json", jwks(t, key)), "--json")
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Method != "private_key_jwt" || strings.Contains(out, "client_secret") {
		t.Fatalf("client create over the API: %s (%v)", out, err)
	}
	if r := e.post("/oauth2/token", assertionForm(key.sign(t, assertionClaims(c.ClientID, e.vars["TOLLGATE_ISSUER"]))), nil); r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}

	sa := newEd25519Key(t, "sa")
	const iss = "https://cluster.example"
	remote("issuer", "add", "c1", "--issuer", iss, "--jwks-file", writeFile(t, "c.json", jwks(t, sa)), "--audience", "tg", "--max-lifetime", "2h")
	if out := remote("issuer", "list", "--json"); !strings.Contains(out, `"max_lifetime": 7200`) {
		t.Errorf("issuer list: %s", out)
	}
	if out := remote("issuer", "update", "c1", "--max-lifetime", "3h", "--json"); !strings.Contains(out, `"max_lifetime": 10800`) || !strings.Contains(out, `"jwks"`) {
		t.Errorf("issuer update: %s", out)
	}
	remote("client", "update", c.ClientID, "--federated-issuer", "c1", "--federated-subject", "system:serviceaccount:ns:*", "--federated-claim", "kubernetes.io/team=blue")
	now := time.Now()
	tok := sa.sign(t, map[string]any{"iss": iss, "sub": "system:serviceaccount:ns:app", "aud": "tg", "exp": now.Add(time.Hour).Unix(), "kubernetes.io/team": "blue"})
	if !slowly(func() bool {
		return e.post("/oauth2/token", federatedForm(c.ClientID, tok), nil).status == http.StatusOK
	}) {
		t.Fatal("the rebound client never accepted the federated token")
	}
	// Its own key went with the binding.
	wantInvalidClient(t, "own key after binding", e.post("/oauth2/token", assertionForm(key.sign(t, assertionClaims(c.ClientID, e.vars["TOLLGATE_ISSUER"]))), nil), "")
	remote("issuer", "delete", "c1")
	if out := remote("issuer", "list"); strings.Contains(out, "c1") {
		t.Errorf("after delete: %s", out)
	}
}
