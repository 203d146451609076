package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunAudiences runs the store.AudienceStore contract. open is called once
// per subtest and must return an empty store.
func RunAudiences(t *testing.T, open func(t *testing.T) store.AudienceStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.AudienceStore)
	}{
		{"RoundTripEveryField", audienceRoundTrip},
		{"RoundTripZeroValues", audienceRoundTripZero},
		{"KeyBytesNotAliased", audienceKeyNoAliasing},
		{"DuplicateNameConflict", audienceDuplicate},
		{"DuplicateKeyIDConflict", audienceKeyDuplicate},
		{"UnknownNotFound", audienceUnknown},
		{"KeyOfUnknownAudienceNotFound", audienceKeyOrphan},
		{"ListAudiencesInNameOrder", audienceList},
		{"ListKeysOldestFirstThenID", audienceKeyList},
		{"UpdateReplacesEncryptedAlgorithmUpdatedAt", audienceUpdate},
		{"DeleteAudienceDeletesItsKeysOnly", audienceDeleteCascade},
		{"RetireSetsAndClearsRetiredAt", audienceKeyRetire},
		{"DeleteKey", audienceKeyDelete},
		{"ConcurrentCreateSameNameOneWins", audienceConcurrentName},
		{"ConcurrentCreateSameKeyIDOneWins", audienceKeyConcurrentID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

func audienceFull(name string) *store.Audience {
	return &store.Audience{
		Name: name, Encrypted: true, KeyAlgorithm: store.KeyRSAOAEP256,
		CreatedAt: fixtureTime(0), UpdatedAt: fixtureTime(time.Hour),
	}
}

func audienceKeyFull(t *testing.T, id, aud string, created time.Duration) *store.AudienceKey {
	return &store.AudienceKey{
		ID: id, Audience: aud, Algorithm: store.KeyECDHES,
		PrivateKey: fixtureBytes(t, 96), PublicKey: fixtureBytes(t, 91),
		CreatedAt: fixtureTime(created), ActiveAt: fixtureTime(created + 10*time.Minute), RetiredAt: fixtureTime(created + 24*time.Hour),
	}
}

func audienceCompare(t *testing.T, what string, want, got *store.Audience, createdAt time.Time) {
	t.Helper()
	var d fixtureDiff
	d.value("Name", want.Name, got.Name)
	d.value("Encrypted", want.Encrypted, got.Encrypted)
	d.value("KeyAlgorithm", want.KeyAlgorithm, got.KeyAlgorithm)
	d.time("CreatedAt", createdAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	d.report(t, what)
}

func audienceKeyCompare(t *testing.T, what string, want, got *store.AudienceKey) {
	t.Helper()
	var d fixtureDiff
	d.value("ID", want.ID, got.ID)
	d.value("Audience", want.Audience, got.Audience)
	d.value("Algorithm", want.Algorithm, got.Algorithm)
	d.bytes("PrivateKey", want.PrivateKey, got.PrivateKey)
	d.bytes("PublicKey", want.PublicKey, got.PublicKey)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("ActiveAt", want.ActiveAt, got.ActiveAt)
	d.time("RetiredAt", want.RetiredAt, got.RetiredAt)
	d.report(t, what)
}

// audienceKeysNamed returns the keys of list by ID; it fails on a
// duplicate.
func audienceKeysNamed(t *testing.T, list []store.AudienceKey) map[string]*store.AudienceKey {
	t.Helper()
	m := map[string]*store.AudienceKey{}
	for i := range list {
		if _, dup := m[list[i].ID]; dup {
			t.Fatalf("key %q listed twice", list[i].ID)
		}
		m[list[i].ID] = &list[i]
	}
	return m
}

func audienceKeyIDs(t *testing.T, s store.AudienceStore) []string {
	t.Helper()
	list, err := s.ListAudienceKeys(t.Context())
	fixtureNoErr(t, "list keys", err)
	ids := make([]string, 0, len(list))
	for _, k := range list {
		ids = append(ids, k.ID)
	}
	return ids
}

func audienceRoundTrip(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	want := audienceFull("https://api.example.com/ünïcode")
	fixtureNoErr(t, "create", s.CreateAudience(ctx, want))
	got, err := s.GetAudience(ctx, want.Name)
	fixtureNoErr(t, "get", err)
	audienceCompare(t, "get", want, got, want.CreatedAt)
	list, err := s.ListAudiences(ctx)
	fixtureNoErr(t, "list", err)
	if len(list) != 1 {
		t.Fatalf("list returned %d audiences, want 1", len(list))
	}
	audienceCompare(t, "list", want, &list[0], want.CreatedAt)

	k := audienceKeyFull(t, "ak_1", want.Name, 0)
	fixtureNoErr(t, "create key", s.CreateAudienceKey(ctx, k))
	keys, err := s.ListAudienceKeys(ctx)
	fixtureNoErr(t, "list keys", err)
	if len(keys) != 1 {
		t.Fatalf("list returned %d keys, want 1", len(keys))
	}
	audienceKeyCompare(t, "list keys", k, &keys[0])
}

func audienceRoundTripZero(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	want := &store.Audience{Name: "plain"}
	fixtureNoErr(t, "create", s.CreateAudience(ctx, want))
	got, err := s.GetAudience(ctx, "plain")
	fixtureNoErr(t, "get", err)
	audienceCompare(t, "get", want, got, time.Time{})
	k := &store.AudienceKey{ID: "ak_0", Audience: "plain", Algorithm: store.KeyECDHES, PrivateKey: []byte{1}, PublicKey: []byte{2}, CreatedAt: fixtureTime(0), ActiveAt: fixtureTime(0)}
	fixtureNoErr(t, "create key", s.CreateAudienceKey(ctx, k))
	keys, err := s.ListAudienceKeys(ctx)
	fixtureNoErr(t, "list keys", err)
	if len(keys) != 1 {
		t.Fatalf("list returned %d keys, want 1", len(keys))
	}
	audienceKeyCompare(t, "list keys", k, &keys[0])
	if !keys[0].RetiredAt.IsZero() {
		t.Errorf("RetiredAt = %v, want zero", keys[0].RetiredAt)
	}
}

func audienceKeyNoAliasing(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateAudience(ctx, audienceFull("a")))
	k := audienceKeyFull(t, "ak_1", "a", 0)
	want := *k
	want.PrivateKey, want.PublicKey = slices.Clone(k.PrivateKey), slices.Clone(k.PublicKey)
	fixtureNoErr(t, "create key", s.CreateAudienceKey(ctx, k))
	k.PrivateKey[0] ^= 0xff
	keys, err := s.ListAudienceKeys(ctx)
	fixtureNoErr(t, "list", err)
	keys[0].PublicKey[0] ^= 0xff
	again, err := s.ListAudienceKeys(ctx)
	fixtureNoErr(t, "list again", err)
	audienceKeyCompare(t, "list again", &want, &again[0])
}

func audienceDuplicate(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateAudience(ctx, audienceFull("dup")))
	other := &store.Audience{Name: "dup", KeyAlgorithm: store.KeyECDHES, CreatedAt: fixtureTime(5 * time.Hour), UpdatedAt: fixtureTime(5 * time.Hour)}
	fixtureWantErr(t, "create again", s.CreateAudience(ctx, other), store.ErrConflict)
	got, err := s.GetAudience(ctx, "dup")
	fixtureNoErr(t, "get", err)
	want := audienceFull("dup")
	audienceCompare(t, "after conflict", want, got, want.CreatedAt)
}

func audienceKeyDuplicate(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create a", s.CreateAudience(ctx, audienceFull("a")))
	fixtureNoErr(t, "create b", s.CreateAudience(ctx, audienceFull("b")))
	first := audienceKeyFull(t, "ak_1", "a", 0)
	fixtureNoErr(t, "create key", s.CreateAudienceKey(ctx, first))
	// Key IDs are unique across audiences: a kid names one key.
	fixtureWantErr(t, "create key again", s.CreateAudienceKey(ctx, audienceKeyFull(t, "ak_1", "b", time.Hour)), store.ErrConflict)
	keys, err := s.ListAudienceKeys(ctx)
	fixtureNoErr(t, "list", err)
	if len(keys) != 1 {
		t.Fatalf("%d keys after a conflict, want 1", len(keys))
	}
	audienceKeyCompare(t, "after conflict", first, &keys[0])
}

func audienceUnknown(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create other", s.CreateAudience(ctx, audienceFull("known")))
	fixtureNoErr(t, "create other key", s.CreateAudienceKey(ctx, audienceKeyFull(t, "ak_known", "known", 0)))
	_, err := s.GetAudience(ctx, "missing")
	fixtureWantErr(t, "get", err, store.ErrNotFound)
	fixtureWantErr(t, "update", s.UpdateAudience(ctx, audienceFull("missing")), store.ErrNotFound)
	fixtureWantErr(t, "delete", s.DeleteAudience(ctx, "missing"), store.ErrNotFound)
	fixtureWantErr(t, "retire key", s.RetireAudienceKey(ctx, "ak_missing", fixtureTime(0)), store.ErrNotFound)
	fixtureWantErr(t, "delete key", s.DeleteAudienceKey(ctx, "ak_missing"), store.ErrNotFound)
	_, err = s.GetAudience(ctx, "missing")
	fixtureWantErr(t, "get after update", err, store.ErrNotFound)
	for name, v := range unstorableTexts {
		_, err := s.GetAudience(ctx, v)
		fixtureWantErr(t, "get "+name, err, store.ErrNotFound)
		fixtureWantErr(t, "delete "+name, s.DeleteAudience(ctx, v), store.ErrNotFound)
		fixtureWantErr(t, "delete key "+name, s.DeleteAudienceKey(ctx, v), store.ErrNotFound)
	}
	if ids := audienceKeyIDs(t, s); !slices.Equal(ids, []string{"ak_known"}) {
		t.Errorf("keys = %q, want only ak_known", ids)
	}
}

func audienceKeyOrphan(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureWantErr(t, "create key", s.CreateAudienceKey(ctx, audienceKeyFull(t, "ak_1", "missing", 0)), store.ErrNotFound)
	fixtureNoErr(t, "create audience", s.CreateAudience(ctx, audienceFull("gone")))
	fixtureNoErr(t, "delete audience", s.DeleteAudience(ctx, "gone"))
	fixtureWantErr(t, "create key of deleted", s.CreateAudienceKey(ctx, audienceKeyFull(t, "ak_2", "gone", 0)), store.ErrNotFound)
	if ids := audienceKeyIDs(t, s); len(ids) != 0 {
		t.Errorf("keys = %q, want none", ids)
	}
}

func audienceList(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	// Byte order: upper case before lower case, "urn:" after "https:".
	names := []string{"urn:billing", "https://b.example", "B", "a", "https://a.example"}
	for _, n := range names {
		fixtureNoErr(t, "create "+n, s.CreateAudience(ctx, audienceFull(n)))
	}
	list, err := s.ListAudiences(ctx)
	fixtureNoErr(t, "list", err)
	got := make([]string, 0, len(list))
	for _, a := range list {
		got = append(got, a.Name)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	var d fixtureDiff
	d.strings("names", want, got)
	d.report(t, "list")
}

func audienceKeyList(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create a", s.CreateAudience(ctx, audienceFull("a")))
	fixtureNoErr(t, "create b", s.CreateAudience(ctx, audienceFull("b")))
	// Inserted out of order; k2 and k1 share an instant.
	for _, k := range []*store.AudienceKey{
		audienceKeyFull(t, "k3", "a", 3*time.Hour),
		audienceKeyFull(t, "k2", "b", time.Hour),
		audienceKeyFull(t, "k0", "a", 0),
		audienceKeyFull(t, "k1", "a", time.Hour),
	} {
		fixtureNoErr(t, "create "+k.ID, s.CreateAudienceKey(ctx, k))
	}
	var d fixtureDiff
	d.strings("key IDs", []string{"k0", "k1", "k2", "k3"}, audienceKeyIDs(t, s))
	d.report(t, "list keys")
}

func audienceUpdate(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	orig := audienceFull("u")
	fixtureNoErr(t, "create", s.CreateAudience(ctx, orig))
	upd := &store.Audience{Name: "u", Encrypted: false, KeyAlgorithm: store.KeyECDHES, CreatedAt: fixtureTime(-50 * time.Hour), UpdatedAt: fixtureTime(3 * time.Hour)}
	fixtureNoErr(t, "update", s.UpdateAudience(ctx, upd))
	got, err := s.GetAudience(ctx, "u")
	fixtureNoErr(t, "get", err)
	audienceCompare(t, "after update", upd, got, orig.CreatedAt)
	upd.Encrypted, upd.UpdatedAt = true, fixtureTime(4*time.Hour)
	fixtureNoErr(t, "update again", s.UpdateAudience(ctx, upd))
	got, err = s.GetAudience(ctx, "u")
	fixtureNoErr(t, "get again", err)
	audienceCompare(t, "after second update", upd, got, orig.CreatedAt)
}

func audienceDeleteCascade(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	for _, n := range []string{"a", "b"} {
		fixtureNoErr(t, "create "+n, s.CreateAudience(ctx, audienceFull(n)))
		for i := range 2 {
			id := fmt.Sprintf("%s%d", n, i)
			fixtureNoErr(t, "create key "+id, s.CreateAudienceKey(ctx, audienceKeyFull(t, id, n, time.Duration(i)*time.Hour)))
		}
	}
	fixtureNoErr(t, "delete a", s.DeleteAudience(ctx, "a"))
	_, err := s.GetAudience(ctx, "a")
	fixtureWantErr(t, "get deleted", err, store.ErrNotFound)
	fixtureWantErr(t, "delete again", s.DeleteAudience(ctx, "a"), store.ErrNotFound)
	fixtureWantErr(t, "delete a key of the deleted", s.DeleteAudienceKey(ctx, "a0"), store.ErrNotFound)
	var d fixtureDiff
	d.strings("key IDs", []string{"b0", "b1"}, audienceKeyIDs(t, s))
	d.report(t, "after delete")
	list, err := s.ListAudiences(ctx)
	fixtureNoErr(t, "list", err)
	if len(list) != 1 || list[0].Name != "b" {
		t.Errorf("audiences after delete = %v, want only b", list)
	}
}

func audienceKeyRetire(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateAudience(ctx, audienceFull("a")))
	k := audienceKeyFull(t, "k", "a", 0)
	k.RetiredAt = time.Time{}
	other := audienceKeyFull(t, "other", "a", time.Hour)
	fixtureNoErr(t, "create key", s.CreateAudienceKey(ctx, k))
	fixtureNoErr(t, "create other", s.CreateAudienceKey(ctx, other))
	for _, at := range []time.Time{fixtureTime(2 * time.Hour), fixtureTime(5 * time.Hour), {}} {
		fixtureNoErr(t, "retire", s.RetireAudienceKey(ctx, "k", at))
		list, err := s.ListAudienceKeys(ctx)
		fixtureNoErr(t, "list", err)
		keys := audienceKeysNamed(t, list)
		want := *k
		want.RetiredAt = at
		audienceKeyCompare(t, fmt.Sprintf("retired at %v", at), &want, keys["k"])
		audienceKeyCompare(t, "other key", other, keys["other"])
	}
}

func audienceKeyDelete(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateAudience(ctx, audienceFull("a")))
	fixtureNoErr(t, "create k1", s.CreateAudienceKey(ctx, audienceKeyFull(t, "k1", "a", 0)))
	fixtureNoErr(t, "create k2", s.CreateAudienceKey(ctx, audienceKeyFull(t, "k2", "a", time.Hour)))
	fixtureNoErr(t, "delete k1", s.DeleteAudienceKey(ctx, "k1"))
	fixtureWantErr(t, "delete k1 again", s.DeleteAudienceKey(ctx, "k1"), store.ErrNotFound)
	var d fixtureDiff
	d.strings("key IDs", []string{"k2"}, audienceKeyIDs(t, s))
	d.report(t, "after delete")
	_, err := s.GetAudience(ctx, "a")
	fixtureNoErr(t, "audience outlives its key", err)
}

