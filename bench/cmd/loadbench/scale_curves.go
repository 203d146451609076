package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// keysPerOwner spreads seeded API keys over owner clients: the admin API
// caps keys per owner (100 by default), and a million keys of one client
// would be a shape no deployment has.
const keysPerOwner = 100

// firstExchanges is how many keys not yet cached are exchanged one by one
// at each step, for the latency of a first exchange.
const firstExchanges = 20

// roundRobin hands out ts in turn, from concurrent workers.
func roundRobin(ts []vegeta.Target) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		*t = ts[(n.Add(1)-1)%uint64(len(ts))]
		return nil
	}
}

// clientCurve grows the clients table and measures client_credentials
// spread over -scale-distinct of them.
func (r *scaleRun) clientCurve(ctx context.Context, steps []int) ([]scalePoint, error) {
	keep := neededIndices(steps, r.b.o.scale.distinct)
	creds := map[int]credentials{}
	var out []scalePoint
	seeded := 0
	for _, n := range steps {
		pt := scalePoint{N: n}
		start := time.Now()
		kept, _, err := r.sd.clients(ctx, seeded, n, benchScope, keep)
		if err != nil {
			return out, err
		}
		pt.Seed, seeded = time.Since(start), n
		for i, c := range kept {
			creds[i] = c
		}
		if pt.Ready, err = r.restart(ctx); err != nil {
			return out, err
		}
		var ts []vegeta.Target
		for _, i := range sampleIndices(n, r.b.o.scale.distinct) {
			ts = append(ts, formTarget(r.in.base+"/oauth2/token", basicAuth(creds[i]), url.Values{"grant_type": {"client_credentials"}}))
		}
		r.load(ctx, plan{targeter: roundRobin(ts), valid: hasAccessToken}, &pt, "client_credentials")
		out = append(out, pt)
	}
	return out, nil
}

// apiKeyCurve grows the API keys (and their owner clients) and measures
// the first exchange of keys not yet cached, then exchanges spread over
// -scale-distinct keys.
func (r *scaleRun) apiKeyCurve(ctx context.Context, steps []int) ([]scalePoint, error) {
	keep := neededIndices(steps, r.b.o.scale.distinct)
	apiKeys := map[int]string{}
	var owners []string
	var out []scalePoint
	seeded := 0
	for _, n := range steps {
		pt := scalePoint{N: n}
		start := time.Now()
		need := (n + keysPerOwner - 1) / keysPerOwner
		_, ids, err := r.sd.clients(ctx, len(owners), need, benchScope, nil)
		if err != nil {
			return out, err
		}
		owners = append(owners, ids...)
		kept, err := r.sd.apiKeys(ctx, seeded, n, benchScope, func(i int) string { return owners[i/keysPerOwner] }, keep)
		if err != nil {
			return out, err
		}
		pt.Seed, seeded = time.Since(start), n
		for i, k := range kept {
			apiKeys[i] = k
		}
		if pt.Ready, err = r.restart(ctx); err != nil {
			return out, err
		}
		sample := sampleIndices(n, r.b.o.scale.distinct)
		if pt.FirstP50, pt.FirstMax, err = r.firstExchanges(ctx, sample, apiKeys); err != nil {
			return out, err
		}
		var ts []vegeta.Target
		for _, i := range sample {
			ts = append(ts, formTarget(r.in.base+"/oauth2/token", "", exchangeForm(apiKeys[i])))
		}
		r.load(ctx, plan{targeter: roundRobin(ts), valid: hasAccessToken}, &pt, "API-key exchange")
		out = append(out, pt)
	}
	return out, nil
}

