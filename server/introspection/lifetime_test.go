package introspection_test

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

var backends = []struct {
	name string
	open func(testing.TB) *sqlstore.Store
}{
	{"sqlite", sqltest.OpenSQLite},
	{"postgres", sqltest.OpenPostgres},
}

const testIssuer = "https://issuer.test"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rosterless hides the store's roster from the revocation set, whose
// lease runs on the set's clock, which these tests move.
type rosterless struct{ store.RevocationStore }

// countingClients is the real client store, counting reads.
type countingClients struct {
	store.ClientStore
	reads atomic.Int64
}

func (c *countingClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	c.reads.Add(1)
	return c.ClientStore.GetClient(ctx, id)
}

// fixture is an introspector over real keys, a synchronised revocation set
// and a real store, on an injected clock.
type fixture struct {
	st      *sqlstore.Store
	clk     *clock
	km      *keys.Manager
	clients *countingClients
	set     *revocation.Set
	in      *introspection.Introspector
}

func newFixture(t *testing.T, st *sqlstore.Store, retain time.Duration) *fixture {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	km, err := keys.New(st, keys.Options{SealKey: seal, PrePublish: time.Minute, Retain: retain, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	set := revocation.New(rosterless{st}, revocation.Options{Now: clk.Now, Resync: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { set.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); set.Ready(t.Context()) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("revocation set not ready")
		}
	}
	clients := &countingClients{ClientStore: st}
	in := introspection.New(introspection.Options{Keys: km, Revocations: set, Refresh: st, Clients: clients, Issuer: testIssuer, Now: clk.Now})
	return &fixture{st: st, clk: clk, km: km, clients: clients, set: set, in: in}
}

// mint signs a token for clientID with the key signing now.
func (f *fixture) mint(t *testing.T, clientID, apiKeyID string, ttl time.Duration) string {
	t.Helper()
	k, err := f.km.Signer()
	if err != nil {
		t.Fatal(err)
	}
	now := f.clk.Now()
	tok, err := accesstoken.Sign(k, &accesstoken.Claims{Issuer: testIssuer, Subject: clientID, Audience: []string{"api"},
		IssuedAt: now, ExpiresAt: now.Add(ttl), ID: accesstoken.NewJTI(), ClientID: clientID, APIKeyID: apiKeyID})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) active(t *testing.T, tok string) bool {
	t.Helper()
	r, err := f.in.Introspect(t.Context(), tok, "")
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	return r.Active
}

// TestTokenOfDeletedClientIsInactive: a token whose client no longer
// exists is never active, even with no revocation entry covering it (one
// issued before lifetimes were tracked). A client known to exist costs no
// store read; only an unknown one does.
func TestTokenOfDeletedClientIsInactive(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.open(t), time.Hour)
			ctx := t.Context()
			now := f.clk.Now()
			if err := f.st.CreateClient(ctx, &store.Client{ID: "c1", Name: "svc", SecretHash: []byte{1}, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			tok := f.mint(t, "c1", "", time.Hour)
			for i := range 3 {
				if !f.active(t, tok) {
					t.Fatalf("introspection %d of a live client's token: inactive", i+1)
				}
			}
			if n := f.clients.reads.Load(); n != 1 {
				t.Errorf("three introspections read the client %d times, want once", n)
			}
			// Deleted behind the revocation set's back: no entry covers it.
			if err := f.st.DeleteClient(ctx, "c1"); err != nil {
				t.Fatal(err)
			}
			f.clk.Advance(11 * time.Second)
			for i := range 2 {
				if f.active(t, tok) {
					t.Errorf("introspection %d after the client was deleted: active", i+1)
				}
			}
			// A user's API key is its token's client: no client to find.
			userKeyTok := f.mint(t, "key_u1", "key_u1", time.Hour)
			before := f.clients.reads.Load()
			if !f.active(t, userKeyTok) {
				t.Error("a user API key's token is inactive")
			}
			if n := f.clients.reads.Load() - before; n != 0 {
				t.Errorf("a user API key's token read clients %d times, want none", n)
			}
		})
	}
}

// TestCachedClaimsDroppedWhenKeyWithdrawn: once a key leaves the JWKS,
// introspection stops vouching for tokens it signed, even those whose
// verified claims it has cached.
func TestCachedClaimsDroppedWhenKeyWithdrawn(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.open(t), 2*time.Minute)
			ctx := t.Context()
			now := f.clk.Now()
			if err := f.st.CreateClient(ctx, &store.Client{ID: "c1", Name: "svc", SecretHash: []byte{1}, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			old, _ := f.km.Signer()
			// Longer-lived than the key is retained for.
			tok := f.mint(t, "c1", "", time.Hour)
			if !f.active(t, tok) {
				t.Fatal("new token inactive")
			}
			if _, err := f.km.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			f.clk.Advance(time.Minute) // the new key signs; the old one is retired
			fresh := f.mint(t, "c1", "", time.Hour)
			if !f.active(t, tok) {
				t.Fatal("token of a retired, still published key inactive")
			}
			f.clk.Advance(2*time.Minute + time.Second)
			if _, _, ok := f.km.PublicKey(old.ID); ok {
				t.Fatal("the old key is still published; the test needs it withdrawn")
			}
			if f.active(t, tok) {
				t.Error("token of a withdrawn key still active (from the cache)")
			}
			if !f.active(t, fresh) {
				t.Error("token of the signing key inactive")
			}
		})
	}
}