func audienceConcurrentName(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	const n = 8
	errs := fixtureRace(n, func(i int) error {
		a := audienceFull("race")
		a.UpdatedAt = fixtureTime(time.Duration(i) * time.Minute)
		return s.CreateAudience(ctx, a)
	})
	winner := fixtureOneWinner(t, errs, store.ErrConflict)
	got, err := s.GetAudience(ctx, "race")
	fixtureNoErr(t, "get", err)
	want := audienceFull("race")
	want.UpdatedAt = fixtureTime(time.Duration(winner) * time.Minute)
	audienceCompare(t, "winner", want, got, want.CreatedAt)
}

func audienceKeyConcurrentID(t *testing.T, s store.AudienceStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateAudience(ctx, audienceFull("a")))
	const n = 8
	keys := make([]*store.AudienceKey, n)
	for i := range keys {
		keys[i] = audienceKeyFull(t, "race", "a", time.Duration(i)*time.Minute)
	}
	errs := fixtureRace(n, func(i int) error { return s.CreateAudienceKey(ctx, keys[i]) })
	winner := fixtureOneWinner(t, errs, store.ErrConflict)
	list, err := s.ListAudienceKeys(ctx)
	fixtureNoErr(t, "list", err)
	if len(list) != 1 {
		t.Fatalf("%d keys after the race, want 1", len(list))
	}
	audienceKeyCompare(t, "winner", keys[winner], &list[0])
}
