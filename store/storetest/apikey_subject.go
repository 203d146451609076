package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// subjectKey returns an OwnerSubject key of subject issued by client,
// with roles and claims.
func subjectKey(t *testing.T, id, client, subject string) *store.APIKey {
	k := apiKeyFull(t, id, store.OwnerSubject, subject)
	k.ClientID = client
	k.Roles = []string{"editor", "billing:read"}
	k.Claims = []byte(`{"tenant":"acme","plan":{"tier":2}}`)
	k.RevokedAt = time.Time{}
	return k
}

func subjectKeyIDs(t *testing.T, what string, keys []store.APIKey, err error) []string {
	t.Helper()
	fixtureNoErr(t, what, err)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func subjectKeyRoundTrip(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	k := subjectKey(t, "key_s", "c1", "42 ünïcode")
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(t.Context(), k))
	apiKeyCheckStored(t, s.Keys, k)
	list, err := s.Keys.ListSubjectAPIKeys(t.Context(), "c1", k.OwnerID, "", 10)
	fixtureNoErr(t, "list subject", err)
	if len(list) != 1 {
		t.Fatalf("ListSubjectAPIKeys = %d keys, want 1", len(list))
	}
	apiKeyCompare(t, "list subject", k, &list[0])

	bare := apiKeyMinimal(t, "key_bare", store.OwnerSubject, "7")
	bare.ClientID = "c1"
	fixtureNoErr(t, "create minimal", s.Keys.CreateAPIKey(t.Context(), bare))
	apiKeyCheckStored(t, s.Keys, bare)
}

func subjectKeyNamespaces(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	for _, k := range []*store.APIKey{subjectKey(t, "key_a1", "c1", "42"), subjectKey(t, "key_a2", "c1", "43"), subjectKey(t, "key_b1", "c2", "42")} {
		fixtureNoErr(t, "create "+k.ID, s.Keys.CreateAPIKey(ctx, k))
	}
	cases := []struct {
		name, client, subject string
		want                  []string
	}{
		{"AppASubject42", "c1", "42", []string{"key_a1"}},
		{"AppBSubject42", "c2", "42", []string{"key_b1"}},
		{"AppAEverySubject", "c1", "", []string{"key_a1", "key_a2"}},
		{"UnknownSubject", "c2", "43", []string{}},
		{"UnknownClient", "nope", "42", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := s.Keys.ListSubjectAPIKeys(ctx, tc.client, tc.subject, "", 10)
			if got := subjectKeyIDs(t, "list", keys, err); !slices.Equal(got, tc.want) {
				t.Errorf("ListSubjectAPIKeys(%q, %q) = %q, want %q", tc.client, tc.subject, got, tc.want)
			}
		})
	}
	keys, err := s.Keys.ListSubjectAPIKeys(ctx, "c1", "", "key_a1", 10)
	if got := subjectKeyIDs(t, "page", keys, err); !slices.Equal(got, []string{"key_a2"}) {
		t.Errorf("second page = %q, want [key_a2]", got)
	}
	if _, err := s.Keys.ListSubjectAPIKeys(ctx, "", "42", "", 10); err == nil {
		t.Error("ListSubjectAPIKeys without a client: no error")
	}
	keys, err = s.Keys.ListAPIKeys(ctx, store.OwnerSubject, "42", "", 10)
	if got := subjectKeyIDs(t, "list kind", keys, err); !slices.Equal(got, []string{"key_a1", "key_b1"}) {
		t.Errorf("ListAPIKeys(subject, 42) = %q, want [key_a1 key_b1]", got)
	}
	keys, err = s.Keys.ListAPIKeys(ctx, store.OwnerClient, "c1", "", 10)
	if got := subjectKeyIDs(t, "list client", keys, err); len(got) != 0 {
		t.Errorf("the client's own keys include its subjects' keys: %q", got)
	}
}

func subjectKeyMissingClient(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	err := s.Keys.CreateAPIKey(t.Context(), subjectKey(t, "key_x", "nope", "42"))
	fixtureWantErr(t, "create for unknown client", err, store.ErrNotFound)
	noClient := subjectKey(t, "key_y", "", "42")
	if err := s.Keys.CreateAPIKey(t.Context(), noClient); err == nil {
		t.Error("subject key without ClientID stored")
	}
	userWithRoles := apiKeyMinimal(t, "key_z", store.OwnerUser, "u1")
	userWithRoles.Roles = []string{"admin"}
	if err := s.Keys.CreateAPIKey(t.Context(), userWithRoles); err == nil {
		t.Error("user key with roles stored")
	}
	for _, id := range []string{"key_x", "key_y", "key_z"} {
		_, err := s.Keys.GetAPIKey(t.Context(), id)
		fixtureWantErr(t, "get "+id, err, store.ErrNotFound)
	}
}

