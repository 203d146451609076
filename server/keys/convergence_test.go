package keys

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

func TestManagersConvergeAfterRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, sealKey, c := newMemStore(), testSealKey(t), newClock()
	a := newTestManager(t, st, sealKey, c)
	b := newTestManager(t, st, sealKey, c)
	first := signerID(t, a)
	if signerID(t, b) != first {
		t.Fatal("second node generated its own key instead of using the stored one")
	}

	next, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, b); !slices.Equal(got, []string{first}) {
		t.Fatalf("b saw the rotation before Refresh: %v", got)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := jwksKIDs(t, b), sorted(first, next.ID); !slices.Equal(got, want) {
		t.Fatalf("b JWKS after Refresh = %v, want %v", got, want)
	}
	c.Advance(testPrePublish)
	if signerID(t, a) != next.ID || signerID(t, b) != next.ID {
		t.Fatal("nodes do not both hand over to the new key at its ActiveAt")
	}
	if string(a.JWKS()) != string(b.JWKS()) {
		t.Fatalf("JWKS differ:\n%s\n%s", a.JWKS(), b.JWKS())
	}
}

func TestConcurrentFirstLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, sealKey, c := newMemStore(), testSealKey(t), newClock()
	ms := make([]*Manager, 4)
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i := range ms {
		m, err := New(st, Options{SealKey: sealKey, Retain: testRetain, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
		wg.Go(func() { errs[i] = m.Load(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Load %d: %v", i, err)
		}
	}
	for _, m := range ms {
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := signerID(t, ms[0])
	for i, m := range ms {
		if got := signerID(t, m); got != want {
			t.Errorf("node %d signs with %s, node 0 with %s", i, got, want)
		}
		if string(m.JWKS()) != string(ms[0].JWKS()) {
			t.Errorf("node %d publishes another JWKS", i)
		}
	}
	// Every key any node signed with before Refresh stays verifiable.
	rows, _ := st.ListSigningKeys(ctx)
	for _, r := range rows {
		if _, _, ok := ms[0].PublicKey(r.ID); !ok {
			t.Errorf("key %s created at start is not published", r.ID)
		}
	}
}

func TestRotationInterruptedBeforeRetire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, sealKey, c := newMemStore(), testSealKey(t), newClock()
	m := newTestManager(t, st, sealKey, c)
	old := signerID(t, m)

	// A node stored the next key and crashed before retiring the old one.
	k, _ := GenerateKey(EdDSA)
	row, _ := seal(sealKey, k)
	row.CreatedAt, row.ActiveAt = c.Now(), c.Now().Add(testPrePublish)
	if err := st.CreateSigningKey(ctx, row); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if signerID(t, m) != old {
		t.Fatal("pending key signs early")
	}
	c.Advance(testPrePublish)
	if signerID(t, m) != k.ID {
		t.Fatal("new key does not take over at its ActiveAt")
	}
	c.Advance(testRetain)
	if got := jwksKIDs(t, m); !slices.Equal(got, []string{k.ID}) {
		t.Fatalf("JWKS = %v: the superseded key must leave after Retain", got)
	}
}

func TestRotateTwiceBeforeHandover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, c := newMemStore(), newClock()
	m := newTestManager(t, st, testSealKey(t), c)
	first := signerID(t, m)
	second, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	third, err := m.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range m.Keys() {
		if k.ID != third.ID && k.RetiredAt.IsZero() {
			t.Errorf("key %s left open after the second rotation", k.ID)
		}
	}
	c.Advance(testPrePublish - time.Minute)
	if got := signerID(t, m); got != second.ID {
		t.Fatalf("at the second key's ActiveAt %s signs, want %s", got, second.ID)
	}
	c.Advance(time.Minute)
	if got := signerID(t, m); got != third.ID {
		t.Fatalf("at the third key's ActiveAt %s signs, want %s", got, third.ID)
	}
	c.Advance(testRetain)
	if got := jwksKIDs(t, m); !slices.Equal(got, []string{third.ID}) || slices.Contains(got, first) {
		t.Fatalf("JWKS = %v, want only the third key", got)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	st, sealKey := newMemStore(), testSealKey(t)
	opts := Options{SealKey: sealKey, Retain: time.Hour} // real clock, no pre-publication
	a, _ := New(st, opts)
	b, _ := New(st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, m := range []*Manager{a, b} {
		if err := m.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { b.Run(ctx, 5*time.Millisecond) })

	next, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k, _ := b.Signer(); k.ID != next.ID; k, _ = b.Signer() {
		if time.Now().After(deadline) {
			t.Fatal("Run did not pick up the rotation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait() // Run returns once ctx is done
}

// failingStore fails ListSigningKeys on demand.
type failingStore struct {
	*memStore
	mu   sync.Mutex
	fail bool
}

func (s *failingStore) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return nil, store.ErrUnavailable
	}
	return s.memStore.ListSigningKeys(ctx)
}

func TestRefreshErrorKeepsKeys(t *testing.T) {
	t.Parallel()
	st := &failingStore{memStore: newMemStore()}
	m := newTestManager(t, st, testSealKey(t), newClock())
	kid := signerID(t, m)
	st.mu.Lock()
	st.fail = true
	st.mu.Unlock()
	if err := m.Refresh(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Refresh = %v, want the store error", err)
	}
	if signerID(t, m) != kid {
		t.Fatal("a failed Refresh dropped the keys")
	}
	if _, err := m.Rotate(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Rotate = %v, want the store error", err)
	}
}

func BenchmarkSigner(b *testing.B) {
	m, _ := New(newMemStore(), Options{SealKey: testSealKey(b), Retain: time.Hour})
	if err := m.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Signer(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJWKS(b *testing.B) {
	m, _ := New(newMemStore(), Options{SealKey: testSealKey(b), Retain: time.Hour})
	if err := m.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.JWKS()
	}
}
