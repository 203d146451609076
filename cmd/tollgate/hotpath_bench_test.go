package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// benchService wires a service on b's backend, as serve does, and returns
// its handler with the id, secret and an API key of a client. Requests go
// straight to the handler: the figures are Tollgate's own work per request
// (routing, logging, metrics, the grant, signing), without a socket.
func benchService(b *testing.B, be backend, logLevel string) (h http.Handler, id, sec, key string) {
	b.Helper()
	vars := map[string]string{"TOLLGATE_LOG_LEVEL": logLevel, "TOLLGATE_ISSUER": "http://tollgate.test"}
	switch be {
	case embedded:
		vars["TOLLGATE_DATABASE_URL"] = "sqlite:" + filepath.Join(b.TempDir(), "tollgate.db")
	case postgresRedis:
		vars["TOLLGATE_DATABASE_URL"], _ = sqltest.PostgresURL(b)
		vars["TOLLGATE_REDIS_URL"], vars["TOLLGATE_REDIS_PREFIX"] = redistest.Prefix(b)
		vars["TOLLGATE_MASTER_KEY"] = newMasterKey()
	}
	getenv := func(k string) string { return vars[k] }
	cli := func(args ...string) string {
		var out bytes.Buffer
		if err := run(context.Background(), args, getenv, strings.NewReader(""), &out, io.Discard); err != nil {
			b.Fatalf("tollgate %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	cli("migrate")
	var c struct{ ClientID, ClientSecret string }
	if err := json.Unmarshal([]byte(cli("client", "create", "--name", "bench", "--scopes", "orders:read", "--json")), &struct {
		ClientID     *string `json:"client_id"`
		ClientSecret *string `json:"client_secret"`
	}{&c.ClientID, &c.ClientSecret}); err != nil {
		b.Fatal(err)
	}
	var k struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(cli("apikey", "create", "--client", c.ClientID, "--name", "bench", "--json")), &k); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load("", getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		b.Fatal(err)
	}
	// The request log line is part of the cost: keep it, into a discard.
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	svc, err := newService(context.Background(), cfg, log, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := svc.background(ctx)
	b.Cleanup(func() { cancel(); wait(); svc.Close() })
	for svc.revoked.Ready(ctx) != nil {
		time.Sleep(5 * time.Millisecond)
	}
	return svc.handler, c.ClientID, c.ClientSecret, k.APIKey
}

// benchPost sends form to the token endpoint in parallel and fails on any
// answer but 200.
func benchPost(b *testing.B, h http.Handler, form url.Values, header http.Header) {
	body := form.Encode()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range header {
				req.Header[k] = v
			}
			req.RemoteAddr = "192.0.2.1:1234"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkTokenClientCredentials: one client_credentials grant through
// the whole handler, per storage setup.
func BenchmarkTokenClientCredentials(b *testing.B) {
	for _, be := range backends {
		b.Run(string(be), func(b *testing.B) {
			h, id, sec, _ := benchService(b, be, "info")
			benchPost(b, h, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, basic(id, sec))
		})
	}
}

// BenchmarkTokenAPIKeyExchange: one API-key exchange (RFC 8693) through
// the whole handler, per storage setup.
func BenchmarkTokenAPIKeyExchange(b *testing.B) {
	for _, be := range backends {
		b.Run(string(be), func(b *testing.B) {
			h, _, _, key := benchService(b, be, "info")
			benchPost(b, h, url.Values{
				"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token":      {key},
				"subject_token_type": {"urn:tollgate:params:oauth:token-type:api_key"},
			}, nil)
		})
	}
}

// BenchmarkTokenRequestLog: what the JSON request line costs a
// client_credentials grant (info logs it, warn does not).
func BenchmarkTokenRequestLog(b *testing.B) {
	for _, level := range []string{"info", "warn"} {
		b.Run(level, func(b *testing.B) {
			h, id, sec, _ := benchService(b, embedded, level)
			benchPost(b, h, url.Values{"grant_type": {"client_credentials"}}, basic(id, sec))
		})
	}
}

// BenchmarkTokenDPoP: client_credentials with a DPoP proof (RFC 9449 §5)
// against the same without, on the embedded default. Proofs are made
// before the timer runs: what is measured is the server's check.
func BenchmarkTokenDPoP(b *testing.B) {
	for _, withProof := range []bool{false, true} {
		name := "bearer"
		if withProof {
			name = "dpop"
		}
		b.Run(name, func(b *testing.B) {
			h, id, sec, _ := benchService(b, embedded, "info")
			form := url.Values{"grant_type": {"client_credentials"}}.Encode()
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			p, _ := dpop.NewProver(key, nil)
			proofs := make([]string, b.N)
			if withProof {
				for i := range proofs {
					proofs[i], _ = p.Proof(http.MethodPost, "http://tollgate.test/oauth2/token", "", "")
				}
			}
			auth := basic(id, sec).Get("Authorization")
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", auth)
				if withProof {
					req.Header.Set("DPoP", proofs[i])
				}
				req.RemoteAddr = "192.0.2.1:1234"
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
