package sqlstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// openRevocationPair returns the contract's open func for dialect: two
// Stores on one new, migrated database, as two processes would open it.
func openRevocationPair(dialect string) func(t *testing.T) (a, b store.RevocationStore) {
	return func(t *testing.T) (a, b store.RevocationStore) {
		stores := openShared(t, dialect, 2, sqlstore.Options{})
		mustDo(t, "Migrate", stores[0].Migrate(t.Context()))
		return stores[0], stores[1]
	}
}

func newRevocation(ttl time.Duration) *store.Revocation {
	now := time.Now().UTC()
	return &store.Revocation{Kind: store.RevokedToken, Key: "jti-" + rand.Text(),
		RevokedAt: now, ExpiresAt: now.Add(ttl)}
}

// TestRevocationSeqNotReusedAfterPurge: once DeleteExpired has purged the
// newest entries, the next Seq is still above them; a reusing rowid would
// hide new entries from every reader whose cursor is past it.
func TestRevocationSeqNotReusedAfterPurge(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := t.Context()
			live := newRevocation(time.Hour)
			mustDo(t, "revoke live", s.Revoke(ctx, live))
			short := newRevocation(200 * time.Millisecond)
			mustDo(t, "revoke short", s.Revoke(ctx, short))

			n, err := s.DeleteExpired(ctx, short.ExpiresAt)
			mustDo(t, "DeleteExpired", err)
			if n != 1 {
				t.Errorf("DeleteExpired removed %d rows, want 1", n)
			}
			next := newRevocation(time.Hour)
			mustDo(t, "revoke after purge", s.Revoke(ctx, next))
			if next.Seq <= short.Seq {
				t.Errorf("Seq after purge = %d, want > %d", next.Seq, short.Seq)
			}
			got, err := s.RevocationsSince(ctx, 0, 10)
			mustDo(t, "RevocationsSince", err)
			if len(got) != 2 || got[0].Seq != live.Seq || got[1].Seq != next.Seq {
				t.Errorf("entries after purge = %+v, want Seqs %d and %d", got, live.Seq, next.Seq)
			}
		})
	}
}

func TestRevocationsUseInjectedClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Now().UTC()
	stores := openShared(t, sqlstore.DialectSQLite, 1, sqlstore.Options{Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}})
	s := stores[0]
	mustDo(t, "Migrate", s.Migrate(t.Context()))
	r := newRevocation(time.Minute)
	mustDo(t, "Revoke", s.Revoke(t.Context(), r))

	mu.Lock()
	clock = r.ExpiresAt
	mu.Unlock()
	if got, err := s.RevocationsSince(t.Context(), 0, 10); err != nil || len(got) != 0 {
		t.Errorf("RevocationsSince at expiry = %+v, %v; want none", got, err)
	}
	late := newRevocation(30 * time.Second) // expired by the store's clock
	mustDo(t, "Revoke", s.Revoke(t.Context(), late))
	if late.Seq != 0 {
		t.Errorf("entry expired by the injected clock recorded with Seq %d", late.Seq)
	}
}

// TestWatchRevocationsSameStoreIsImmediate: with polling all but off, a
// Revoke through the watcher's own Store still wakes it.
func TestWatchRevocationsSameStoreIsImmediate(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			stores := openShared(t, b.name, 1, sqlstore.Options{RevocationPoll: time.Hour})
			s := stores[0]
			mustDo(t, "Migrate", s.Migrate(t.Context()))
			notes, errc := watch(t, s)
			waitNote(t, notes, errc, 5*time.Second)
			mustDo(t, "Revoke", s.Revoke(t.Context(), newRevocation(time.Hour)))
			waitNote(t, notes, errc, time.Second)
		})
	}
}

// TestWatchRevocationsUnavailable: when the database goes away under a
// watch, the watch ends with ErrUnavailable rather than going quiet.
func TestWatchRevocationsUnavailable(t *testing.T) {
	t.Parallel()
	dbURL, _ := sqltest.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr()
	s, err := sqlstore.Open(t.Context(), u.String(), sqlstore.Options{RevocationPoll: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mustDo(t, "Migrate", s.Migrate(t.Context()))

	notes, errc := watch(t, s)
	waitNote(t, notes, errc, 5*time.Second)
	proxy.kill()
	select {
	case err := <-errc:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("WatchRevocations = %v, want ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchRevocations did not end after the database went away")
	}
}

// watch runs s.WatchRevocations until the test ends. Each notify is sent on
// the first channel (coalesced); the result on the second.
func watch(t *testing.T, s *sqlstore.Store) (<-chan struct{}, <-chan error) {
	ctx, cancel := context.WithCancel(t.Context())
	notes := make(chan struct{}, 1)
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		errc <- s.WatchRevocations(ctx, func() {
			select {
			case notes <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return notes, errc
}

func waitNote(t *testing.T, notes <-chan struct{}, errc <-chan error, within time.Duration) {
	t.Helper()
	select {
	case <-notes:
	case err := <-errc:
		t.Fatalf("WatchRevocations returned %v", err)
	case <-time.After(within):
		t.Fatalf("no notify within %v", within)
	}
}

// tcpProxy forwards connections to a database until kill, which closes
// its listener and every connection, as a lost network would.
type tcpProxy struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	p.wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return // killed
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			p.wg.Go(func() { _, _ = io.Copy(up, down); _ = up.Close() })
			p.wg.Go(func() { _, _ = io.Copy(down, up); _ = down.Close() })
		}
	})
	t.Cleanup(p.kill)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) kill() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
