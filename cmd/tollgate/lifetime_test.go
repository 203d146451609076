package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// TestLoweredDefaultLifetimeAcrossRestart: a server started with a 24h
// default issues a token, restarts with 1m; a revocation recorded then
// (by the CLI, which has the same lowered configuration) is kept until
// that token's exp, and retired signing keys stay published as long.
func TestLoweredDefaultLifetimeAcrossRestart(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			e.vars["TOLLGATE_ACCESS_TOKEN_TTL"] = "24h"
			e.start()
			rsID, rsSecret := e.rsClient()
			id, sec := e.newClient("--name", "svc")
			tok := e.ccToken(id, sec)
			r := e.introspect(rsID, rsSecret, tok)
			exp, _ := r.body["exp"].(float64)
			if r.body["active"] != true || time.Until(time.Unix(int64(exp), 0)) < 23*time.Hour {
				t.Fatalf("token under the 24h default: %s", r.raw)
			}
			e.stop()

			e.vars["TOLLGATE_ACCESS_TOKEN_TTL"] = "1m"
			e.start()
			if got := e.svc.keys.Retention(); got < 24*time.Hour {
				t.Errorf("signing keys retained for %v after the restart, want at least the 24h tokens still out there", got)
			}
			if out := e.mustCLI("", "revoke", "--client", id); !strings.Contains(out, id) {
				t.Errorf("revoke printed %q", out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			entries, err := e.svc.stores.revocations.RevocationsSince(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var entry *store.Revocation
			for i := range entries {
				if entries[i].Kind == store.RevokedSubject && entries[i].Key == store.SubjectClient+id {
					entry = &entries[i]
				}
			}
			if entry == nil {
				t.Fatalf("no subject entry for %s among %d", id, len(entries))
			}
			if entry.ExpiresAt.Before(time.Unix(int64(exp), 0)) {
				t.Errorf("subject entry expires %v, before the token it covers (exp %v)", entry.ExpiresAt, time.Unix(int64(exp), 0))
			}
			if !eventually(3*time.Second, func() bool { return e.introspect(rsID, rsSecret, tok).body["active"] == false }) {
				t.Error("revoked token still active")
			}
		})
	}
}
