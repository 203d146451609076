package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// apiKeyStores is what RunAPIKeys tests: an API key store and the user
// and client stores of the same backend, which hold the keys' owners.
type apiKeyStores struct {
	Keys    store.APIKeyStore
	Users   store.UserStore
	Clients store.ClientStore
}

// RunAPIKeys runs the store.APIKeyStore contract, including its tie to the
// owners: a key needs an existing owner, and deleting the owner through
// its own store deletes its keys. open is called once per subtest and must
// return empty stores on one backend (typically one value three times).
func RunAPIKeys(t *testing.T, open func(t *testing.T) (store.APIKeyStore, store.UserStore, store.ClientStore)) {
	tests := []struct {
		name string
		run  func(t *testing.T, s apiKeyStores)
	}{
		{"RoundTripEveryField", apiKeyRoundTrip},
		{"RoundTripZeroValues", apiKeyRoundTripZero},
		{"LongValuesKept", apiKeyLongValues},
		{"CallerSlicesNotAliased", apiKeyNoAliasing},
		{"UnknownNotFound", apiKeyUnknown},
		{"UnstorableIDNotFound", apiKeyUnstorable},
		{"DuplicateIDConflict", apiKeyDuplicateID},
		{"DuplicateHashConflict", apiKeyDuplicateHash},
		{"ConcurrentCreateSameHashOneWins", apiKeyConcurrentHash},
		{"MissingOwnerNotFound", apiKeyMissingOwner},
		{"UnknownOwnerKindRejected", apiKeyBadKind},
		{"ListPagesInIDOrder", apiKeyList},
		{"ListFiltersByOwner", apiKeyListByOwner},
		{"RevokeKeepsFirstTime", apiKeyRevoke},
		{"TouchKeepsLatest", apiKeyTouch},
		{"ConcurrentTouchesKeepMax", apiKeyConcurrentTouch},
		{"DeletingUserDeletesKeys", apiKeyDeleteUser},
		{"DeletingClientDeletesKeys", apiKeyDeleteClient},
		{"DeleteKeysOfOwner", apiKeyDeleteOfOwner},
		{"SubjectRoundTripEveryField", subjectKeyRoundTrip},
		{"SubjectKeysNamespacedByClient", subjectKeyNamespaces},
		{"SubjectKeyNeedsExistingClient", subjectKeyMissingClient},
		{"SubjectKeySharesIDAndHashSpace", subjectKeySharedSpace},
		{"SubjectKeyRevokeAndTouch", subjectKeyRevokeTouch},
		{"DeletingClientDeletesSubjectKeys", subjectKeyDeleteClient},
		{"ListEveryKindMergesInIDOrder", subjectKeyListAll},
		{"UpdateReplacesMutableFields", apiKeyUpdate},
		{"CountActiveSkipsRevokedAndExpired", apiKeyCountActive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s apiKeyStores
			s.Keys, s.Users, s.Clients = open(t)
			tc.run(t, s)
		})
	}
}

// apiKeyOwners creates users u1, u2 and clients c1, c2.
func apiKeyOwners(t *testing.T, s apiKeyStores) {
	t.Helper()
	for _, id := range []string{"u1", "u2"} {
		fixtureNoErr(t, "create user "+id, s.Users.CreateUser(t.Context(), userMinimal(id, "name-"+id)))
	}
	for _, id := range []string{"c1", "c2"} {
		fixtureNoErr(t, "create client "+id, s.Clients.CreateClient(t.Context(), clientMinimal(t, id, "name-"+id)))
	}
}

// apiKeyFull returns a key of that owner with every field set.
func apiKeyFull(t *testing.T, id string, kind store.OwnerKind, owner string) *store.APIKey {
	return &store.APIKey{
		ID:         id,
		OwnerKind:  kind,
		OwnerID:    owner,
		Name:       "CI deploy ünïcode",
		Scopes:     []string{"read", "write:all", "https://api.example.com/x"},
		Hash:       fixtureBytes(t, 32),
		Prefix:     "tgk_Ab3d",
		Last4:      "x9Yz",
		ExpiresAt:  fixtureTime(720 * time.Hour),
		CreatedAt:  fixtureTime(0),
		LastUsedAt: fixtureTime(time.Hour),
		RevokedAt:  fixtureTime(2 * time.Hour),
	}
}

// apiKeyMinimal returns an active, never used key without scopes or expiry.
func apiKeyMinimal(t *testing.T, id string, kind store.OwnerKind, owner string) *store.APIKey {
	return &store.APIKey{ID: id, OwnerKind: kind, OwnerID: owner, Name: id, Hash: fixtureBytes(t, 32),
		Prefix: "tgk_" + id, Last4: "abcd", CreatedAt: fixtureTime(0)}
}

