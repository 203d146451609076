package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/storetest"
)

// openRevocationPair opens two stores (two clients) on one fresh prefix,
// as two server processes would.
func openRevocationPair(t *testing.T) (a, b store.RevocationStore) {
	t.Helper()
	first, prefix := openWithPrefix(t)
	return first, openSamePrefix(t, redistest.URL(t), prefix)
}

func openSamePrefix(t *testing.T, redisURL, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(t.Context(), redisURL, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestRevocationContractSharedBackend runs the suite with every subtest on
// one pair of stores, as a server fleet shares one log.
func TestRevocationContractSharedBackend(t *testing.T) {
	a, b := openRevocationPair(t) // skips without Redis
	storetest.RunRevocations(t, func(*testing.T) (store.RevocationStore, store.RevocationStore) { return a, b })
}

func shortRevocation(ttl time.Duration) *store.Revocation {
	now := time.Now()
	return &store.Revocation{Kind: store.RevokedToken, Key: "jti-" + rand.Text(), RevokedAt: now, ExpiresAt: now.Add(ttl)}
}

// TestRevocationKeysBounded: expired entries leave the log and the key
// index on the next write, the log's keys vanish with their last entry,
// and the counter alone survives, so that Seqs keep growing. Every key
// shares one hash tag.
func TestRevocationKeysBounded(t *testing.T) {
	t.Parallel()
	s, prefix := openWithPrefix(t)
	ctx := t.Context()
	for range 5 {
		if err := s.Revoke(ctx, shortRevocation(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	long := shortRevocation(600 * time.Millisecond)
	if err := s.Revoke(ctx, long); err != nil {
		t.Fatal(err)
	}
	keys := keysByType(t, ctx, s.Client(), prefix)
	tag := "{" + prefix + "rv}"
	zsets := 0
	for k, typ := range keys {
		if !strings.HasPrefix(k, prefix+tag+":") {
			t.Errorf("key %s lacks hash tag %s", k, tag)
		}
		if typ == "zset" || typ == "hash" {
			zsets++
			if pttl := s.Client().PTTL(ctx, k).Val(); pttl <= 200*time.Millisecond || pttl > 601*time.Millisecond {
				t.Errorf("%s PTTL = %v, want the longest entry's (<= 600ms, > 200ms)", k, pttl)
			}
		}
	}
	if len(keys) != 4 || zsets != 3 {
		t.Fatalf("keys = %v, want a counter, two sorted sets and a hash", keys)
	}

	time.Sleep(250 * time.Millisecond)
	later := shortRevocation(100 * time.Millisecond)
	if err := s.Revoke(ctx, later); err != nil {
		t.Fatal(err)
	}
	for k, typ := range keysByType(t, ctx, s.Client(), prefix) {
		if n := s.Client().ZCard(ctx, k).Val(); typ == "zset" && n != 2 {
			t.Errorf("%s holds %d entries after 5 expired, want 2", k, n)
		}
		if n := s.Client().HLen(ctx, k).Val(); typ == "hash" && n != 2 {
			t.Errorf("%s holds %d keys after 5 entries expired, want 2", k, n)
		}
	}

	time.Sleep(time.Until(long.ExpiresAt) + 50*time.Millisecond)
	if keys := keysByType(t, ctx, s.Client(), prefix); len(keys) != 1 {
		t.Errorf("keys left after every entry expired: %v, want the counter only", keys)
	}
	next := shortRevocation(time.Hour)
	if err := s.Revoke(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.Seq <= later.Seq {
		t.Errorf("Seq after the log expired = %d, want above %d", next.Seq, later.Seq)
	}
}

// TestWatchRevocationsConnectionKilled: when Redis drops the watcher's
// connection, the watch ends with ErrUnavailable instead of resubscribing
// quietly and losing what was published meanwhile.
func TestWatchRevocationsConnectionKilled(t *testing.T) {
	t.Parallel()
	base := redistest.URL(t)
	name := "tollgate-watch-" + rand.Text()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("client_name", name)
	u.RawQuery = q.Encode()
	_, prefix := openWithPrefix(t)
	s := openSamePrefix(t, u.String(), prefix)
	admin := openSamePrefix(t, base, prefix).Client()

	errc, notes := startWatch(t, s)
	waitFor(t, notes, errc)
	var ids []string
	for _, line := range strings.Split(admin.ClientList(t.Context()).Val(), "\n") {
		if strings.Contains(line, " name="+name+" ") && strings.Contains(line, " sub=1 ") {
			id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("found %d subscribed connections named %s, want 1", len(ids), name)
	}
	if err := admin.Do(t.Context(), "CLIENT", "KILL", "ID", ids[0]).Err(); err != nil {
		t.Fatalf("CLIENT KILL: %v", err)
	}
	wantUnavailable(t, errc, 5*time.Second)
}

// TestWatchRevocationsSilentConnection: a connection that stops answering
// (a dead peer, a dropped route) is noticed by the PING health check.
func TestWatchRevocationsSilentConnection(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newBlackholeProxy(t, u.Host)
	u.Host = proxy.addr()
	_, prefix := openWithPrefix(t)
	s := openSamePrefix(t, u.String(), prefix)

	errc, notes := startWatch(t, s)
	waitFor(t, notes, errc)
	proxy.silence()
	wantUnavailable(t, errc, 6*time.Second)
}

func startWatch(t *testing.T, s *redisstore.Store) (<-chan error, <-chan struct{}) {
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	notes := make(chan struct{}, 1)
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
	return errc, notes
}

func waitFor(t *testing.T, notes <-chan struct{}, errc <-chan error) {
	t.Helper()
	select {
	case <-notes:
	case err := <-errc:
		t.Fatalf("WatchRevocations returned %v before its first notify", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no first notify")
	}
}

func wantUnavailable(t *testing.T, errc <-chan error, within time.Duration) {
	t.Helper()
	select {
	case err := <-errc:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("WatchRevocations = %v, want ErrUnavailable", err)
		}
	case <-time.After(within):
		t.Fatalf("WatchRevocations still running %v after its connection died", within)
	}
}

// blackholeProxy forwards TCP to Redis until silence, after which it keeps
// every connection open but drops all bytes, like a peer that vanished.
type blackholeProxy struct {
	ln     net.Listener
	silent atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newBlackholeProxy(t *testing.T, upstream string) *blackholeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{ln: ln}
	p.wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return // closed by cleanup
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			p.wg.Go(func() { p.pipe(up, down) })
			p.wg.Go(func() { p.pipe(down, up) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *blackholeProxy) addr() string { return p.ln.Addr().String() }

func (p *blackholeProxy) silence() { p.silent.Store(true) }

func (p *blackholeProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.silent.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			_ = dst.Close()
			return
		}
	}
}

// TestRevocationSeqSurvivesDataLoss: after Redis loses every key (a
// restart without persistence), new entries still get a Seq above every
// Seq handed out before, so readers resuming from their cursor miss none.
func TestRevocationSeqSurvivesDataLoss(t *testing.T) {
	t.Parallel()
	s, prefix := openWithPrefix(t)
	ctx := t.Context()
	before := shortRevocation(time.Hour)
	if err := s.Revoke(ctx, before); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys under the prefix: %v %v", keys, err)
	}
	if err := c.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	after := shortRevocation(time.Hour)
	if err := s.Revoke(ctx, after); err != nil {
		t.Fatal(err)
	}
	if after.Seq <= before.Seq {
		t.Fatalf("Seq %d after data loss, not above %d from before", after.Seq, before.Seq)
	}
	got, err := s.RevocationsSince(ctx, before.Seq, 10)
	if err != nil || len(got) != 1 || got[0].Key != after.Key {
		t.Fatalf("resuming from the old cursor: %v %v", got, err)
	}
}
