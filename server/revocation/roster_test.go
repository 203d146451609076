package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// sharedBackends open n store instances on one backend, as n server
// processes would. The SQL stores learn of other processes' entries only
// by polling (every 500 ms), so there a revocation that returned before
// the other nodes held it would show at once.
var sharedBackends = map[string]func(t *testing.T, n int) []store.RevocationStore{
	"redis": func(t *testing.T, n int) []store.RevocationStore {
		var out []store.RevocationStore
		for _, s := range redistest.OpenShared(t, n) {
			out = append(out, s)
		}
		return out
	},
	"sqlite": func(t *testing.T, n int) []store.RevocationStore {
		return openSQLShared(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"), "", n)
	},
	"postgres": func(t *testing.T, n int) []store.RevocationStore {
		url, schema := sqltest.PostgresURL(t)
		return openSQLShared(t, url, schema, n)
	},
}

func openSQLShared(t *testing.T, url, schema string, n int) []store.RevocationStore {
	t.Helper()
	var out []store.RevocationStore
	for i := range n {
		s, err := sqlstore.Open(t.Context(), url, sqlstore.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if i == 0 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, s)
	}
	return out
}

func tokenEntry(key string) *store.Revocation {
	now := time.Now()
	return &store.Revocation{Kind: store.RevokedToken, Key: key, RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// TestRevokeReturnsOnceEveryNodeHoldsIt: three nodes on one backend; a
// revocation made through any of them is held by all three the moment it
// returns.
func TestRevokeReturnsOnceEveryNodeHoldsIt(t *testing.T) {
	for name, open := range sharedBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sets := make([]*revocation.Set, 3)
			for i, st := range open(t, 3) {
				sets[i] = revocation.New(st, revocation.Options{Node: fmt.Sprintf("node-%d", i)})
				run(t, sets[i])
			}
			for round := range 12 {
				key := fmt.Sprintf("jti-%d", round)
				if err := sets[round%3].Revoke(t.Context(), tokenEntry(key)); err != nil {
					t.Fatalf("round %d: Revoke: %v", round, err)
				}
				for i, s := range sets {
					if revoked, ok := s.Check(key, nil, time.Now()); !revoked || !ok {
						t.Errorf("round %d: node %d right after the revocation returned: revoked=%v ok=%v", round, i, revoked, ok)
					}
				}
			}
		})
	}
}

// TestRecorderWaitsForNodes: a revocation recorded by a process that is
// not a node (the CLI on the database) also returns only once the running
// nodes hold it.
func TestRecorderWaitsForNodes(t *testing.T) {
	for name, open := range sharedBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stores := open(t, 2)
			node := revocation.New(stores[0], revocation.Options{})
			run(t, node)
			cli := revocation.Recorder{Store: stores[1]}
			for round := range 5 {
				key := fmt.Sprintf("cli-%d", round)
				if err := cli.Revoke(t.Context(), tokenEntry(key)); err != nil {
					t.Fatal(err)
				}
				if revoked, ok := node.Check(key, nil, time.Now()); !revoked || !ok {
					t.Errorf("round %d: right after the CLI's revocation returned: revoked=%v ok=%v", round, revoked, ok)
				}
			}
		})
	}
}

// TestRevokeWaitsOutASilentNode: a node that stopped answering (crashed,
// or cut off) is waited for until its lease has run out, when it no longer
// vouches for any token; then the revocation returns.
func TestRevokeWaitsOutASilentNode(t *testing.T) {
	for name, open := range sharedBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t, 1)[0]
			roster := st.(store.RevocationRoster)
			s := revocation.New(st, revocation.Options{})
			run(t, s)
			if _, err := roster.AckRevocations(t.Context(), "silent", 0, 700*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			r := tokenEntry("while-silent")
			if err := s.Revoke(t.Context(), r); err != nil {
				t.Fatalf("Revoke with a silent node: %v", err)
			}
			lag, err := roster.RevocationLaggards(t.Context(), r.Seq)
			if err != nil {
				t.Fatal(err)
			}
			if len(lag) != 0 {
				t.Errorf("Revoke returned while %v still held leases without the entry", lag)
			}
		})
	}
}

// failingAcks is a real store whose acknowledgements can be made to fail,
// as when a node loses the store for longer than its watch notices.
type failingAcks struct {
	store.RevocationStore
	roster store.RevocationRoster
	fail   atomic.Bool
}

func (f *failingAcks) AckRevocations(ctx context.Context, node string, seq int64, lease time.Duration) (bool, error) {
	if f.fail.Load() {
		return false, fmt.Errorf("%w: acknowledgement cut off by the test", store.ErrUnavailable)
	}
	return f.roster.AckRevocations(ctx, node, seq, lease)
}