func apiKeyCompare(t *testing.T, what string, want, got *store.APIKey) {
	t.Helper()
	var d fixtureDiff
	d.value("ID", want.ID, got.ID)
	d.value("OwnerKind", want.OwnerKind, got.OwnerKind)
	d.value("OwnerID", want.OwnerID, got.OwnerID)
	d.value("ClientID", want.ClientID, got.ClientID)
	d.value("Name", want.Name, got.Name)
	d.strings("Scopes", want.Scopes, got.Scopes)
	d.strings("Roles", want.Roles, got.Roles)
	d.bytes("Claims", want.Claims, got.Claims)
	d.bytes("Hash", want.Hash, got.Hash)
	d.value("Prefix", want.Prefix, got.Prefix)
	d.value("Last4", want.Last4, got.Last4)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("LastUsedAt", want.LastUsedAt, got.LastUsedAt)
	d.time("RevokedAt", want.RevokedAt, got.RevokedAt)
	d.report(t, what)
}

// apiKeyCheckStored reads want back by ID, by hash and through the list of
// its owner, and compares every field.
func apiKeyCheckStored(t *testing.T, s store.APIKeyStore, want *store.APIKey) {
	t.Helper()
	ctx := t.Context()
	got, err := s.GetAPIKey(ctx, want.ID)
	fixtureNoErr(t, "get "+want.ID, err)
	apiKeyCompare(t, "get "+want.ID, want, got)
	got, err = s.GetAPIKeyByHash(ctx, want.Hash)
	fixtureNoErr(t, "get by hash "+want.ID, err)
	apiKeyCompare(t, "get by hash "+want.ID, want, got)
	list, err := s.ListAPIKeys(ctx, want.OwnerKind, want.OwnerID, "", 100)
	fixtureNoErr(t, "list "+want.ID, err)
	i := slices.IndexFunc(list, func(k store.APIKey) bool { return k.ID == want.ID })
	if i < 0 {
		t.Fatalf("list of its owner lacks %s", want.ID)
	}
	apiKeyCompare(t, "list "+want.ID, want, &list[i])
}

func apiKeyRoundTrip(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	for _, k := range []*store.APIKey{apiKeyFull(t, "key_u", store.OwnerUser, "u1"), apiKeyFull(t, "key_c", store.OwnerClient, "c1")} {
		fixtureNoErr(t, "create "+k.ID, s.Keys.CreateAPIKey(t.Context(), k))
		apiKeyCheckStored(t, s.Keys, k)
	}
}

func apiKeyRoundTripZero(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	k := apiKeyMinimal(t, "key_1", store.OwnerClient, "c1")
	k.CreatedAt = time.Time{}
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(t.Context(), k))
	apiKeyCheckStored(t, s.Keys, k)
}

// apiKeyLongValues: the store keeps what the server let through, without
// truncating or validating it.
func apiKeyLongValues(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	k := apiKeyFull(t, "key_long", store.OwnerUser, "u2")
	k.Name = strings.Repeat("ä名", 5000)
	k.Prefix, k.Last4 = strings.Repeat("p", 300), "€€€€"
	k.Hash = fixtureBytes(t, 512)
	k.Scopes = nil
	for i := range 300 {
		k.Scopes = append(k.Scopes, fmt.Sprintf("scope:%03d:%s", i, strings.Repeat("s", 40)))
	}
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(t.Context(), k))
	apiKeyCheckStored(t, s.Keys, k)
}

func apiKeyNoAliasing(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	k := apiKeyFull(t, "key_1", store.OwnerUser, "u1")
	want := *k
	want.Scopes, want.Hash = slices.Clone(k.Scopes), slices.Clone(k.Hash)
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(ctx, k))
	k.Scopes[0], k.Hash[0] = "mutated", k.Hash[0]^0xff

	got, err := s.Keys.GetAPIKey(ctx, want.ID)
	fixtureNoErr(t, "get", err)
	got.Scopes[0], got.Hash[0] = "mutated", got.Hash[0]^0xff
	apiKeyCheckStored(t, s.Keys, &want)
}

