package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// openAPIKeyStores returns RunAPIKeys' open func: one new store serving
// keys and their owners.
func openAPIKeyStores(open func(testing.TB) *sqlstore.Store) func(t *testing.T) (store.APIKeyStore, store.UserStore, store.ClientStore) {
	return func(t *testing.T) (store.APIKeyStore, store.UserStore, store.ClientStore) {
		s := open(t)
		return s, s, s
	}
}

// TestTouchAPIKeysAcrossStores: two processes flushing overlapping
// batches at once neither deadlock (PostgreSQL) nor hit a busy database
// (SQLite), and the latest time wins.
func TestTouchAPIKeysAcrossStores(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			stores := openShared(t, b.name, 2, sqlstore.Options{})
			ctx := t.Context()
			mustDo(t, "Migrate", stores[0].Migrate(ctx))
			mustDo(t, "CreateUser", stores[0].CreateUser(ctx, &store.User{ID: "u1", Username: "alice", PasswordHash: "h"}))
			const keys, rounds = 20, 30
			for i := range keys {
				k := &store.APIKey{ID: fmt.Sprintf("key_%02d", i), OwnerKind: store.OwnerUser, OwnerID: "u1",
					Hash: []byte{byte(i)}, CreatedAt: time.Now()}
				mustDo(t, "CreateAPIKey", stores[0].CreateAPIKey(ctx, k))
			}
			base := time.Now().UTC().Truncate(time.Microsecond)
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for r := range rounds {
						batch := map[string]time.Time{}
						for i := range keys {
							// Writers disagree about every key's time.
							batch[fmt.Sprintf("key_%02d", (i+w*5)%keys)] = base.Add(time.Duration(r*10+w) * time.Millisecond)
						}
						if err := stores[w%2].TouchAPIKeys(ctx, batch); err != nil {
							t.Errorf("writer %d round %d: %v", w, r, err)
							return
						}
					}
				})
			}
			wg.Wait()
			want := base.Add(time.Duration((rounds-1)*10+3) * time.Millisecond)
			ks, err := stores[1].ListAPIKeys(ctx, "", "", "", 100)
			mustDo(t, "ListAPIKeys", err)
			for _, k := range ks {
				if !k.LastUsedAt.Equal(want) {
					t.Errorf("%s: LastUsedAt = %v, want %v", k.ID, k.LastUsedAt, want)
				}
			}
		})
	}
}
