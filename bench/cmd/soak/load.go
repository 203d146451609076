package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// mix is the share of each kind of request, in percent. A refresh by a
// worker without a refresh token is a password login; a revocation with
// no live token left is a client_credentials request.
var mix = []struct {
	op     op
	weight int
}{
	{opClientCredentials, 17},
	{opPassword, 1},
	{opRefresh, 16},
	{opAPIKey, 12},
	{opIntrospectLive, 21},
	{opIntrospectRevoked, 16},
	{opRevokeAccess, 4},
	{opRevokeRefresh, 1},
	{opJWKS, 12},
}

// load is what the workers share.
type load struct {
	api   *api
	fx    *fixtures
	pools *pools
	rec   *recorder
	win   *windows
	lim   *rate.Limiter // nil: no rate limit
	// ctx is cancelled on Ctrl-C only: requests in flight when the load
	// time is over still complete and count.
	ctx context.Context
}

// runLoad runs workers until loadCtx is done and waits for them.
func (l *load) runLoad(loadCtx context.Context, workers int) {
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{l: l, rng: rand.New(rand.NewPCG(rand.Uint64(), uint64(i))), user: l.fx.usernames[i%len(l.fx.usernames)]}
		wg.Go(func() { w.loop(loadCtx) })
	}
	wg.Wait()
}

// worker is one closed-loop client. It keeps one refresh-token chain and
// always presents the newest token it got.
type worker struct {
	l    *load
	rng  *rand.Rand
	user string
	// refresh is the held refresh token, "" when the worker has none.
	refresh string
	// doubt: the last refresh of this token got no answer at all, so the
	// server may have rotated it.
	doubt bool
	// chain describes the held token for a loss report: how many
	// rotations, and which node issued it when.
	chainLen int
	gotFrom  int
	gotAt    time.Time
}

func (w *worker) loop(loadCtx context.Context) {
	for loadCtx.Err() == nil {
		if w.l.lim != nil && w.l.lim.Wait(loadCtx) != nil {
			return
		}
		w.one(w.pick())
	}
}

// pick draws an op from the mix.
func (w *worker) pick() op {
	n := w.rng.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.op
		}
		n -= m.weight
	}
	return opJWKS
}

// one runs op o (or its stand-in) and records what happened.
func (w *worker) one(o op) {
	switch o {
	case opClientCredentials:
		w.clientCredentials()
	case opPassword:
		w.password()
	case opRefresh:
		w.refreshToken()
	case opAPIKey:
		w.apiKey()
	case opIntrospectLive:
		w.introspectLive()
	case opIntrospectRevoked:
		w.introspectRevoked()
	case opRevokeAccess:
		w.revokeAccess()
	case opRevokeRefresh:
		w.revokeRefresh()
	default:
		w.jwks()
	}
}

// record counts oc unless the request was cut by Ctrl-C.
func (w *worker) record(oc outcome) {
	if w.l.ctx.Err() != nil && oc.status == 0 {
		return
	}
	w.l.rec.add(oc)
}

// outcomeOf is the outcome of an answer before any judgement.
func outcomeOf(o op, a answer) outcome {
	oc := outcome{op: o, node: a.node, sent: a.sent, took: a.took, status: a.status}
	switch {
	case a.err != nil:
		oc.code = errorKind(a.err)
	case a.status != 200:
		oc.code = oauthError(a.body)
	}
	return oc
}