func apiKeyUnknown(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	known := apiKeyMinimal(t, "key_known", store.OwnerUser, "u1")
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(ctx, known))
	_, err := s.Keys.GetAPIKey(ctx, "key_missing")
	fixtureWantErr(t, "get", err, store.ErrNotFound)
	_, err = s.Keys.GetAPIKey(ctx, "")
	fixtureWantErr(t, "get empty ID", err, store.ErrNotFound)
	for name, hash := range map[string][]byte{"random": fixtureBytes(t, 32), "nil": nil, "prefix": known.Hash[:16]} {
		_, err = s.Keys.GetAPIKeyByHash(ctx, hash)
		fixtureWantErr(t, "get by "+name+" hash", err, store.ErrNotFound)
	}
	fixtureWantErr(t, "revoke", s.Keys.RevokeAPIKey(ctx, "key_missing", fixtureTime(0)), store.ErrNotFound)
}

func apiKeyDuplicateID(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	first := apiKeyFull(t, "key_1", store.OwnerUser, "u1")
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(ctx, first))
	dup := apiKeyMinimal(t, "key_1", store.OwnerClient, "c1")
	fixtureWantErr(t, "create same ID", s.Keys.CreateAPIKey(ctx, dup), store.ErrConflict)
	_, err := s.Keys.GetAPIKeyByHash(ctx, dup.Hash)
	fixtureWantErr(t, "get loser by hash", err, store.ErrNotFound)
	apiKeyCheckStored(t, s.Keys, first)
}

func apiKeyDuplicateHash(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	first := apiKeyFull(t, "key_1", store.OwnerUser, "u1")
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(ctx, first))
	dup := apiKeyMinimal(t, "key_2", store.OwnerUser, "u2")
	dup.Hash = slices.Clone(first.Hash)
	fixtureWantErr(t, "create same hash", s.Keys.CreateAPIKey(ctx, dup), store.ErrConflict)
	_, err := s.Keys.GetAPIKey(ctx, dup.ID)
	fixtureWantErr(t, "get loser", err, store.ErrNotFound)
	apiKeyCheckStored(t, s.Keys, first)
}

func apiKeyConcurrentHash(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	const n = 16
	hash := fixtureBytes(t, 32)
	ks := make([]*store.APIKey, n)
	for i := range ks {
		ks[i] = apiKeyMinimal(t, fmt.Sprintf("key_%02d", i), store.OwnerUser, "u1")
		ks[i].Hash = hash
	}
	errs := fixtureRace(n, func(i int) error { return s.Keys.CreateAPIKey(ctx, ks[i]) })
	win := fixtureOneWinner(t, errs, store.ErrConflict)
	got, err := s.Keys.GetAPIKeyByHash(ctx, hash)
	fixtureNoErr(t, "get by hash", err)
	if got.ID != ks[win].ID {
		t.Errorf("stored %s, want the winner %s", got.ID, ks[win].ID)
	}
}

func apiKeyMissingOwner(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	for _, k := range []*store.APIKey{
		apiKeyMinimal(t, "key_nouser", store.OwnerUser, "u-missing"),
		apiKeyMinimal(t, "key_noclient", store.OwnerClient, "c-missing"),
		// An ID of the other kind is no owner.
		apiKeyMinimal(t, "key_userisclient", store.OwnerUser, "c1"),
		apiKeyMinimal(t, "key_clientisuser", store.OwnerClient, "u1"),
		apiKeyMinimal(t, "key_empty", store.OwnerUser, ""),
	} {
		fixtureWantErr(t, "create "+k.ID, s.Keys.CreateAPIKey(ctx, k), store.ErrNotFound)
		_, err := s.Keys.GetAPIKey(ctx, k.ID)
		fixtureWantErr(t, "get "+k.ID, err, store.ErrNotFound)
	}
}

func apiKeyBadKind(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	for _, kind := range []store.OwnerKind{"", "User", "group"} {
		k := apiKeyMinimal(t, "key_bad", kind, "u1")
		if err := s.Keys.CreateAPIKey(ctx, k); err == nil {
			t.Errorf("create with owner kind %q: no error", kind)
		}
		_, err := s.Keys.GetAPIKey(ctx, k.ID)
		fixtureWantErr(t, fmt.Sprintf("get key of kind %q", kind), err, store.ErrNotFound)
	}
	if _, err := s.Keys.ListAPIKeys(ctx, "group", "", "", 10); err == nil {
		t.Errorf("list of owner kind %q: no error", "group")
	}
}

// apiKeyListIDs returns the IDs of one page of ListAPIKeys.
func apiKeyListIDs(t *testing.T, s store.APIKeyStore, kind store.OwnerKind, owner string) func(after string, limit int) ([]string, error) {
	return func(after string, limit int) ([]string, error) {
		ks, err := s.ListAPIKeys(t.Context(), kind, owner, after, limit)
		ids := make([]string, len(ks))
		for i, k := range ks {
			ids[i] = k.ID
		}
		return ids, err
	}
}

