package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

func apiKeyTouch(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	never := apiKeyFull(t, "key_never", store.OwnerUser, "u1")
	never.LastUsedAt = time.Time{}
	later := apiKeyFull(t, "key_later", store.OwnerClient, "c1")
	later.LastUsedAt = fixtureTime(time.Hour)
	untouched := apiKeyFull(t, "key_untouched", store.OwnerUser, "u1")
	for _, k := range []*store.APIKey{never, later, untouched} {
		fixtureNoErr(t, "create "+k.ID, s.Keys.CreateAPIKey(ctx, k))
	}

	steps := []struct {
		name  string
		touch map[string]time.Time
		never time.Time // want LastUsedAt of never and later afterwards
		later time.Time
	}{
		{"FirstUseAndStaleUse", map[string]time.Time{
			never.ID: fixtureTime(10 * time.Minute), later.ID: fixtureTime(30 * time.Minute), "key_missing": fixtureTime(0),
		}, fixtureTime(10 * time.Minute), fixtureTime(time.Hour)},
		{"OlderBatchArrivesLate", map[string]time.Time{never.ID: fixtureTime(5 * time.Minute)},
			fixtureTime(10 * time.Minute), fixtureTime(time.Hour)},
		{"NewerUse", map[string]time.Time{never.ID: fixtureTime(20*time.Minute + 1500), later.ID: fixtureTime(2 * time.Hour)},
			fixtureTime(20*time.Minute + 1500), fixtureTime(2 * time.Hour)},
		{"SameTimeAgain", map[string]time.Time{later.ID: fixtureTime(2 * time.Hour)},
			fixtureTime(20*time.Minute + 1500), fixtureTime(2 * time.Hour)},
		{"EmptyBatch", map[string]time.Time{}, fixtureTime(20*time.Minute + 1500), fixtureTime(2 * time.Hour)},
		{"NilBatch", nil, fixtureTime(20*time.Minute + 1500), fixtureTime(2 * time.Hour)},
		{"OnlyUnknownIDs", map[string]time.Time{"key_a": fixtureTime(9 * time.Hour), "": fixtureTime(9 * time.Hour)},
			fixtureTime(20*time.Minute + 1500), fixtureTime(2 * time.Hour)},
	}
	for _, step := range steps {
		fixtureNoErr(t, "touch "+step.name, s.Keys.TouchAPIKeys(ctx, step.touch))
		never.LastUsedAt, later.LastUsedAt = step.never, step.later
		// Nothing but LastUsedAt changes.
		apiKeyCheckStored(t, s.Keys, never)
		apiKeyCheckStored(t, s.Keys, later)
		apiKeyCheckStored(t, s.Keys, untouched)
		if t.Failed() {
			t.Fatalf("after step %s", step.name)
		}
	}
	_, err := s.Keys.GetAPIKey(ctx, "key_missing")
	fixtureWantErr(t, "touched unknown ID", err, store.ErrNotFound)
}

// apiKeyConcurrentTouch: batches flushed at once by several processes,
// over overlapping keys in every order, leave each key at the latest time
// any of them carried.
func apiKeyConcurrentTouch(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	const keys, batches = 6, 12
	ids := make([]string, keys)
	for i := range ids {
		ids[i] = fmt.Sprintf("key_%d", i)
		fixtureNoErr(t, "create "+ids[i], s.Keys.CreateAPIKey(ctx, apiKeyMinimal(t, ids[i], store.OwnerUser, "u1")))
	}
	touches := make([]map[string]time.Time, batches)
	latest := map[string]time.Time{}
	for b := range touches {
		touches[b] = map[string]time.Time{}
		for _, i := range rand.Perm(keys)[:keys-b%3] {
			at := fixtureTime(time.Duration(rand.IntN(1_000_000)) * time.Millisecond)
			touches[b][ids[i]] = at
			if at.After(latest[ids[i]]) {
				latest[ids[i]] = at
			}
		}
	}
	for round := range 3 {
		errs := fixtureRace(batches, func(b int) error { return s.Keys.TouchAPIKeys(ctx, touches[b]) })
		for b, err := range errs {
			fixtureNoErr(t, fmt.Sprintf("round %d: touch batch %d", round, b), err)
		}
	}
	for _, id := range ids {
		got, err := s.Keys.GetAPIKey(ctx, id)
		fixtureNoErr(t, "get "+id, err)
		if !fixtureSameTime(latest[id], got.LastUsedAt) {
			t.Errorf("%s: LastUsedAt = %v, want the latest touch %v", id, got.LastUsedAt, latest[id])
		}
	}
}
