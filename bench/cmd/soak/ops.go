package main

import (
	"fmt"
	"net/url"
	"time"
)

// grantTokenExchange and apiKeyType are the RFC 8693 exchange of an API
// key (docs/ADMIN.md).
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	apiKeyType         = "urn:tollgate:params:oauth:token-type:api_key"
)

func (w *worker) clientCredentials() {
	a := w.l.api.post(w.l.ctx, w.l.api.next(), "/oauth2/token",
		url.Values{"grant_type": {"client_credentials"}, "scope": {soakScope}}, &w.l.fx.cc)
	w.record(w.issued(opClientCredentials, a, ownerCC, false))
}

func (w *worker) apiKey() {
	a := w.l.api.post(w.l.ctx, w.l.api.next(), "/oauth2/token", url.Values{
		"grant_type": {grantTokenExchange}, "subject_token": {w.l.fx.apiKey}, "subject_token_type": {apiKeyType},
	}, nil)
	w.record(w.issued(opAPIKey, a, ownerCC, false))
}

// password logs the worker's user in; a worker without a refresh-token
// chain starts one with the refresh token it gets.
func (w *worker) password() {
	a := w.l.api.post(w.l.ctx, w.l.api.next(), "/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {w.user}, "password": {w.l.fx.password}, "scope": {soakScope},
	}, &w.l.fx.web)
	oc := w.issued(opPassword, a, ownerWeb, true)
	if oc.status == 200 && oc.wrong == "" && w.refresh == "" {
		t, _ := parseToken(a.body, true)
		w.hold(t.RefreshToken, a, 0)
	}
	w.record(oc)
}

// issued judges a token answer and adds its access token to the live
// pool.
func (w *worker) issued(o op, a answer, own owner, wantRefresh bool) outcome {
	oc := outcomeOf(o, a)
	if a.status != 200 {
		return oc
	}
	t, err := parseToken(a.body, wantRefresh)
	if err != nil {
		oc.wrong, oc.detail = wrongBody, err.Error()
		return oc
	}
	w.l.pools.addLive(liveToken{value: t.AccessToken, jti: t.jti, kid: t.kid, node: a.node, owner: own}, w.rng)
	return oc
}

// hold makes rt the worker's refresh token.
func (w *worker) hold(rt string, a answer, chainLen int) {
	w.refresh, w.doubt, w.chainLen, w.gotFrom, w.gotAt = rt, false, chainLen, a.node, a.sent.Add(a.took)
}

// refreshToken rotates the held refresh token. 200: the new one is held.
// 503: the worker keeps its token and tries again later. invalid_grant
// for a token the worker never presented before is a lost refresh token.
func (w *worker) refreshToken() {
	if w.refresh == "" {
		w.password()
		return
	}
	a := w.l.api.post(w.l.ctx, w.l.api.next(), "/oauth2/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}}, &w.l.fx.web)
	oc := w.issued(opRefresh, a, ownerWeb, true)
	switch {
	case a.status == 200 && oc.wrong == "":
		t, _ := parseToken(a.body, true)
		w.hold(t.RefreshToken, a, w.chainLen+1)
	case a.status == 200: // malformed: the old token is spent, the new one unknown
		w.refresh = ""
	case a.status == 0:
		w.doubt = true
	case a.status == 400 && oc.code == "invalid_grant":
		if w.doubt {
			oc.doubtful = true
		} else {
			oc.wrong = wrongRefreshLost
		}
		oc.detail = fmt.Sprintf("%s; the token was rotation %d of its chain, issued by node%d at %s, first presented now to node%d",
			trimBody(a.body), w.chainLen, w.gotFrom+1, w.gotAt.Format(time.TimeOnly+".000"), a.node+1)
		w.refresh = "" // the chain is dead: the next refresh logs in again
	}
	w.record(oc)
}

func (w *worker) jwks() {
	a := w.l.api.get(w.l.ctx, w.l.api.next(), "/.well-known/jwks.json")
	oc := outcomeOf(opJWKS, a)
	if a.status == 200 && !jsonHasKeys(a.body) {
		oc.wrong, oc.detail = wrongBody, "JWKS without keys"
	}
	w.record(oc)
}

// trimBody returns an error answer's body for a report, shortened. Error
// answers carry no token.
func trimBody(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
