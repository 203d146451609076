package ginbearer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/clients/bearer/ginbearer"
	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/clients/verify"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	tollgatetest.Main(m)
}

// ginAPI serves four routes behind the Gin middleware, verified against a
// real Tollgate, and returns the API's URL with a reader's and an admin's
// tokens and clients.
func ginAPI(t *testing.T) (url string, reader, admin tollgatetest.Client, readTok, adminTok string) {
	srv := tollgatetest.Start(t)
	reader = srv.CreateClient(t, "--scopes", "todos:read")
	admin = srv.CreateClient(t, "--scopes", "todos:read todos:write", "--roles", "admin")
	readTok, adminTok = srv.Token(t, reader, ""), srv.Token(t, admin, "")
	rs := srv.CreateClient(t, "--scopes", "tollgate:introspect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.Open(ctx, verify.Options{Issuer: srv.URL, Audience: srv.URL, ClientID: rs.ID, ClientSecret: rs.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })

	whoami := func(c *gin.Context) {
		if p, ok := verify.FromContext(c.Request.Context()); ok {
			c.String(http.StatusOK, p.Subject)
			return
		}
		c.String(http.StatusOK, "anonymous")
	}
	r := gin.New()
	r.Use(ginbearer.Authenticate(v))
	r.GET("/open", whoami)
	r.GET("/any", ginbearer.Require, whoami)
	r.GET("/write", ginbearer.RequireScopes("todos:write"), whoami)
	r.GET("/admin", ginbearer.RequireRoles("admin"), whoami)
	api := httptest.NewServer(r)
	t.Cleanup(api.Close)
	return api.URL, reader, admin, readTok, adminTok
}

// TestGin checks the Gin middleware over real HTTP with real tokens:
// status, WWW-Authenticate and body exactly, and that an aborted chain
// never reaches the handler.
func TestGin(t *testing.T) {
	t.Parallel()
	base, reader, admin, readTok, adminTok := ginAPI(t)
	cases := []struct {
		name, path string
		auth       []string
		status     int
		challenge  string
		body       string
	}{
		{name: "no token, open route", path: "/open", status: 200, body: "anonymous"},
		{name: "no token, protected", path: "/any", status: 401, challenge: "Bearer",
			body: `{"error":"unauthorized","error_description":"this request needs a bearer access token"}` + "\n"},
		{name: "valid", path: "/any", auth: []string{"Bearer " + readTok}, status: 200, body: reader.ID},
		{name: "scope missing", path: "/write", auth: []string{"Bearer " + readTok}, status: 403,
			challenge: `Bearer error="insufficient_scope", error_description="this request needs the scope todos:write", scope="todos:write"`,
			body:      `{"error":"insufficient_scope","error_description":"this request needs the scope todos:write","scope":"todos:write"}` + "\n"},
		{name: "scope present", path: "/write", auth: []string{"Bearer " + adminTok}, status: 200, body: admin.ID},
		{name: "role missing", path: "/admin", auth: []string{"Bearer " + readTok}, status: 403,
			challenge: `Bearer error="insufficient_scope", error_description="this request needs the role admin"`,
			body:      `{"error":"insufficient_scope","error_description":"this request needs the role admin"}` + "\n"},
		{name: "role present", path: "/admin", auth: []string{"Bearer " + adminTok}, status: 200, body: admin.ID},
		{name: "invalid token", path: "/open", auth: []string{"Bearer x.y.z"}, status: 401,
			challenge: `Bearer error="invalid_token", error_description="the access token is invalid"`,
			body:      `{"error":"invalid_token","error_description":"the access token is invalid"}` + "\n"},
		{name: "two headers", path: "/any", auth: []string{"Bearer " + readTok, "Bearer " + adminTok}, status: 401,
			challenge: `Bearer error="invalid_request", error_description="send one Authorization header: Bearer, a space, then the access token"`,
			body:      `{"error":"invalid_request","error_description":"send one Authorization header: Bearer, a space, then the access token"}` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, base+tc.path, nil)
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
		})
	}
}
