package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestIntrospectionCannotVouch: with Redis cut off, a node's revocation
// set cannot vouch for itself. A valid token then gets 503
// temporarily_unavailable with Retry-After, never {"active":false}, which
// a resource server may keep as final; a garbage token is still inactive;
// the admin API answers 503 problem+json, not 401. Once Redis is back the
// token is active again.
func TestIntrospectionCannotVouch(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, postgresRedis)
	ru, err := url.Parse(e.vars["TOLLGATE_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, ru.Host)
	ru.Host = p.addr
	e.vars["TOLLGATE_REDIS_URL"] = ru.String()
	rsID, rsSecret := e.rsClient()
	id, secret := e.newClient("--name", "svc")
	e.start()
	admin := e.newAdmin()
	tok := e.ccToken(id, secret)
	if r := e.introspect(rsID, rsSecret, tok); r.body["active"] != true {
		t.Fatalf("warm-up: %s", r.raw)
	}

	p.down()
	var r response
	if !eventually(15*time.Second, func() bool {
		r = e.introspect(rsID, rsSecret, tok)
		return r.status != 200
	}) {
		t.Fatalf("introspection with Redis cut off still answers %d %s", r.status, r.raw)
	}
	if r.status != 503 || r.body["error"] != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
		t.Errorf("valid token on a node that cannot vouch: %d %v %s", r.status, r.header, r.raw)
	}
	if g := e.introspect(rsID, rsSecret, "not.a.token"); g.status != 200 || g.raw != `{"active":false}` {
		t.Errorf("garbage token on a node that cannot vouch: %d %s", g.status, g.raw)
	}
	a := admin.call("GET", "/clients", nil)
	if a.status != 503 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") || a.header.Get("Retry-After") == "" {
		t.Errorf("admin API on a node that cannot vouch: %d %v %s", a.status, a.header, a.raw)
	}

	p.up()
	if !eventually(15*time.Second, func() bool { return e.introspect(rsID, rsSecret, tok).body["active"] == true }) {
		t.Fatal("the token is not active again after Redis came back")
	}
}