func (f *failingAcks) RevocationLaggards(ctx context.Context, seq int64) ([]string, error) {
	return f.roster.RevocationLaggards(ctx, seq)
}

func (f *failingAcks) LeaveRevocations(ctx context.Context, node string) error {
	return f.roster.LeaveRevocations(ctx, node)
}

// TestLapsedLeaseStopsVouching: a node that cannot renew its lease stops
// vouching for tokens (and reports not ready) by the time other nodes stop
// waiting for it, and vouches again once it can.
func TestLapsedLeaseStopsVouching(t *testing.T) {
	for name, open := range sharedBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t, 1)[0]
			f := &failingAcks{RevocationStore: st, roster: st.(store.RevocationRoster)}
			const lease = 600 * time.Millisecond
			s := revocation.New(f, revocation.Options{Lease: lease})
			run(t, s)
			if _, ok := s.Check("x", nil, time.Now()); !ok {
				t.Fatal("a synchronised node does not vouch")
			}
			f.fail.Store(true)
			waitFor(t, 10*lease, "the node to stop vouching", func() bool {
				_, ok := s.Check("x", nil, time.Now())
				return !ok && s.Ready(t.Context()) != nil
			})
			// The rest of the fleet no longer waits for it either.
			waitFor(t, 10*lease, "the roster to drop the node", func() bool {
				lag, err := f.roster.RevocationLaggards(t.Context(), 1<<62)
				return err == nil && !slices.Contains(lag, s.Node())
			})
			f.fail.Store(false)
			waitFor(t, 10*lease, "the node to vouch again", func() bool {
				_, ok := s.Check("x", nil, time.Now())
				return ok && s.Ready(t.Context()) == nil
			})
		})
	}
}

// TestStoppedNodeLeaves: a node that stops leaves the roster at once and
// vouches for nothing afterwards.
func TestStoppedNodeLeaves(t *testing.T) {
	st := redistest.Open(t)
	s := revocation.New(st, revocation.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, 5*time.Second, "the set to synchronise", func() bool { return s.Ready(ctx) == nil })
	lag, err := st.RevocationLaggards(t.Context(), 1<<62)
	if err != nil || !slices.Contains(lag, s.Node()) {
		t.Fatalf("running node not on the roster: %v %v", lag, err)
	}
	cancel()
	<-done
	if _, ok := s.Check("x", nil, time.Now()); ok {
		t.Error("a stopped node still vouches")
	}
	lag, err = st.RevocationLaggards(t.Context(), 1<<62)
	if err != nil || slices.Contains(lag, s.Node()) {
		t.Errorf("stopped node still on the roster: %v %v", lag, err)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRevokeOfAnExpiringEntry: an entry that expires before a lagging
// node could read it needs no confirmation (nothing it matches is active
// anywhere), so the revocation succeeds once it has expired instead of
// waiting for a node that will never acknowledge it.
func TestRevokeOfAnExpiringEntry(t *testing.T) {
	st := redistest.Open(t)
	s := revocation.New(st, revocation.Options{})
	run(t, s)
	if _, err := st.AckRevocations(t.Context(), "lagging", 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r := &store.Revocation{Kind: store.RevokedToken, Key: "short", RevokedAt: now, ExpiresAt: now.Add(300 * time.Millisecond)}
	if err := s.Revoke(t.Context(), r); err != nil {
		t.Fatalf("Revoke of an entry that expired while a node lagged: %v", err)
	}
	if time.Now().Before(r.ExpiresAt) {
		t.Error("Revoke returned before the lagging node acknowledged and before the entry expired")
	}
}

// TestRevokeGivenUp: a caller that gives up while a node lags gets an
// error matching store.ErrUnavailable (a 503, not a 500), not success.
func TestRevokeGivenUp(t *testing.T) {
	st := redistest.Open(t)
	s := revocation.New(st, revocation.Options{})
	run(t, s)
	if _, err := st.AckRevocations(t.Context(), "lagging", 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := s.Revoke(ctx, tokenEntry("given-up"))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Revoke abandoned while a node lags = %v, want an error matching store.ErrUnavailable", err)
	}
	// Recorded all the same, and held here.
	if revoked, ok := s.Check("given-up", nil, time.Now()); !revoked || !ok {
		t.Errorf("abandoned revocation: revoked=%v ok=%v here", revoked, ok)
	}
	// A caller gone before the entry could even be recorded (the SQL
	// store checks the context first): the same.
	sq := revocation.New(sqltest.OpenSQLite(t), revocation.Options{})
	run(t, sq)
	gone, cancelGone := context.WithCancel(t.Context())
	cancelGone()
	if err := sq.Revoke(gone, tokenEntry("gone")); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Revoke with the caller gone = %v, want an error matching store.ErrUnavailable", err)
	}
}
