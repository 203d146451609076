package encryption

import (
	"bytes"
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/store"
)

// memStore is an in-memory store.AudienceStore for these tests. The SQL
// implementation lives in store/sqlstore and passes the storetest
// contract; this fake only lets the key lifecycle be tested without it.
type memStore struct {
	mu   sync.Mutex
	auds map[string]store.Audience
	keys map[string]store.AudienceKey
	// lists counts ListAudienceKeys calls, to see reloads.
	lists atomic.Int64
	// keyless counts writes that left an audience encrypted without an
	// open key: a node loading then could not encrypt its tokens.
	keyless atomic.Int64
}

// check counts a keyless encrypted audience. s.mu is held.
func (s *memStore) check(a store.Audience) {
	if !a.Encrypted {
		return
	}
	for _, k := range s.keys {
		if k.Audience == a.Name && k.RetiredAt.IsZero() {
			return
		}
	}
	s.keyless.Add(1)
}

var _ store.AudienceStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{auds: make(map[string]store.Audience), keys: make(map[string]store.AudienceKey)}
}

func cloneKey(k store.AudienceKey) store.AudienceKey {
	k.PrivateKey = bytes.Clone(k.PrivateKey)
	k.PublicKey = bytes.Clone(k.PublicKey)
	return k
}

func (s *memStore) CreateAudience(_ context.Context, a *store.Audience) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.auds[a.Name]; ok {
		return store.ErrConflict
	}
	s.auds[a.Name] = *a
	s.check(*a)
	return nil
}

func (s *memStore) GetAudience(_ context.Context, name string) (*store.Audience, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.auds[name]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &a, nil
}

func (s *memStore) ListAudiences(context.Context) ([]store.Audience, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.SortedFunc(maps.Values(s.auds), func(a, b store.Audience) int { return cmp.Compare(a.Name, b.Name) }), nil
}

func (s *memStore) UpdateAudience(_ context.Context, a *store.Audience) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.auds[a.Name]
	if !ok {
		return store.ErrNotFound
	}
	old.Encrypted, old.KeyAlgorithm, old.UpdatedAt = a.Encrypted, a.KeyAlgorithm, a.UpdatedAt
	s.auds[a.Name] = old
	s.check(old)
	return nil
}

func (s *memStore) DeleteAudience(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.auds[name]; !ok {
		return store.ErrNotFound
	}
	delete(s.auds, name)
	maps.DeleteFunc(s.keys, func(_ string, k store.AudienceKey) bool { return k.Audience == name })
	return nil
}

func (s *memStore) CreateAudienceKey(_ context.Context, k *store.AudienceKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return store.ErrConflict
	}
	if _, ok := s.auds[k.Audience]; !ok {
		return store.ErrNotFound
	}
	s.keys[k.ID] = cloneKey(*k)
	return nil
}

func (s *memStore) ListAudienceKeys(context.Context) ([]store.AudienceKey, error) {
	s.lists.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.AudienceKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, cloneKey(k))
	}
	slices.SortFunc(out, func(a, b store.AudienceKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (s *memStore) RetireAudienceKey(_ context.Context, id string, at time.Time) error {
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

func (s *memStore) DeleteAudienceKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return store.ErrNotFound
	}
	delete(s.keys, id)
	return nil
}

// update changes a stored key in place, as an attacker with database
// access or a buggy migration would.
func (s *memStore) update(id string, f func(*store.AudienceKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[id]
	f(&k)
	s.keys[id] = k
}

func (s *memStore) keyIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.keys))
}
