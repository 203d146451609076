package main

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
)

// TestTokenCommands: token get (secret from the environment or stdin,
// server from --server or the configured issuer), decode (verified,
// tampered, unverifiable) and introspect, through the real server.
func TestTokenCommands(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			adminID, adminSecret := e.newClient("--name", "admin", "--scopes", "tollgate:admin tollgate:introspect")
			rsID, rsSecret := e.rsClient()
			id, secret := e.newClient("--name", "svc", "--scopes", "orders:read orders:write")
			e.start()
			srv := "--server=" + e.srv.URL
			ws := e.node() // a workstation: only what the command needs
			ws.vars = map[string]string{"TOLLGATE_CLIENT_SECRET": secret}

			tok := strings.TrimSpace(ws.mustCLI("", srv, "token", "get", "--client-id", id, "--scope", "orders:read"))
			if claims := e.verify(tok); claims.Scope != "orders:read" || claims.ClientID != id {
				t.Errorf("token get: %+v", claims)
			}
			// The secret on stdin, the server from the configuration.
			out := e.mustCLI(secret+"\n", "token", "get", "--client-id", id, "--json")
			var full struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				Scope       string `json:"scope"`
			}
			if err := json.Unmarshal([]byte(out), &full); err != nil || full.TokenType != "Bearer" || full.Scope != "orders:read orders:write" {
				t.Errorf("token get --json printed %q", out)
			}
			if _, err := e.cli("tgs_wrong\n", "token", "get", "--client-id", id); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("token get with a wrong secret: %v", err)
			}
			if _, err := ws.cli("", srv, "token", "get", "--client-id", id, "--scope", "nope"); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
				t.Errorf("token get of a scope the client lacks: %v", err)
			}

			out = ws.mustCLI("", srv, "token", "decode", tok)
			if !strings.Contains(out, `"alg": "EdDSA"`) || !strings.Contains(out, `"client_id": "`+id+`"`) || !strings.Contains(out, "signature: verified against "+e.srv.URL+"/.well-known/jwks.json") {
				t.Errorf("token decode printed:\n%s", out)
			}
			out = e.mustCLI(tok+"\n", "token", "decode", "-", "--json")
			var d decoded
			if err := json.Unmarshal([]byte(out), &d); err != nil || !d.Signature.Checked || !d.Signature.Verified {
				t.Errorf("token decode - --json printed %s", out)
			}
			tampered := tamper(t, tok)
			out, err := ws.cli("", srv, "token", "decode", tampered)
			if err == nil || !strings.Contains(out, "signature: INVALID") || !strings.Contains(out, `"scope": "orders:read admin"`) {
				t.Errorf("decode of a tampered token: %v\n%s", err, out)
			}
			out, err = ws.cli("", "--server=http://"+closedAddr(t), "token", "decode", tok)
			if err != nil || !strings.Contains(out, "signature: not checked (") {
				t.Errorf("decode without a reachable server: %v\n%s", err, out)
			}
			if _, err := ws.cli("", srv, "token", "decode", "not.a-jwt"); err == nil || !strings.Contains(err.Error(), "not a JWT") {
				t.Errorf("decode of garbage: %v", err)
			}

			// Introspection as the admin client, then as a named client.
			admin := e.node()
			admin.vars = map[string]string{"TOLLGATE_ADMIN_CLIENT_ID": adminID, "TOLLGATE_ADMIN_CLIENT_SECRET": adminSecret}
			out = admin.mustCLI("", srv, "token", "introspect", tok)
			var res struct {
				Active   bool   `json:"active"`
				ClientID string `json:"client_id"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Active || res.ClientID != id {
				t.Errorf("token introspect printed %s", out)
			}
			rs := e.node()
			rs.vars = map[string]string{"TOLLGATE_CLIENT_SECRET": rsSecret}
			if out := rs.mustCLI("", srv, "token", "introspect", tampered, "--client-id", rsID); strings.TrimSpace(out) != `{
  "active": false
}` {
				t.Errorf("introspect of a tampered token printed %s", out)
			}
			if _, err := ws.cli("", srv, "token", "introspect", tok, "--client-id", id); err == nil || !strings.Contains(err.Error(), "tollgate:introspect") {
				t.Errorf("introspect as a client without the scope: %v", err)
			}
			if _, err := ws.cli("", srv, "token", "introspect", tok); err == nil || !strings.Contains(err.Error(), "TOLLGATE_ADMIN_CLIENT_ID") {
				t.Errorf("introspect without credentials: %v", err)
			}
		})
	}
}

// tamper widens a token's scope, keeping its signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims["scope"] = claims["scope"].(string) + " admin"
	raw, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
