package clientcache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/clientcache"
	"github.com/tollgate/tollgate/store/redisstore/redistest"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
	"github.com/tollgate/tollgate/store/storetest"
)

// running starts c's watch until the test ends and waits until it serves
// from memory.
func running(t *testing.T, c *clientcache.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for !c.Live() {
		if time.Now().After(deadline) {
			t.Fatal("cache never went live")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// counting counts reads that reach the database.
type counting struct {
	store.ClientStore
	gets atomic.Int64
}

func (c *counting) GetClient(ctx context.Context, id string) (*store.Client, error) {
	c.gets.Add(1)
	return c.ClientStore.GetClient(ctx, id)
}

func TestContract(t *testing.T) {
	storetest.RunClients(t, func(t *testing.T) store.ClientStore {
		inner := &counting{ClientStore: sqltest.OpenSQLite(t)}
		c := clientcache.New(inner, redistest.Open(t), clientcache.Options{})
		running(t, c)
		return c
	})
}

// TestChangesReachEveryNode: two nodes share a database and Redis; a change
// made through one is seen by the other at once, and cached reads cost no
// database round trip.
func TestChangesReachEveryNode(t *testing.T) {
	ctx := context.Background()
	db := sqltest.OpenSQLite(t)
	r := redistest.Open(t)
	innerA, innerB := &counting{ClientStore: db}, &counting{ClientStore: db}
	a := clientcache.New(innerA, r, clientcache.Options{})
	b := clientcache.New(innerB, r, clientcache.Options{})
	running(t, a)
	running(t, b)

	cl := &store.Client{ID: "c1", Name: "one", SecretHash: []byte{1}, Scopes: []string{"a"}}
	// Written straight to the database: a create through A would send a
	// notification that may reach B at any later moment (under load, in
	// the middle of the reads below) and rightly make it read once more.
	if err := db.CreateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetClient(ctx, "c1"); err != nil { // fills B's cache
		t.Fatal(err)
	}
	before := innerB.gets.Load()
	for range 100 {
		if _, err := b.GetClient(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := innerB.gets.Load() - before; n != 0 {
		t.Errorf("%d cached reads reached the database", n)
	}

	cl.Scopes = []string{"a", "b"}
	if err := a.UpdateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		got, err := b.GetClient(ctx, "c1")
		if err == nil && len(got.Scopes) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B still serves the old client: %+v %v", got, err)
		}
		time.Sleep(time.Millisecond)
	}
	if err := a.DeleteClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Second)
	for {
		if _, err := b.GetClient(ctx, "c1"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node B still serves a deleted client")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBypassedUntilSubscribed: before Run has subscribed, every read goes
// to the database.
func TestBypassedUntilSubscribed(t *testing.T) {
	ctx := context.Background()
	inner := &counting{ClientStore: sqltest.OpenSQLite(t)}
	c := clientcache.New(inner, redistest.Open(t), clientcache.Options{})
	if err := c.CreateClient(ctx, &store.Client{ID: "x", Name: "x", SecretHash: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.GetClient(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if inner.gets.Load() != 3 {
		t.Errorf("%d database reads for 3 uncached reads", inner.gets.Load())
	}
}