// firstExchanges exchanges up to firstExchanges keys the freshly started
// server has not seen, one at a time, and returns the median and largest
// latency.
func (r *scaleRun) firstExchanges(ctx context.Context, sample []int, apiKeys map[int]string) (p50, worst time.Duration, err error) {
	var lat []time.Duration
	for _, i := range sample[:min(firstExchanges, len(sample))] {
		start := time.Now()
		code, body, err := r.in.api.post(ctx, "/oauth2/token", credentials{}, exchangeForm(apiKeys[i]))
		if err != nil {
			return 0, 0, err
		}
		if code != http.StatusOK || !hasAccessToken(body) {
			return 0, 0, fmt.Errorf("first exchange of a seeded key: %d %.200s", code, body)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	r.b.logf("[%s] first exchange of %d uncached keys: median %s, max %s", r.s.mode, len(lat), fmtDur(percentile(lat, 50)), fmtDur(lat[len(lat)-1]))
	return percentile(lat, 50), lat[len(lat)-1], nil
}

// revocationCurve grows the live revocation set (in the SQL log on the
// embedded mode, in Redis on PostgreSQL + Redis) and measures the start
// of a node, introspection of a valid token, the server's RSS and the
// in-process revocation check.
func (r *scaleRun) revocationCurve(ctx context.Context, steps []int) ([]scalePoint, error) {
	var out []scalePoint
	seeded := 0
	for _, n := range steps {
		pt := scalePoint{N: n}
		start := time.Now()
		var err error
		if r.s.db == nil {
			err = r.sd.revocations(ctx, seeded, n)
		} else {
			err = seedRedisRevocations(ctx, r.b.o.redisURL, r.s.env["TOLLGATE_REDIS_PREFIX"], seeded, n, r.sd.logf)
		}
		if err != nil {
			return out, err
		}
		pt.Seed, seeded = time.Since(start), n
		if pt.Ready, err = r.restart(ctx); err != nil {
			return out, err
		}
		p, err := r.in.introspectPlan(ctx, false)
		if err != nil {
			return out, err
		}
		r.load(ctx, p, &pt, "introspection")
		res, err := r.b.checkBench(ctx, n)
		if err != nil {
			return out, err
		}
		pt.CheckNs, pt.CheckAlloc = float64(res.NsPerOp()), res.AllocsPerOp()
		out = append(out, pt)
	}
	return out, nil
}

// checkBench measures, in this process, revocation.Set.Check of a token
// that is not revoked against a set of n live token entries, loaded by the
// Set from an embedded store the way a node loads it. Results are kept per
// n: the check does not depend on the mode.
func (b *bench) checkBench(ctx context.Context, n int) (testing.BenchmarkResult, error) {
	if res, ok := b.checks[n]; ok {
		return res, nil
	}
	dir, err := os.MkdirTemp(b.tmp, "check-")
	if err != nil {
		return testing.BenchmarkResult{}, err
	}
	defer os.RemoveAll(dir)
	s := &setup{mode: modeEmbedded, dir: dir}
	st, err := sqlstore.Open(ctx, "sqlite:"+sqlitePath(s), sqlstore.Options{})
	if err != nil {
		return testing.BenchmarkResult{}, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return testing.BenchmarkResult{}, err
	}
	sd, err := openSeeder(s, nil, func(string, ...any) {})
	if err != nil {
		return testing.BenchmarkResult{}, err
	}
	err = sd.revocations(ctx, 0, n)
	sd.close()
	if err != nil {
		return testing.BenchmarkResult{}, err
	}
	set := revocation.New(st, revocation.Options{})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { set.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	for set.Ready(ctx) != nil || set.Size() < n {
		if ctx.Err() != nil {
			return testing.BenchmarkResult{}, ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
	subjects := []string{store.SubjectClient + "tgc_x", store.SubjectUser + "usr_y"}
	now := time.Now()
	var wrong atomic.Bool
	res := testing.Benchmark(func(tb *testing.B) {
		tb.ReportAllocs()
		for tb.Loop() {
			if revoked, ok := set.Check("not-revoked", subjects, now); revoked || !ok {
				wrong.Store(true)
			}
		}
	})
	if wrong.Load() {
		return res, fmt.Errorf("revocation check of %d entries: a token that is not revoked was reported revoked or unchecked", n)
	}
	b.logf("revocation check against %s entries: %d ns, %d allocations", fmtInt(n), res.NsPerOp(), res.AllocsPerOp())
	if b.checks == nil {
		b.checks = map[int]testing.BenchmarkResult{}
	}
	b.checks[n] = res
	return res, nil
}
