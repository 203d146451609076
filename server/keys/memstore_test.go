package keys

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tollgate/tollgate/store"
)

// memStore is an in-memory store.SigningKeyStore for these tests. The SQL
// implementation lives in store/sqlstore and passes the storetest contract;
// this fake only lets the key lifecycle be tested without that package.
type memStore struct {
	mu   sync.Mutex
	keys map[string]store.SigningKey
}

var _ store.SigningKeyStore = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{keys: make(map[string]store.SigningKey)} }

func cloneRow(k store.SigningKey) store.SigningKey {
	k.PrivateKey = bytes.Clone(k.PrivateKey)
	k.PublicKey = bytes.Clone(k.PublicKey)
	return k
}

func (s *memStore) CreateSigningKey(_ context.Context, k *store.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return store.ErrConflict
	}
	s.keys[k.ID] = cloneRow(*k)
	return nil
}

func (s *memStore) ListSigningKeys(context.Context) ([]store.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, cloneRow(k))
	}
	slices.SortFunc(out, func(a, b store.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (s *memStore) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return store.ErrNotFound
	}
	k.RetiredAt = at
	s.keys[id] = k
	return nil
}

func (s *memStore) DeleteSigningKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return store.ErrNotFound
	}
	delete(s.keys, id)
	return nil
}

// update changes a stored row in place, as an attacker with database
// access or a buggy migration would.
func (s *memStore) update(id string, f func(*store.SigningKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[id]
	f(&k)
	s.keys[id] = k
}