func subjectKeySharedSpace(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	user := apiKeyMinimal(t, "key_1", store.OwnerUser, "u1")
	fixtureNoErr(t, "create user key", s.Keys.CreateAPIKey(ctx, user))
	sameID := subjectKey(t, "key_1", "c1", "42")
	fixtureWantErr(t, "subject key with a user key's ID", s.Keys.CreateAPIKey(ctx, sameID), store.ErrConflict)
	sameHash := subjectKey(t, "key_2", "c1", "42")
	sameHash.Hash = user.Hash
	fixtureWantErr(t, "subject key with a user key's hash", s.Keys.CreateAPIKey(ctx, sameHash), store.ErrConflict)
	subj := subjectKey(t, "key_3", "c1", "42")
	fixtureNoErr(t, "create subject key", s.Keys.CreateAPIKey(ctx, subj))
	client := apiKeyMinimal(t, "key_4", store.OwnerClient, "c1")
	client.Hash = subj.Hash
	fixtureWantErr(t, "client key with a subject key's hash", s.Keys.CreateAPIKey(ctx, client), store.ErrConflict)
	again := subjectKey(t, "key_3", "c2", "1")
	fixtureWantErr(t, "subject key with a subject key's ID", s.Keys.CreateAPIKey(ctx, again), store.ErrConflict)
}

func subjectKeyRevokeTouch(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	k := subjectKey(t, "key_s", "c1", "42")
	k.LastUsedAt = time.Time{}
	fixtureNoErr(t, "create", s.Keys.CreateAPIKey(ctx, k))
	fixtureNoErr(t, "revoke", s.Keys.RevokeAPIKey(ctx, k.ID, fixtureTime(time.Hour)))
	fixtureNoErr(t, "revoke again", s.Keys.RevokeAPIKey(ctx, k.ID, fixtureTime(2*time.Hour)))
	fixtureNoErr(t, "touch", s.Keys.TouchAPIKeys(ctx, map[string]time.Time{k.ID: fixtureTime(3 * time.Hour), "key_unknown": fixtureTime(0)}))
	fixtureNoErr(t, "touch earlier", s.Keys.TouchAPIKeys(ctx, map[string]time.Time{k.ID: fixtureTime(time.Minute)}))
	k.RevokedAt, k.LastUsedAt = fixtureTime(time.Hour), fixtureTime(3*time.Hour)
	apiKeyCheckStored(t, s.Keys, k)
	fixtureWantErr(t, "revoke unknown", s.Keys.RevokeAPIKey(ctx, "key_unknown", fixtureTime(0)), store.ErrNotFound)
}

func subjectKeyDeleteClient(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	fixtureNoErr(t, "create a", s.Keys.CreateAPIKey(ctx, subjectKey(t, "key_a", "c1", "42")))
	fixtureNoErr(t, "create b", s.Keys.CreateAPIKey(ctx, subjectKey(t, "key_b", "c2", "42")))
	fixtureNoErr(t, "delete client", s.Clients.DeleteClient(ctx, "c1"))
	_, err := s.Keys.GetAPIKey(ctx, "key_a")
	fixtureWantErr(t, "key of deleted client", err, store.ErrNotFound)
	_, err = s.Keys.GetAPIKey(ctx, "key_b")
	fixtureNoErr(t, "other client's subject key", err)
	if err := s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerSubject, "42"); err == nil {
		t.Error("DeleteAPIKeysOfOwner(subject): no error; subject keys go with their client")
	}
}

