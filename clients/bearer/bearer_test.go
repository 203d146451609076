package bearer_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/clients/verify"
)

func TestMain(m *testing.M) { tollgatetest.Main(m) }

// whoami answers with the principal's subject, or "anonymous".
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if p, ok := verify.FromContext(r.Context()); ok {
		fmt.Fprint(w, p.Subject)
		return
	}
	fmt.Fprint(w, "anonymous")
})

func routes(v bearer.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /open", whoami)
	mux.Handle("GET /any", bearer.Require(whoami))
	mux.Handle("GET /read", bearer.RequireScopes("todos:read")(whoami))
	mux.Handle("GET /both", bearer.RequireScopes("todos:read", "todos:write")(whoami))
	mux.Handle("GET /admin", bearer.RequireRoles("admin")(whoami))
	return bearer.Authenticate(v)(mux)
}

func openVerifier(t testing.TB, srv *tollgatetest.Server) *verify.Verifier {
	t.Helper()
	rs := srv.CreateClient(t, "--scopes", "tollgate:introspect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.Open(ctx, verify.Options{Issuer: srv.URL, Audience: srv.URL, ClientID: rs.ID, ClientSecret: rs.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

const (
	jsonNoToken      = `{"error":"unauthorized","error_description":"this request needs a bearer access token"}` + "\n"
	jsonInvalid      = `{"error":"invalid_token","error_description":"the access token is invalid"}` + "\n"
	jsonRevoked      = `{"error":"invalid_token","error_description":"the access token was revoked or is not active"}` + "\n"
	jsonBadHeader    = `{"error":"invalid_request","error_description":"send one Authorization header: Bearer, a space, then the access token"}` + "\n"
	jsonTooLong      = `{"error":"invalid_token","error_description":"the access token is too long"}` + "\n"
	jsonScopes       = `{"error":"insufficient_scope","error_description":"this request needs the scopes todos:read todos:write","scope":"todos:read todos:write"}` + "\n"
	jsonRole         = `{"error":"insufficient_scope","error_description":"this request needs the role admin"}` + "\n"
	challengeInvalid = `Bearer error="invalid_token", error_description="the access token is invalid"`
	challengeRevoked = `Bearer error="invalid_token", error_description="the access token was revoked or is not active"`
	challengeBad     = `Bearer error="invalid_request", error_description="send one Authorization header: Bearer, a space, then the access token"`
	challengeTooLong = `Bearer error="invalid_token", error_description="the access token is too long"`
	challengeScopes  = `Bearer error="insufficient_scope", error_description="this request needs the scopes todos:read todos:write", scope="todos:read todos:write"`
	challengeRole    = `Bearer error="insufficient_scope", error_description="this request needs the role admin"`
)

// TestMiddleware drives the middleware over real HTTP with tokens of a
// real Tollgate and checks status, WWW-Authenticate and body exactly.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	reader := srv.CreateClient(t, "--scopes", "todos:read")
	admin := srv.CreateClient(t, "--scopes", "todos:read todos:write", "--roles", "admin")
	readTok, adminTok := srv.Token(t, reader, ""), srv.Token(t, admin, "")
	revoked := srv.Token(t, reader, "")
	srv.Revoke(t, reader, revoked)
	api := httptest.NewServer(routes(openVerifier(t, srv)))
	t.Cleanup(api.Close)

	cases := []struct {
		name, path string
		auth       []string
		status     int
		challenge  string
		body       string
	}{
		{name: "no token, open route", path: "/open", status: 200, body: "anonymous"},
		{name: "no token, protected", path: "/any", status: 401, challenge: "Bearer", body: jsonNoToken},
		{name: "other scheme is no token", path: "/any", auth: []string{"Basic dXNlcjpwYXNz"}, status: 401, challenge: "Bearer", body: jsonNoToken},
		{name: "other scheme on open route", path: "/open", auth: []string{"Basic dXNlcjpwYXNz"}, status: 200, body: "anonymous"},
		{name: "valid", path: "/read", auth: []string{"Bearer " + readTok}, status: 200, body: reader.ID},
		{name: "valid on open route", path: "/open", auth: []string{"Bearer " + readTok}, status: 200, body: reader.ID},
		{name: "lowercase scheme", path: "/read", auth: []string{"bearer " + readTok}, status: 200, body: reader.ID},
		{name: "extra spaces", path: "/read", auth: []string{"Bearer   " + readTok}, status: 200, body: reader.ID},
		{name: "all scopes needed", path: "/both", auth: []string{"Bearer " + readTok}, status: 403, challenge: challengeScopes, body: jsonScopes},
		{name: "all scopes present", path: "/both", auth: []string{"Bearer " + adminTok}, status: 200, body: admin.ID},
		{name: "role missing", path: "/admin", auth: []string{"Bearer " + readTok}, status: 403, challenge: challengeRole, body: jsonRole},
		{name: "role present", path: "/admin", auth: []string{"Bearer " + adminTok}, status: 200, body: admin.ID},
		{name: "garbage token, even on an open route", path: "/open", auth: []string{"Bearer abc.def.ghi"}, status: 401, challenge: challengeInvalid, body: jsonInvalid},
		{name: "revoked", path: "/read", auth: []string{"Bearer " + revoked}, status: 401, challenge: challengeRevoked, body: jsonRevoked},
		{name: "two Authorization headers", path: "/read", auth: []string{"Bearer " + readTok, "Bearer " + readTok}, status: 401, challenge: challengeBad, body: jsonBadHeader},
		{name: "scheme only", path: "/read", auth: []string{"Bearer"}, status: 401, challenge: challengeBad, body: jsonBadHeader},
		{name: "non-ASCII", path: "/read", auth: []string{"Bearer " + readTok + "é"}, status: 401, challenge: challengeBad, body: jsonBadHeader},
		{name: "over-long", path: "/read", auth: []string{"Bearer " + strings.Repeat("a", verify.MaxTokenLen+1)}, status: 401, challenge: challengeTooLong, body: jsonTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, api.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.auth {
				req.Header.Add("Authorization", a)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if tc.status != 200 {
				if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
					t.Fatalf("Content-Type %q, Cache-Control %q", ct, cc)
				}
			}
		})
	}
}

// TestUnavailable: when the verifier cannot decide, the answer is 503 with
// Retry-After, not a 401 that would make the client discard its token.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	c := srv.CreateClient(t)
	tok := srv.Token(t, c, "")
	v := openVerifier(t, srv)
	v.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/any", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	routes(v).ServeHTTP(rec, req)
	want := `{"error":"temporarily_unavailable","error_description":"the access token cannot be checked right now; retry shortly"}` + "\n"
	if rec.Code != 503 || rec.Body.String() != want || rec.Header().Get("Retry-After") != "1" || rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("got %d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

func TestRequireScopesPanicsOnBadNames(t *testing.T) {
	t.Parallel()
	for _, f := range []func(){
		func() { bearer.RequireScopes() },
		func() { bearer.RequireScopes("a b") },
		func() { bearer.RequireScopes(`a"b`) },
		func() { bearer.RequireRoles("") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

// BenchmarkAuthenticate measures the whole middleware on a cached token:
// header parsing, verification and the request context.
func BenchmarkAuthenticate(b *testing.B) {
	srv := tollgatetest.Start(b)
	c := srv.CreateClient(b, "--scopes", "todos:read")
	tok := srv.Token(b, c, "")
	h := bearer.Authenticate(openVerifier(b, srv))(bearer.RequireScopes("todos:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatal(w.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
