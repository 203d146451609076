package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/tokensource"
	"github.com/tollgate/tollgate/clients/verify"
)

// TestTokenSourcePrivateKeyJWT: the SDK signs a new assertion for every
// renewal from a PEM key file, and a Tollgate client registered with the
// public key gets tokens without any secret.
func TestTokenSourcePrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	key := newEd25519Key(t, "sdk-1")
	id := e.createKeyClient("sdk", "--jwks-file", writeFile(t, "jwks.json", jwks(t, key)))
	der, err := x509.MarshalPKCS8PrivateKey(key.priv)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := writeFile(t, "client.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	signer, err := tokensource.LoadPrivateKey(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	tokenURL := e.vars["TOLLGATE_ISSUER"] + "/oauth2/token"
	// Two sources with the same key: each assertion has its own jti
	// (renewals within one Source are covered in package tokensource).
	for i := range 2 {
		src, err := tokensource.NewPrivateKeyJWT(context.Background(), tokensource.PrivateKeyJWT{
			TokenURL: tokenURL, ClientID: id, Key: signer, KeyID: "sdk-1",
		})
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := src.Token(); err != nil || tok.AccessToken == "" {
			t.Fatalf("source %d: %v, %v", i+1, tok, err)
		}
	}
}

// TestTokenSourceFederated: a pod's projected token, read from its file
// at every renewal; kubelet replacing the file (a rotated token) is
// picked up, and no Tollgate credential exists anywhere.
func TestTokenSourceFederated(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	sa := newEd25519Key(t, "sa")
	const iss = "https://kubernetes.default.svc.cluster.local"
	e.mustCLI("", "issuer", "add", "cluster", "--issuer", iss, "--jwks-file", writeFile(t, "jwks.json", jwks(t, sa)), "--audience", "tollgate")
	id := e.createBoundClient("pod", "--federated-issuer", "cluster", "--federated-subject", "system:serviceaccount:shop:api")
	projected := func(sub string) []byte {
		now := time.Now()
		return []byte(sa.sign(t, map[string]any{"iss": iss, "sub": sub, "aud": []string{"tollgate"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}) + "\n")
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, projected("system:serviceaccount:shop:api"), 0o600); err != nil {
		t.Fatal(err)
	}
	newSource := func() *tokensource.Source {
		src, err := tokensource.NewFederated(context.Background(), tokensource.Federated{
			TokenURL: e.vars["TOLLGATE_ISSUER"] + "/oauth2/token", ClientID: id, TokenFile: file,
		})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	// Two pods (sources) on the same projected token: it is not
	// single-use.
	for i := range 2 {
		if _, err := newSource().Token(); err != nil {
			t.Fatalf("source %d: %v", i+1, err)
		}
	}
	// The file now holds another service account's token: it is read at
	// the request, and refused.
	if err := os.WriteFile(file, projected("system:serviceaccount:shop:other"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newSource().Token(); err == nil {
		t.Fatal("a token of an unbound service account was accepted")
	}
}

// TestVerifyIntrospectPrivateKeyJWT: a resource server's clients/verify
// in Introspect mode authenticates its introspection calls with
// private_key_jwt: no secret on the resource server either.
func TestVerifyIntrospectPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	key := newEd25519Key(t, "rs-1")
	rsID := e.createKeyClient("orders-api", "--jwks-file", writeFile(t, "jwks.json", jwks(t, key)))
	callerID, callerSecret := e.newClient("--name", "caller")
	r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(callerID, callerSecret))
	at, _ := r.body["access_token"].(string)
	if at == "" {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	iss := e.vars["TOLLGATE_ISSUER"]
	v, err := verify.Open(context.Background(), verify.Options{
		Issuer: iss, Audience: iss, ClientID: rsID, ClientKey: key.priv, ClientKeyID: "rs-1", Mode: verify.Introspect,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	p, err := v.Verify(context.Background(), at)
	if err != nil || p.ClientID != callerID {
		t.Fatalf("Verify: %+v, %v", p, err)
	}
	// Local mode reads the feed with GET, which carries no assertion.
	if _, err := verify.Open(context.Background(), verify.Options{Issuer: iss, Audience: iss, ClientID: rsID, ClientKey: key.priv}); err == nil {
		t.Error("ClientKey in Local mode: no error")
	}
}
