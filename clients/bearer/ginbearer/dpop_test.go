package ginbearer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/bearer/ginbearer"
	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/clients/tokensource"
	"github.com/tollgate/tollgate/clients/verify"
)

// TestGinDPoP: a DPoP-bound token with its proof passes the Gin
// middleware (proofs naming the external URL it is given); the token as
// a bearer token does not.
func TestGinDPoP(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	rs := srv.CreateClient(t, "--scopes", "tollgate:introspect")
	c := srv.CreateClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.Open(ctx, verify.Options{Issuer: srv.URL, Audience: srv.URL, ClientID: rs.ID, ClientSecret: rs.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	r := gin.New()
	api := httptest.NewUnstartedServer(r)
	r.Use(ginbearer.Authenticate(v, bearer.WithExternalURL("http://"+api.Listener.Addr().String())))
	r.GET("/any", ginbearer.Require, func(c *gin.Context) {
		p, _ := verify.FromContext(c.Request.Context())
		c.String(http.StatusOK, p.KeyThumbprint)
	})
	api.Start()
	t.Cleanup(api.Close)

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	src, err := tokensource.NewClientCredentials(context.Background(), tokensource.ClientCredentials{
		TokenURL: srv.URL + "/oauth2/token", ClientID: c.ID, ClientSecret: c.Secret, Options: tokensource.Options{DPoPKey: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: src.Transport(nil)}).Get(api.URL + "/any")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != 43 {
		t.Fatalf("DPoP request: %d %q, want 200 and the key's thumbprint", resp.StatusCode, body)
	}
	tok, _ := src.Token()
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/any", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bound token as bearer: %d", resp.StatusCode)
	}
}