func subjectKeyListAll(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	fixtureNoErr(t, "create key_1", s.Keys.CreateAPIKey(ctx, apiKeyMinimal(t, "key_1", store.OwnerUser, "u1")))
	fixtureNoErr(t, "create key_2", s.Keys.CreateAPIKey(ctx, subjectKey(t, "key_2", "c1", "42")))
	fixtureNoErr(t, "create key_3", s.Keys.CreateAPIKey(ctx, apiKeyMinimal(t, "key_3", store.OwnerClient, "c1")))
	fixtureNoErr(t, "create key_4", s.Keys.CreateAPIKey(ctx, subjectKey(t, "key_4", "c2", "1")))
	var got []string
	for after := ""; ; {
		page, err := s.Keys.ListAPIKeys(ctx, "", "", after, 2)
		ids := subjectKeyIDs(t, "list all", page, err)
		got = append(got, ids...)
		if len(page) < 2 {
			break
		}
		after = ids[len(ids)-1]
	}
	if want := []string{"key_1", "key_2", "key_3", "key_4"}; !slices.Equal(got, want) {
		t.Errorf("every key, paged by 2 = %q, want %q", got, want)
	}
}

func apiKeyUpdate(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	subj := subjectKey(t, "key_s", "c1", "42")
	fixtureNoErr(t, "create subject key", s.Keys.CreateAPIKey(ctx, subj))
	user := apiKeyFull(t, "key_u", store.OwnerUser, "u1")
	fixtureNoErr(t, "create user key", s.Keys.CreateAPIKey(ctx, user))

	changed := *subj
	changed.Name, changed.Scopes, changed.Roles, changed.Claims = "renamed", []string{"read"}, nil, nil
	changed.OwnerID, changed.ClientID, changed.Hash = "other", "c2", fixtureBytes(t, 32) // ignored
	fixtureNoErr(t, "update subject key", s.Keys.UpdateAPIKey(ctx, &changed))
	subj.Name, subj.Scopes, subj.Roles, subj.Claims = "renamed", []string{"read"}, nil, nil
	apiKeyCheckStored(t, s.Keys, subj)

	u := *user
	u.Name, u.Scopes = "narrowed", []string{"read"}
	fixtureNoErr(t, "update user key", s.Keys.UpdateAPIKey(ctx, &u))
	user.Name, user.Scopes = "narrowed", []string{"read"}
	apiKeyCheckStored(t, s.Keys, user)

	u.Roles = []string{"admin"}
	if err := s.Keys.UpdateAPIKey(ctx, &u); err == nil {
		t.Error("roles on a user's key: no error")
	}
	apiKeyCheckStored(t, s.Keys, user)
	fixtureWantErr(t, "update unknown", s.Keys.UpdateAPIKey(ctx, &store.APIKey{ID: "key_none", Name: "x"}), store.ErrNotFound)
}

func apiKeyCountActive(t *testing.T, s apiKeyStores) {
	apiKeyOwners(t, s)
	ctx := t.Context()
	now := fixtureTime(10 * time.Hour)
	mk := func(id string, kind store.OwnerKind, owner string, expires, revoked time.Time) {
		k := apiKeyMinimal(t, id, kind, owner)
		if kind == store.OwnerSubject {
			k.ClientID = "c1"
		}
		k.ExpiresAt, k.RevokedAt = expires, revoked
		fixtureNoErr(t, "create "+id, s.Keys.CreateAPIKey(ctx, k))
	}
	mk("key_u1", store.OwnerUser, "u1", time.Time{}, time.Time{})
	mk("key_u2", store.OwnerUser, "u1", now.Add(time.Hour), time.Time{})
	mk("key_u3", store.OwnerUser, "u1", now, time.Time{})            // expired at now
	mk("key_u4", store.OwnerUser, "u1", time.Time{}, fixtureTime(0)) // revoked
	mk("key_u5", store.OwnerUser, "u2", time.Time{}, time.Time{})
	mk("key_s1", store.OwnerSubject, "42", time.Time{}, time.Time{})
	mk("key_s2", store.OwnerSubject, "42", time.Time{}, fixtureTime(0))
	cases := []struct {
		name         string
		kind         store.OwnerKind
		client, user string
		want         int
	}{
		{"User", store.OwnerUser, "", "u1", 2},
		{"OtherUser", store.OwnerUser, "", "u2", 1},
		{"Client", store.OwnerClient, "", "c1", 0},
		{"Subject", store.OwnerSubject, "c1", "42", 1},
		{"SubjectOfOtherClient", store.OwnerSubject, "c2", "42", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := s.Keys.CountActiveAPIKeys(ctx, tc.kind, tc.client, tc.user, now)
			fixtureNoErr(t, "count", err)
			if n != tc.want {
				t.Errorf("CountActiveAPIKeys = %d, want %d", n, tc.want)
			}
		})
	}
}
