package bearer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/clients/tokensource"
)

// TestDPoPEndToEnd: a tokensource with a DPoP key gets bound tokens from a
// real Tollgate, its Transport calls an API protected by Authenticate, and
// everything else (the token as a bearer token, a replayed proof, a proof
// for another request or from another key, no proof) is a 401 with a DPoP
// challenge (RFC 9449 §7).
func TestDPoPEndToEnd(t *testing.T) {
	srv := tollgatetest.Start(t)
	api := httptest.NewServer(routes(openVerifier(t, srv)))
	t.Cleanup(api.Close)
	c := srv.CreateClient(t, "--scopes", "todos:read")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	src, err := tokensource.NewClientCredentials(context.Background(), tokensource.ClientCredentials{
		TokenURL: srv.URL + "/oauth2/token", ClientID: c.ID, ClientSecret: c.Secret,
		Options: tokensource.Options{DPoPKey: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: src.Transport(nil)}
	for range 2 { // a fresh proof each time: no replay
		resp, err := client.Get(api.URL + "/read?page=2")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != c.ID {
			t.Fatalf("GET /read through the DPoP transport: %d %s", resp.StatusCode, body)
		}
	}
	tok, err := src.Token()
	if err != nil || tok.TokenType != "DPoP" {
		t.Fatalf("token %v, %v", tok, err)
	}
	p, _ := dpop.NewProver(key, nil)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := dpop.NewProver(otherKey, nil)
	proof := func(p *dpop.Prover, method, url, token string) string {
		s, err := p.Proof(method, url, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	replayed := proof(p, "GET", api.URL+"/read", tok.AccessToken)
	get(t, api.URL+"/read", http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {replayed}}, http.StatusOK)

	for name, tc := range map[string]struct {
		header    http.Header
		challenge string
	}{
		"bound token as bearer": {http.Header{"Authorization": {"Bearer " + tok.AccessToken}},
			`Bearer error="invalid_token", error_description="this access token is DPoP-bound: send it as Authorization: DPoP, with a DPoP proof"`},
		"no proof": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}},
			`DPoP error="invalid_dpop_proof", error_description="send one DPoP header with a proof for this request", algs="EdDSA ES256"`},
		"replayed proof": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {replayed}},
			`DPoP error="invalid_dpop_proof", error_description="invalid proof: proof was already used (jti)", algs="EdDSA ES256"`},
		"proof for another URL": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {proof(p, "GET", api.URL+"/admin", tok.AccessToken)}},
			`DPoP error="invalid_dpop_proof", error_description="invalid proof: htu does not match the request URL", algs="EdDSA ES256"`},
		"proof for another method": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {proof(p, "POST", api.URL+"/read", tok.AccessToken)}},
			`DPoP error="invalid_dpop_proof", error_description="invalid proof: htm does not match the request method", algs="EdDSA ES256"`},
		"proof without ath": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {proof(p, "GET", api.URL+"/read", "")}},
			`DPoP error="invalid_dpop_proof", error_description="invalid proof: ath does not match the access token", algs="EdDSA ES256"`},
		"another key's proof": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {proof(other, "GET", api.URL+"/read", tok.AccessToken)}},
			`DPoP error="invalid_dpop_proof", error_description="the proof is signed by another key than the one the token is bound to", algs="EdDSA ES256"`},
		"two proofs": {http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {proof(p, "GET", api.URL+"/read", tok.AccessToken), proof(p, "GET", api.URL+"/read", tok.AccessToken)}},
			`DPoP error="invalid_dpop_proof", error_description="send one DPoP header with a proof for this request", algs="EdDSA ES256"`},
		"bearer token as DPoP": {http.Header{"Authorization": {"DPoP " + srv.Token(t, c, "todos:read")}},
			`DPoP error="invalid_token", error_description="this access token is not DPoP-bound: send it as Authorization: Bearer", algs="EdDSA ES256"`},
	} {
		t.Run(name, func(t *testing.T) {
			resp := get(t, api.URL+"/read", tc.header, http.StatusUnauthorized)
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate\n got %s\nwant %s", got, tc.challenge)
			}
		})
	}
	// No token at all: both schemes are offered.
	resp := get(t, api.URL+"/read", nil, http.StatusUnauthorized)
	if got := strings.Join(resp.Header.Values("WWW-Authenticate"), "; "); got != `Bearer; DPoP algs="EdDSA ES256"` {
		t.Fatalf("challenges without a token: %s", got)
	}
}

// TestDPoPExternalURL: behind a proxy the proof names the public URL,
// which WithExternalURL tells the middleware.
func TestDPoPExternalURL(t *testing.T) {
	srv := tollgatetest.Start(t)
	v := openVerifier(t, srv)
	api := httptest.NewServer(bearer.Authenticate(v, bearer.WithExternalURL("https://api.example.com"))(bearer.Require(whoami)))
	t.Cleanup(api.Close)
	c := srv.CreateClient(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	src, err := tokensource.NewClientCredentials(context.Background(), tokensource.ClientCredentials{
		TokenURL: srv.URL + "/oauth2/token", ClientID: c.ID, ClientSecret: c.Secret, Options: tokensource.Options{DPoPKey: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := dpop.NewProver(key, nil)
	public, _ := p.Proof("GET", "https://api.example.com/todos", tok.AccessToken, "")
	get(t, api.URL+"/todos", http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {public}}, http.StatusOK)
	internal, _ := p.Proof("GET", api.URL+"/todos", tok.AccessToken, "")
	get(t, api.URL+"/todos", http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {internal}}, http.StatusUnauthorized)
}

func get(t *testing.T, url string, h http.Header, want int) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range h {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s, want %d", url, resp.StatusCode, body, want)
	}
	return resp
}

// BenchmarkAuthenticateDPoP is BenchmarkAuthenticate for a DPoP-bound
// token: each request brings a fresh proof (made before the timer), so
// the difference is the proof check (RFC 9449 §7).
func BenchmarkAuthenticateDPoP(b *testing.B) {
	srv := tollgatetest.Start(b)
	c := srv.CreateClient(b, "--scopes", "todos:read")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	src, err := tokensource.NewClientCredentials(context.Background(), tokensource.ClientCredentials{
		TokenURL: srv.URL + "/oauth2/token", ClientID: c.ID, ClientSecret: c.Secret, Options: tokensource.Options{DPoPKey: key},
	})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := src.Token()
	if err != nil {
		b.Fatal(err)
	}
	h := bearer.Authenticate(openVerifier(b, srv))(bearer.RequireScopes("todos:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	p, _ := dpop.NewProver(key, nil)
	const n = 4096 // proofs are single-use; sign a batch, then check it
	reqs := make([]*http.Request, n)
	refill := func() {
		for i := range reqs {
			proof, err := p.Proof(http.MethodGet, "http://example.com/", tok.AccessToken, "")
			if err != nil {
				b.Fatal(err)
			}
			reqs[i] = httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
			reqs[i].Header.Set("Authorization", "DPoP "+tok.AccessToken)
			reqs[i].Header.Set("DPoP", proof)
		}
	}
	refill()
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%n == 0 && i > 0 {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		h.ServeHTTP(w, reqs[i%n])
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
