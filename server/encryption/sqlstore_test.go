package encryption_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.PostgreSQL) }

type sqlClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sqlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *sqlClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRingOnSQLStore runs a key's whole life on the real stores: two
// nodes share the database, one rotates, both converge, and the old key is
// deleted once its retention is over.
func TestRingOnSQLStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{
		{"SQLite", func(t testing.TB) *sqlstore.Store { return sqltest.OpenSQLite(t) }},
		{"PostgreSQL", func(t testing.TB) *sqlstore.Store { return sqltest.OpenPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keyLife(t, tc.open(t))
		})
	}
}

func keyLife(t *testing.T, st store.AudienceStore) {
	ctx := context.Background()
	const prePublish, retain = time.Hour, 2 * time.Hour
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	c := &sqlClock{t: time.Now().Truncate(time.Second)}
	open := func() *encryption.Ring {
		r, err := encryption.New(st, encryption.Options{SealKey: seal, PrePublish: prePublish, Retain: retain, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := open(), open()
	if err := a.CreateAudience(ctx, &store.Audience{Name: "https://api.example.com", Encrypted: true}); err != nil {
		t.Fatal(err)
	}
	const aud = "https://api.example.com"
	const jws = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"
	old, err := a.Encrypt(aud, jws)
	if err != nil {
		t.Fatal(err)
	}
	if got, gotAud, err := b.Decrypt(ctx, old); err != nil || got != jws || gotAud != aud {
		t.Fatalf("the other node does not decrypt a new audience's token: %v", err)
	}
	next, err := a.RotateKey(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if string(a.DecryptionJWKS([]string{aud})) != string(b.DecryptionJWKS([]string{aud})) {
		t.Fatal("the nodes serve different key sets after Load")
	}
	c.Advance(prePublish)
	states := func(r *encryption.Ring) map[string]string {
		m := make(map[string]string)
		for _, k := range r.Keys(aud) {
			m[k.ID] = k.State
		}
		return m
	}
	if s := states(b); s[next.ID] != encryption.StateActive || len(s) != 2 {
		t.Fatalf("after PrePublish the keys are %v, want %s active and the old one retiring", s, next.ID)
	}
	if _, _, err := b.Decrypt(ctx, old); err != nil {
		t.Fatalf("a token of the superseded key no longer decrypts: %v", err)
	}
	c.Advance(retain)
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := st.ListAudienceKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids := idsOf(rows); !slices.Equal(ids, []string{next.ID}) {
		t.Fatalf("stored keys after retention = %v, want only %s", ids, next.ID)
	}
	if _, _, err := b.Decrypt(ctx, old); !errors.Is(err, encryption.ErrUndecryptable) {
		t.Fatalf("a token of the deleted key = %v, want ErrUndecryptable", err)
	}
}

func idsOf(rows []store.AudienceKey) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}
