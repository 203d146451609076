package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"time"
)

// introspect asks node i about tok, as the resource server.
func (w *worker) introspect(i int, tok string) answer {
	return w.l.api.post(w.l.ctx, i, "/oauth2/introspect", url.Values{"token": {tok}}, &w.l.fx.rs)
}

// introspectLive checks that a token nobody revoked is active, except
// during a Redis window, where a node that lost its revocation feed must
// answer inactive (fail closed).
func (w *worker) introspectLive() {
	t, ok := w.l.pools.pickLive(w.rng)
	if !ok {
		w.clientCredentials()
		return
	}
	a := w.introspect(w.l.api.next(), t.value)
	oc := outcomeOf(opIntrospectLive, a)
	if a.status != 200 {
		w.record(oc)
		return
	}
	in, err := parseIntrospection(a.body)
	switch {
	case err != nil:
		oc.wrong, oc.detail = wrongBody, err.Error()
	case *in.Active:
	case w.l.pools.wasTaken(t.jti):
		// Revoked meanwhile by another worker.
	case w.l.win.coversComp(compRedis, a.sent, a.sent.Add(a.took)):
		oc.failClosed = true
	default:
		oc.wrong, oc.detail = wrongLiveInactive, fmt.Sprintf("jti %s (kid %s, issued by node%d) answered inactive by node%d",
			t.jti, t.kid, t.node+1, a.node+1)
	}
	w.record(oc)
}

// introspectRevoked checks that a revoked token is inactive on some node.
func (w *worker) introspectRevoked() {
	t, ok := w.l.pools.pickRevoked(w.rng)
	if !ok {
		w.introspectLive()
		return
	}
	w.checkRevoked(w.l.api.next(), t)
}

// checkRevoked introspects revoked token t on node i and records it.
func (w *worker) checkRevoked(i int, t revokedToken) {
	a := w.introspect(i, t.value)
	w.record(judgeRevoked(outcomeOf(opIntrospectRevoked, a), a, t))
}

// judgeRevoked fails an answer that reports revoked token t active.
func judgeRevoked(oc outcome, a answer, t revokedToken) outcome {
	if a.status != 200 {
		return oc
	}
	in, err := parseIntrospection(a.body)
	switch {
	case err != nil:
		oc.wrong, oc.detail = wrongBody, err.Error()
	case *in.Active:
		oc.wrong, oc.detail = wrongRevokedActive, revokedDetail(a, t)
		oc.sameNode, oc.lag = a.node == t.node, a.sent.Sub(t.revokedAt)
	}
	return oc
}

// revokedDetail describes a revoked token reported active.
func revokedDetail(a answer, t revokedToken) string {
	kind, name := "access token", fmt.Sprintf("jti %s (kid %s, issued by node%d)", t.jti, t.kid, t.issuedBy+1)
	if t.refresh {
		kind, name = "refresh token", "(refresh)"
	}
	return fmt.Sprintf("%s %s revoked by node%d at %s (200); node%d answered active %s after that answer: %s",
		kind, name, t.node+1, t.revokedAt.Format(time.TimeOnly+".000"), a.node+1, a.sent.Sub(t.revokedAt).Round(time.Microsecond), trimClaims(a.body))
}

// trimClaims keeps the introspection answer's non-secret members.
func trimClaims(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "(unparsable)"
	}
	b, _ := json.Marshal(m)
	return trimBody(b)
}

// revokeAccess revokes a live access token as its client. A 200 puts it
// on the revoked list and it is introspected on the same node at once:
// that node must answer inactive from the moment it answered the
// revocation (docs/REVOCATION.md). Any other answer leaves the token's
// state unknown, so it is forgotten.
func (w *worker) revokeAccess() {
	t, ok := w.l.pools.takeLive(w.rng)
	if !ok {
		w.clientCredentials()
		return
	}
	c := &w.l.fx.cc
	if t.owner == ownerWeb {
		c = &w.l.fx.web
	}
	a := w.l.api.post(w.l.ctx, w.l.api.next(), "/oauth2/revoke", url.Values{"token": {t.value}}, c)
	w.record(outcomeOf(opRevokeAccess, a))
	if a.status != 200 {
		return
	}
	rt := revokedToken{value: t.value, jti: t.jti, kid: t.kid, issuedBy: t.node, node: a.node, revokedAt: a.sent.Add(a.took)}
	w.l.pools.addRevoked(rt)
	w.checkRevoked(a.node, rt)
}

// revokeRefresh revokes the worker's own refresh token, ending its chain
// on purpose; the next refresh logs in again.
func (w *worker) revokeRefresh() {
	if w.refresh == "" || w.doubt || !w.l.pools.roomForRevoked() {
		w.revokeAccess()
		return
	}
	tok := w.refresh
	w.refresh = "" // whatever the answer: after a failed revocation its state is unknown
	a := w.l.api.post(w.l.ctx, w.l.api.next(), "/oauth2/revoke", url.Values{"token": {tok}}, &w.l.fx.web)
	w.record(outcomeOf(opRevokeRefresh, a))
	if a.status != 200 {
		return
	}
	rt := revokedToken{value: tok, refresh: true, node: a.node, revokedAt: a.sent.Add(a.took)}
	w.l.pools.addRevoked(rt)
	w.checkRevoked(a.node, rt)
}

// jsonHasKeys reports whether body is a JWK set with at least one key.
func jsonHasKeys(body []byte) bool {
	return len(kidsOf(body)) > 0
}

// kidsOf returns the kids of a JWK set, sorted; nil if it is not one.
func kidsOf(body []byte) []string {
	var s struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if json.Unmarshal(body, &s) != nil {
		return nil
	}
	kids := []string{}
	for _, k := range s.Keys {
		kids = append(kids, k.KID)
	}
	sort.Strings(kids)
	return kids
}

// publishedKids returns the kids in each node's JWKS.
func publishedKids(ctx context.Context, a *api) [][]string {
	kids := make([][]string, len(a.nodes))
	for i := range a.nodes {
		if ans := a.get(ctx, i, "/.well-known/jwks.json"); ans.status == 200 {
			kids[i] = kidsOf(ans.body)
		}
	}
	return kids
}
