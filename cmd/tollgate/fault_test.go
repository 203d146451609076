package main

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// proxy is a TCP forwarder the test can cut and restore, to take a real
// database away from the service and give it back.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *proxy) up() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.pipe(c) })
		}
	})
}

func (p *proxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(u, c); u.Close() })
	wg.Go(func() { io.Copy(c, u); c.Close() })
	wg.Wait()
}

// down refuses new connections and cuts the open ones.
func (p *proxy) down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestDatabaseDownAndBack: with PostgreSQL unreachable the token endpoint
// answers 503 temporarily_unavailable (never 500, never invalid_client),
// /readyz reports not ready, and both recover by themselves.
func TestDatabaseDownAndBack(t *testing.T) {
	t.Parallel()
	pgURL, _ := sqltest.PostgresURL(t)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	e := &testEnv{t: t, vars: map[string]string{"TOLLGATE_DATABASE_URL": u.String(), "TOLLGATE_MASTER_KEY": newMasterKey()}, logs: &logBuffer{}}
	e.mustCLI("", "migrate")
	id, secret := e.newClient("--name", "svc")
	e.start()
	cc := url.Values{"grant_type": {"client_credentials"}}
	if r := e.post("/oauth2/token", cc, basic(id, secret)); r.status != 200 {
		t.Fatalf("before the outage: %d %s", r.status, r.raw)
	}

	p.down()
	r := e.post("/oauth2/token", cc, basic(id, secret))
	if r.status != 503 || r.body["error"] != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("database down: %d %s\nlogs:\n%s", r.status, r.raw, e.logs)
	}
	if r := e.get("/readyz"); r.status != 503 {
		t.Errorf("readyz with the database down: %d %s", r.status, r.raw)
	}

	p.up()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = e.post("/oauth2/token", cc, basic(id, secret))
		if r.status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != 200 {
		t.Fatalf("after the database came back: %d %s", r.status, r.raw)
	}
	// The revocation set reports ready at its next successful read, which
	// may come a poll after the token endpoint recovered.
	var ready response
	if !eventually(10*time.Second, func() bool { ready = e.get("/readyz"); return ready.status == 200 }) {
		t.Errorf("readyz after recovery: %d %s", ready.status, ready.raw)
	}
}

// TestRedisDownRefresh: with Redis unreachable a refresh answers 503
// temporarily_unavailable, never invalid_grant (which would make the client
// drop a refresh token that is still good), and the same token works once
// Redis is back.
func TestRedisDownRefresh(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, postgresRedis)
	ru, err := url.Parse(e.vars["TOLLGATE_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, ru.Host)
	ru.Host = p.addr
	e.vars["TOLLGATE_REDIS_URL"] = ru.String()
	id, secret := e.newClient("--name", "web", "--grant-types", "password,refresh_token")
	e.mustCLI("a long passphrase\n", "user", "create", "--username", "bob", "--password-stdin")
	e.start()
	rt := e.login(id, secret, "bob", "a long passphrase").body["refresh_token"].(string)

	p.down()
	r := e.refresh(id, secret, rt)
	if r.status != 503 || r.body["error"] != "temporarily_unavailable" {
		t.Fatalf("refresh with Redis down: %d %s", r.status, r.raw)
	}
	if r := e.get("/readyz"); r.status != 503 {
		t.Errorf("readyz with Redis down: %d %s", r.status, r.raw)
	}
	p.up()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = e.refresh(id, secret, rt)
		if r.status != 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != 200 {
		t.Fatalf("refresh after Redis came back: %d %s", r.status, r.raw)
	}
}

// TestIntrospectionWithoutPostgres: introspection never touches PostgreSQL
// (the caller's client record is cached, invalidated through Redis), so it
// keeps answering with the database cut off; and a client deleted with the
// CLI is refused by the running server at once, cache or not.
func TestIntrospectionWithoutPostgres(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, postgresRedis)
	pu, err := url.Parse(e.vars["TOLLGATE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, pu.Host)
	pu.Host = p.addr
	e.vars["TOLLGATE_DATABASE_URL"] = pu.String()
	rsID, rsSecret := e.rsClient()
	id, secret := e.newClient("--name", "svc")
	goneID, goneSecret := e.newClient("--name", "gone")
	e.start()
	tok := e.ccToken(id, secret)
	e.ccToken(goneID, goneSecret)
	if r := e.introspect(rsID, rsSecret, tok); r.body["active"] != true {
		t.Fatalf("warm-up: %s", r.raw)
	}

	p.down()
	for i := range 50 {
		if r := e.introspect(rsID, rsSecret, tok); r.status != 200 || r.body["active"] != true {
			t.Fatalf("introspection %d with PostgreSQL cut off: %d %s", i, r.status, r.raw)
		}
	}
	// The cached client record keeps client_credentials working too.
	if r := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)); r.status != 200 {
		t.Errorf("client_credentials with PostgreSQL cut off: %d %s", r.status, r.raw)
	}
	p.up()

	e.mustCLI("", "client", "delete", goneID)
	if !eventually(time.Second, func() bool {
		return e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(goneID, goneSecret)).status == 401
	}) {
		t.Fatal("a deleted client still gets tokens from the running server")
	}
}

// TestCachedAPIKeysStopAtOnce: on PostgreSQL + Redis hot API keys are
// served from memory; revoking a key, disabling its user or deleting its
// owner still stops the very next exchange, on this node and on another.
func TestCachedAPIKeysStopAtOnce(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, 2)
	a, b := nodes[0], nodes[1]
	svcID, _ := a.newClient("--name", "svc", "--scopes", "x")
	for _, n := range nodes {
		n.start()
	}
	adm := a.newAdmin()
	mkUser := func(name string) string {
		r := adm.call("POST", "/users", map[string]any{"username": name, "password": "a long passphrase"})
		return r.body["id"].(string)
	}
	mkKey := func(kind, owner string) (id, key string) {
		r := adm.call("POST", "/api-keys", map[string]any{"owner_type": kind, "owner_id": owner, "name": "k", "scope": "x"})
		if r.status != 201 {
			t.Fatalf("create key: %d %s", r.status, r.raw)
		}
		return r.body["id"].(string), r.body["api_key"].(string)
	}
	warm := func(key string) {
		for _, n := range nodes {
			for range 3 {
				if r := n.exchange(key, nil); r.status != 200 {
					t.Fatalf("warm-up exchange: %d %s", r.status, r.raw)
				}
			}
		}
	}
	refused := func(what, key string) {
		t.Helper()
		for _, n := range []*testEnv{a, b} {
			if !eventually(time.Second, func() bool { return n.exchange(key, nil).status == 400 }) {
				t.Errorf("%s: a cached key still exchanges", what)
			}
		}
	}

	id1, key1 := mkKey("client", svcID)
	warm(key1)
	adm.call("DELETE", "/api-keys/"+id1, nil)
	if r := a.exchange(key1, nil); r.status != 400 {
		t.Errorf("revoked key on the revoking node, next request: %d", r.status)
	}
	refused("revoked key", key1)

	u2 := mkUser("gina")
	_, key2 := mkKey("user", u2)
	warm(key2)
	adm.call("PATCH", "/users/"+u2, map[string]any{"disabled": true})
	refused("key of a disabled user", key2)

	u3 := mkUser("hank")
	_, key3 := mkKey("user", u3)
	warm(key3)
	adm.call("DELETE", "/users/"+u3, nil)
	refused("key of a deleted user", key3)
}
