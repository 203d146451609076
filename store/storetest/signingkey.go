package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunSigningKeys runs the store.SigningKeyStore contract. open is called
// once per subtest and must return an empty store.
func RunSigningKeys(t *testing.T, open func(t *testing.T) store.SigningKeyStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.SigningKeyStore)
	}{
		{"RoundTripEveryField", signingKeyRoundTrip},
		{"CallerBytesNotAliased", signingKeyNoAliasing},
		{"DuplicateIDConflict", signingKeyDuplicateID},
		{"ListOldestCreatedFirst", signingKeyListOrder},
		{"RetireSetsRetiredAt", signingKeyRetire},
		{"UnknownIDNotFound", signingKeyUnknown},
		{"DeleteThenAbsent", signingKeyDelete},
		{"ConcurrentCreateSameIDOneWins", signingKeyConcurrentID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// signingKeyNew returns a key created at fixtureTime(created).
func signingKeyNew(t *testing.T, id string, created time.Duration) *store.SigningKey {
	return &store.SigningKey{
		ID:         id,
		Algorithm:  "EdDSA",
		PrivateKey: fixtureBytes(t, 76),
		PublicKey:  fixtureBytes(t, 44),
		CreatedAt:  fixtureTime(created),
		ActiveAt:   fixtureTime(created + time.Hour),
	}
}

func signingKeyCompare(t *testing.T, what string, want, got *store.SigningKey) {
	t.Helper()
	var d fixtureDiff
	d.value("ID", want.ID, got.ID)
	d.value("Algorithm", want.Algorithm, got.Algorithm)
	d.bytes("PrivateKey", want.PrivateKey, got.PrivateKey)
	d.bytes("PublicKey", want.PublicKey, got.PublicKey)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("ActiveAt", want.ActiveAt, got.ActiveAt)
	d.time("RetiredAt", want.RetiredAt, got.RetiredAt)
	d.report(t, what)
}

// signingKeyList lists the keys and indexes them by ID.
func signingKeyList(t *testing.T, s store.SigningKeyStore) ([]store.SigningKey, map[string]*store.SigningKey) {
	t.Helper()
	keys, err := s.ListSigningKeys(t.Context())
	fixtureNoErr(t, "list", err)
	byID := make(map[string]*store.SigningKey, len(keys))
	for i := range keys {
		byID[keys[i].ID] = &keys[i]
	}
	return keys, byID
}

func signingKeyRoundTrip(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	active := signingKeyNew(t, "kid-active", 0)
	retired := signingKeyNew(t, "kid-retired", time.Minute)
	retired.Algorithm = "ES256"
	retired.RetiredAt = fixtureTime(24 * time.Hour)
	for _, k := range []*store.SigningKey{active, retired} {
		fixtureNoErr(t, "create "+k.ID, s.CreateSigningKey(ctx, k))
	}
	keys, byID := signingKeyList(t, s)
	if len(keys) != 2 {
		t.Fatalf("listed %d keys, want 2", len(keys))
	}
	for _, want := range []*store.SigningKey{active, retired} {
		got, ok := byID[want.ID]
		if !ok {
			t.Fatalf("key %s not listed", want.ID)
		}
		signingKeyCompare(t, want.ID, want, got)
	}
}

func signingKeyNoAliasing(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	k := signingKeyNew(t, "kid", 0)
	want := *k
	want.PrivateKey = slices.Clone(k.PrivateKey)
	want.PublicKey = slices.Clone(k.PublicKey)
	fixtureNoErr(t, "create", s.CreateSigningKey(ctx, k))
	k.PrivateKey[0] ^= 0xff

	keys, _ := signingKeyList(t, s)
	keys[0].PublicKey[0] ^= 0xff
	_, byID := signingKeyList(t, s)
	signingKeyCompare(t, "listed again", &want, byID["kid"])
}

func signingKeyDuplicateID(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	first := signingKeyNew(t, "kid", 0)
	fixtureNoErr(t, "create", s.CreateSigningKey(ctx, first))
	fixtureWantErr(t, "create same ID", s.CreateSigningKey(ctx, signingKeyNew(t, "kid", time.Hour)), store.ErrConflict)
	keys, byID := signingKeyList(t, s)
	if len(keys) != 1 {
		t.Fatalf("listed %d keys, want 1", len(keys))
	}
	signingKeyCompare(t, "after conflict", first, byID["kid"])
}

func signingKeyListOrder(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	keys, _ := signingKeyList(t, s)
	if len(keys) != 0 {
		t.Fatalf("empty store listed %d keys", len(keys))
	}
	// Created out of order; IDs sort opposite to age; two keys are a
	// microsecond apart.
	created := map[string]time.Duration{
		"a": 72 * time.Hour,
		"b": 48 * time.Hour,
		"c": time.Microsecond,
		"d": 0,
		"e": -24 * time.Hour,
	}
	for _, id := range []string{"c", "a", "e", "d", "b"} {
		fixtureNoErr(t, "create "+id, s.CreateSigningKey(ctx, signingKeyNew(t, id, created[id])))
	}
	keys, _ = signingKeyList(t, s)
	var got []string
	for _, k := range keys {
		got = append(got, k.ID)
	}
	if want := []string{"e", "d", "c", "b", "a"}; !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
}

func signingKeyRetire(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	k := signingKeyNew(t, "kid", 0)
	other := signingKeyNew(t, "other", time.Hour)
	fixtureNoErr(t, "create", s.CreateSigningKey(ctx, k))
	fixtureNoErr(t, "create other", s.CreateSigningKey(ctx, other))

	at := fixtureTime(7 * 24 * time.Hour)
	fixtureNoErr(t, "retire", s.RetireSigningKey(ctx, k.ID, at))
	_, byID := signingKeyList(t, s)
	want := *k
	want.RetiredAt = at
	signingKeyCompare(t, "retired", &want, byID[k.ID])
	signingKeyCompare(t, "untouched", other, byID[other.ID])

	// Retiring again moves the time.
	later := at.Add(time.Hour)
	fixtureNoErr(t, "retire again", s.RetireSigningKey(ctx, k.ID, later))
	_, byID = signingKeyList(t, s)
	want.RetiredAt = later
	signingKeyCompare(t, "retired again", &want, byID[k.ID])
}

func signingKeyUnknown(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateSigningKey(ctx, signingKeyNew(t, "kid", 0)))
	fixtureWantErr(t, "retire", s.RetireSigningKey(ctx, "missing", fixtureTime(0)), store.ErrNotFound)
	fixtureWantErr(t, "delete", s.DeleteSigningKey(ctx, "missing"), store.ErrNotFound)
	keys, _ := signingKeyList(t, s)
	if len(keys) != 1 {
		t.Errorf("listed %d keys, want 1", len(keys))
	}
}

func signingKeyDelete(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	kept := signingKeyNew(t, "kept", 0)
	fixtureNoErr(t, "create kept", s.CreateSigningKey(ctx, kept))
	fixtureNoErr(t, "create doomed", s.CreateSigningKey(ctx, signingKeyNew(t, "doomed", time.Hour)))
	fixtureNoErr(t, "delete", s.DeleteSigningKey(ctx, "doomed"))
	keys, byID := signingKeyList(t, s)
	if len(keys) != 1 || byID["kept"] == nil {
		t.Fatalf("after delete listed %d keys, want only kept", len(keys))
	}
	fixtureWantErr(t, "delete again", s.DeleteSigningKey(ctx, "doomed"), store.ErrNotFound)
	fixtureWantErr(t, "retire deleted", s.RetireSigningKey(ctx, "doomed", fixtureTime(0)), store.ErrNotFound)
	// The ID is free again.
	fixtureNoErr(t, "recreate", s.CreateSigningKey(ctx, signingKeyNew(t, "doomed", 2*time.Hour)))
}

func signingKeyConcurrentID(t *testing.T, s store.SigningKeyStore) {
	ctx := t.Context()
	const n = 16
	ks := make([]*store.SigningKey, n)
	for i := range ks {
		ks[i] = signingKeyNew(t, "contested", time.Duration(i)*time.Second)
	}
	errs := fixtureRace(n, func(i int) error { return s.CreateSigningKey(ctx, ks[i]) })
	win := fixtureOneWinner(t, errs, store.ErrConflict)
	keys, _ := signingKeyList(t, s)
	if len(keys) != 1 {
		t.Fatalf("listed %d keys, want 1", len(keys))
	}
	signingKeyCompare(t, fmt.Sprintf("winner %d", win), ks[win], &keys[0])
}
