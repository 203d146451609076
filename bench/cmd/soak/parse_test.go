package main

import (
	"encoding/base64"
	"testing"
	"time"
)

func jwt(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	at := jwt(`{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}`, `{"jti":"j1","sub":"s"}`)
	cases := []struct {
		name        string
		body        string
		wantRefresh bool
		ok          bool
	}{
		{"access token", `{"access_token":"` + at + `","token_type":"Bearer"}`, false, true},
		{"with refresh", `{"access_token":"` + at + `","token_type":"bearer","refresh_token":"r"}`, true, true},
		{"refresh missing", `{"access_token":"` + at + `","token_type":"Bearer"}`, true, false},
		{"not bearer", `{"access_token":"` + at + `","token_type":"mac"}`, false, false},
		{"no jti", `{"access_token":"` + jwt(`{"kid":"k1"}`, `{"sub":"s"}`) + `","token_type":"Bearer"}`, false, false},
		{"not a JWT", `{"access_token":"opaque","token_type":"Bearer"}`, false, false},
		{"not JSON", `<html>`, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseToken([]byte(c.body), c.wantRefresh)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if c.ok && (got.jti != "j1" || got.kid != "k1") {
				t.Errorf("jti %q kid %q", got.jti, got.kid)
			}
		})
	}
}

func TestJudgeRevoked(t *testing.T) {
	t.Parallel()
	revokedAt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := revokedToken{jti: "j", kid: "k", node: 0, revokedAt: revokedAt}
	cases := []struct {
		name   string
		a      answer
		wrong  string
		same   bool
		lagged time.Duration
	}{
		{"inactive", answer{node: 1, status: 200, body: []byte(`{"active":false}`)}, "", false, 0},
		{"active elsewhere", answer{node: 2, sent: revokedAt.Add(5 * time.Millisecond), status: 200, body: []byte(`{"active":true,"jti":"j"}`)}, wrongRevokedActive, false, 5 * time.Millisecond},
		{"active on the same node", answer{node: 0, sent: revokedAt, status: 200, body: []byte(`{"active":true}`)}, wrongRevokedActive, true, 0},
		{"no active member", answer{node: 1, status: 200, body: []byte(`{}`)}, wrongBody, false, 0},
		{"503", answer{node: 1, status: 503, body: []byte(`{"error":"temporarily_unavailable"}`)}, "", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			oc := judgeRevoked(outcomeOf(opIntrospectRevoked, c.a), c.a, tok)
			if oc.wrong != c.wrong || oc.sameNode != c.same || oc.lag != c.lagged {
				t.Errorf("wrong %q same %v lag %s", oc.wrong, oc.sameNode, oc.lag)
			}
		})
	}
}

func TestPoolsTakeBounded(t *testing.T) {
	t.Parallel()
	p := newPools(2, 2)
	rng := newTestRand()
	for _, j := range []string{"a", "b", "c"} {
		p.addLive(liveToken{jti: j}, rng)
	}
	if live, _ := p.counts(); live != 2 {
		t.Fatalf("live pool holds %d, cap 2", live)
	}
	t1, ok1 := p.takeLive(rng)
	t2, ok2 := p.takeLive(rng)
	if !ok1 || !ok2 || t1.jti == t2.jti || !p.wasTaken(t1.jti) || !p.wasTaken(t2.jti) {
		t.Fatalf("take: %v %v %v %v", t1, ok1, t2, ok2)
	}
	p.addLive(liveToken{jti: "d"}, rng)
	if _, ok := p.takeLive(rng); ok {
		t.Error("took a third token with a revoked cap of 2")
	}
}
