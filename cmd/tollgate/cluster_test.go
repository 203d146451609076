package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"
)

// cluster starts n nodes on one PostgreSQL + Redis, each with its own
// connections, sharing one issuer, as n processes behind a load balancer.
func cluster(t *testing.T, n int) []*testEnv {
	first := newTestEnv(t, postgresRedis)
	first.vars["TOLLGATE_ISSUER"] = "http://tollgate.test"
	first.fixedIssuer = true
	nodes := []*testEnv{first}
	for len(nodes) < n {
		nodes = append(nodes, first.node())
	}
	return nodes
}

// TestClusterRevocationPropagation: a token issued by node A and revoked on
// node B is inactive on every node the moment B's revoke call has returned
// 200; measured over 100 revocations (how long the revoke call takes,
// since B answers only once every node holds the entry, and how long C
// takes to apply an entry it was told about).
func TestClusterRevocationPropagation(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, 3)
	// The rounds revoke faster than a client's default budget of 50/s
	// when the test runs alone: lift it, this test measures propagation.
	for _, n := range nodes {
		n.vars["TOLLGATE_RATE_LIMIT_REVOCATION"] = "0"
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	rsID, rsSecret := a.rsClient()
	id, secret := a.newClient("--name", "svc")
	for _, n := range nodes {
		n.start()
	}

	const rounds = 100
	var revokeTook []time.Duration
	bad := 0
	for i := range rounds {
		tok := a.ccToken(id, secret)
		if r := c.introspect(rsID, rsSecret, tok); r.body["active"] != true {
			t.Fatalf("round %d: fresh token inactive on C: %s", i, r.raw)
		}
		start := time.Now()
		if r := b.revoke(id, secret, tok); r.status != 200 {
			t.Fatalf("round %d: revoke on B: %d %s", i, r.status, r.raw)
		}
		revokeTook = append(revokeTook, time.Since(start))
		// Never active anywhere once B's revoke returned: check C, the
		// issuing node A and B itself at once, C first.
		roundBad := false
		for _, n := range []struct {
			name string
			env  *testEnv
		}{{"C", c}, {"A", a}, {"B", b}} {
			if r := n.env.introspect(rsID, rsSecret, tok); r.raw != `{"active":false}` {
				t.Errorf("round %d: active on %s after B's revoke returned 200: %s", i, n.name, r.raw)
				roundBad = true
			}
		}
		if roundBad {
			bad++
		}
	}
	slices.Sort(revokeTook)
	median, p99, worst := revokeTook[rounds/2], revokeTook[rounds*99/100], revokeTook[rounds-1]
	msg := fmt.Sprintf("revocation across 3 nodes over %d revocations (token issued on A, revoked on B, introspected on C, A and B right after B's answer): inactive on every node at the first check in %d of %d rounds (required: all); the revoke call on B, which answers once every node holds the entry, took median %s, p99 %s, max %s",
		rounds, rounds-bad, rounds, median.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), worst.Round(10*time.Microsecond))
	t.Log(msg)
	if out := os.Getenv("TOLLGATE_PROPAGATION_REPORT"); out != "" {
		_ = os.WriteFile(out, []byte(msg+"\n"), 0o644)
	}
	// A bound, not a speed target (the figure above is the measurement,
	// and it swings with the machine's load under -race): B must not
	// answer before every node holds the entry, but it must answer.
	if worst > 3*time.Second {
		t.Errorf("slowest revoke call %s: every node should hold the entry within moments", worst)
	}

	// A node started after a revocation sees it.
	last := a.ccToken(id, secret)
	b.revoke(id, secret, last)
	d2 := a.node()
	d2.start()
	if r := d2.introspect(rsID, rsSecret, last); r.raw != `{"active":false}` {
		t.Errorf("node started after a revocation: %s", r.raw)
	}
}

// TestRedisLossFailsClosed: when a node loses Redis it reports not ready and
// answers 503 for every valid access token (it cannot vouch for its
// revocation set), including one revoked on another node meanwhile; when
// Redis is back it resynchronises without a restart.
func TestRedisLossFailsClosed(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, 2)
	a, b := nodes[0], nodes[1]
	ru, err := url.Parse(b.vars["TOLLGATE_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, ru.Host)
	ru.Host = p.addr
	b.vars["TOLLGATE_REDIS_URL"] = ru.String() // only B reaches Redis through the proxy
	rsID, rsSecret := a.rsClient()
	id, secret := a.newClient("--name", "svc")
	a.start()
	b.start()
	keep, doomed := a.ccToken(id, secret), a.ccToken(id, secret)
	for _, tok := range []string{keep, doomed} {
		if r := b.introspect(rsID, rsSecret, tok); r.body["active"] != true {
			t.Fatalf("before the outage: %s", r.raw)
		}
	}

	p.down()
	if !eventually(10*time.Second, func() bool { return b.get("/readyz").status == 503 }) {
		t.Fatal("B still ready without Redis")
	}
	a.revoke(id, secret, doomed) // recorded while B is cut off
	// Neither active nor inactive, which would be final: B cannot tell.
	for name, tok := range map[string]string{"unrevoked": keep, "revoked meanwhile": doomed} {
		if r := b.introspect(rsID, rsSecret, tok); r.status != 503 || r.body["error"] != "temporarily_unavailable" {
			t.Errorf("%s token on B without Redis: %d %s", name, r.status, r.raw)
		}
	}
	if r := b.get("/oauth2/revocations"); r.status == 200 {
		t.Errorf("feed served by a node that lost its set: %s", r.raw)
	}

	p.up()
	if !eventually(15*time.Second, func() bool { return b.get("/readyz").status == 200 }) {
		t.Fatalf("B did not recover: %s", b.get("/readyz").raw)
	}
	if r := b.introspect(rsID, rsSecret, keep); r.body["active"] != true {
		t.Errorf("unrevoked token after recovery: %s", r.raw)
	}
	if r := b.introspect(rsID, rsSecret, doomed); r.raw != `{"active":false}` {
		t.Errorf("token revoked during the outage, after recovery: %s", r.raw)
	}
}
