package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/clients/tokensource"
)

// TestWalkthroughDPoP: the same API in DPoP mode. A caller whose
// tokensource holds a DPoP key gets bound tokens, and its Transport's
// proofs name the external URL the API is told about (TODO_EXTERNAL_URL);
// the bound token alone, as a bearer token, is refused.
func TestWalkthroughDPoP(t *testing.T) {
	srv := startTollgate(t)
	rs := srv.createClient(t, "--scopes", "tollgate:introspect")
	writer := srv.createClient(t, "--scopes", "todos:read todos:write", "--audience", "todo-api")
	base := startAPI(t, map[string]string{"TODO_ISSUER": srv.URL, "TODO_CLIENT_ID": rs.ID, "TODO_CLIENT_SECRET": rs.Secret})
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	src, err := tokensource.NewClientCredentials(context.Background(), tokensource.ClientCredentials{
		TokenURL: srv.URL + "/oauth2/token", ClientID: writer.ID, ClientSecret: writer.Secret,
		Options: tokensource.Options{DPoPKey: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: src.Transport(nil)}
	resp, err := client.Post(base+"/todos", "application/json", strings.NewReader(`{"title":"bound"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"title":"bound"`) {
		t.Fatalf("POST /todos with DPoP: %d %s", resp.StatusCode, body)
	}
	tok, _ := src.Token()
	if status, body := call(t, "GET", base+"/todos", tok.AccessToken, ""); status != http.StatusUnauthorized || !strings.Contains(body, "DPoP-bound") {
		t.Fatalf("bound token as a bearer token: %d %s", status, body)
	}
	// Behind a proxy: with TODO_EXTERNAL_URL the proof must name it.
	proxied := startAPI(t, map[string]string{"TODO_ISSUER": srv.URL, "TODO_CLIENT_ID": rs.ID, "TODO_CLIENT_SECRET": rs.Secret,
		"TODO_EXTERNAL_URL": "https://todo.example.com"})
	resp, err = client.Get(proxied + "/todos")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "htu does not match") {
		t.Fatalf("proof for the internal URL behind TODO_EXTERNAL_URL: %d %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