func apiKeyList(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	empty, err := s.Keys.ListAPIKeys(t.Context(), "", "", "", 5)
	fixtureNoErr(t, "list empty", err)
	if len(empty) != 0 {
		t.Fatalf("empty store listed %d keys", len(empty))
	}
	want := []string{"K-9", "key_01", "key_02", "key_10", "key_2", "key_Z", "key_a"}
	for _, i := range rand.Perm(len(want)) {
		owner := []string{"u1", "u2"}[i%2]
		fixtureNoErr(t, "create "+want[i], s.Keys.CreateAPIKey(t.Context(), apiKeyMinimal(t, want[i], store.OwnerUser, owner)))
	}
	none, err := s.Keys.ListAPIKeys(t.Context(), "", "", "", 0)
	fixtureNoErr(t, "list limit 0", err)
	if len(none) != 0 {
		t.Errorf("limit 0 listed %d keys", len(none))
	}
	for _, limit := range []int{1, 2, 3, 7, 50} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			fixtureCheckPages(t, fixturePages(t, limit, apiKeyListIDs(t, s.Keys, "", "")), want, limit)
			fixtureCheckPages(t, fixturePages(t, limit, apiKeyListIDs(t, s.Keys, store.OwnerUser, "u1")),
				[]string{"K-9", "key_02", "key_2", "key_a"}, limit)
		})
	}
}

func apiKeyListByOwner(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	// "same" is both a user's and a client's ID: the kind tells them apart.
	fixtureNoErr(t, "create user same", s.Users.CreateUser(ctx, userMinimal("same", "same")))
	fixtureNoErr(t, "create client same", s.Clients.CreateClient(ctx, clientMinimal(t, "same", "same")))
	keys := map[string][2]string{
		"key_u1a": {"user", "u1"}, "key_u1b": {"user", "u1"}, "key_u2": {"user", "u2"}, "key_us": {"user", "same"},
		"key_c1": {"client", "c1"}, "key_cs": {"client", "same"},
	}
	for id, o := range keys {
		fixtureNoErr(t, "create "+id, s.Keys.CreateAPIKey(ctx, apiKeyMinimal(t, id, store.OwnerKind(o[0]), o[1])))
	}
	tests := []struct {
		kind  store.OwnerKind
		owner string
		want  []string
	}{
		{"", "", []string{"key_c1", "key_cs", "key_u1a", "key_u1b", "key_u2", "key_us"}},
		{store.OwnerUser, "", []string{"key_u1a", "key_u1b", "key_u2", "key_us"}},
		{store.OwnerClient, "", []string{"key_c1", "key_cs"}},
		{store.OwnerUser, "u1", []string{"key_u1a", "key_u1b"}},
		{store.OwnerUser, "same", []string{"key_us"}},
		{store.OwnerClient, "same", []string{"key_cs"}},
		{store.OwnerClient, "c2", nil},
		{store.OwnerUser, "c1", nil},
		{store.OwnerUser, "nobody", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s=%s", tc.kind, tc.owner), func(t *testing.T) {
			fixtureCheckPages(t, fixturePages(t, 2, apiKeyListIDs(t, s.Keys, tc.kind, tc.owner)), tc.want, 2)
		})
	}
}

func apiKeyRevoke(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	apiKeyOwners(t, s)
	k := apiKeyMinimal(t, "key_1", store.OwnerUser, "u1")
	other := apiKeyMinimal(t, "key_2", store.OwnerUser, "u1")
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(ctx, k))
	fixtureNoErr(t, "create other", s.Keys.CreateAPIKey(ctx, other))

	fixtureNoErr(t, "revoke", s.Keys.RevokeAPIKey(ctx, k.ID, fixtureTime(time.Hour)))
	k.RevokedAt = fixtureTime(time.Hour)
	apiKeyCheckStored(t, s.Keys, k)
	fixtureNoErr(t, "revoke again", s.Keys.RevokeAPIKey(ctx, k.ID, fixtureTime(2*time.Hour)))
	apiKeyCheckStored(t, s.Keys, k)
	apiKeyCheckStored(t, s.Keys, other)
	if err := s.Keys.RevokeAPIKey(ctx, other.ID, time.Time{}); err == nil {
		t.Errorf("revoke at the zero time: no error")
	}
	apiKeyCheckStored(t, s.Keys, other)
}

func apiKeyUnstorable(t *testing.T, s apiKeyStores) {
	for name, id := range unstorableTexts {
		_, err := s.Keys.GetAPIKey(t.Context(), id)
		fixtureWantErr(t, "get "+name, err, store.ErrNotFound)
	}
}
