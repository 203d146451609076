package storetest

import (
	"slices"
	"testing"

	"github.com/tollgate/tollgate/store"
)

// apiKeyOwnedSet creates keys of users u1, u2 and clients c1, c2 and
// returns them by ID.
func apiKeyOwnedSet(t *testing.T, s apiKeyStores) map[string]*store.APIKey {
	t.Helper()
	apiKeyOwners(t, s)
	set := map[string]*store.APIKey{}
	for _, k := range []*store.APIKey{
		apiKeyFull(t, "key_u1a", store.OwnerUser, "u1"),
		apiKeyMinimal(t, "key_u1b", store.OwnerUser, "u1"),
		apiKeyMinimal(t, "key_u2", store.OwnerUser, "u2"),
		apiKeyFull(t, "key_c1a", store.OwnerClient, "c1"),
		apiKeyMinimal(t, "key_c1b", store.OwnerClient, "c1"),
		apiKeyMinimal(t, "key_c2", store.OwnerClient, "c2"),
	} {
		fixtureNoErr(t, "create "+k.ID, s.Keys.CreateAPIKey(t.Context(), k))
		set[k.ID] = k
	}
	return set
}

// apiKeyCheckGone fails unless the keys named are gone by every lookup
// and the others in set are intact.
func apiKeyCheckGone(t *testing.T, s store.APIKeyStore, set map[string]*store.APIKey, gone ...string) {
	t.Helper()
	ctx := t.Context()
	for id, k := range set {
		if !slices.Contains(gone, id) {
			apiKeyCheckStored(t, s, k)
			continue
		}
		_, err := s.GetAPIKey(ctx, id)
		fixtureWantErr(t, "get deleted "+id, err, store.ErrNotFound)
		// The exchange's lookup must fail too.
		_, err = s.GetAPIKeyByHash(ctx, k.Hash)
		fixtureWantErr(t, "get deleted "+id+" by hash", err, store.ErrNotFound)
		list, err := s.ListAPIKeys(ctx, k.OwnerKind, k.OwnerID, "", 100)
		fixtureNoErr(t, "list owner of "+id, err)
		for _, l := range list {
			if l.ID == id {
				t.Errorf("deleted %s still listed for its owner", id)
			}
		}
	}
}

func apiKeyDeleteUser(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	set := apiKeyOwnedSet(t, s)
	fixtureNoErr(t, "delete user", s.Users.DeleteUser(ctx, "u1"))
	apiKeyCheckGone(t, s.Keys, set, "key_u1a", "key_u1b")

	// A new user with the same ID does not inherit the old one's keys.
	fixtureNoErr(t, "recreate user", s.Users.CreateUser(ctx, userMinimal("u1", "reborn")))
	apiKeyCheckGone(t, s.Keys, set, "key_u1a", "key_u1b")
	// The deleted keys' IDs and hashes are free again.
	fixtureNoErr(t, "reuse deleted key", s.Keys.CreateAPIKey(ctx, set["key_u1a"]))
}

func apiKeyDeleteClient(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	set := apiKeyOwnedSet(t, s)
	fixtureNoErr(t, "delete client", s.Clients.DeleteClient(ctx, "c1"))
	apiKeyCheckGone(t, s.Keys, set, "key_c1a", "key_c1b")
	fixtureNoErr(t, "recreate client", s.Clients.CreateClient(ctx, clientMinimal(t, "c1", "reborn")))
	apiKeyCheckGone(t, s.Keys, set, "key_c1a", "key_c1b")
}

func apiKeyDeleteOfOwner(t *testing.T, s apiKeyStores) {
	ctx := t.Context()
	set := apiKeyOwnedSet(t, s)

	fixtureNoErr(t, "delete keys of u2", s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, "u2"))
	apiKeyCheckGone(t, s.Keys, set, "key_u2")
	// The owner itself stays.
	_, err := s.Users.GetUser(ctx, "u2")
	fixtureNoErr(t, "get u2", err)

	fixtureNoErr(t, "delete keys of c1", s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerClient, "c1"))
	apiKeyCheckGone(t, s.Keys, set, "key_u2", "key_c1a", "key_c1b")

	// No keys, or no such owner, or the other kind's ID: nothing happens.
	fixtureNoErr(t, "delete keys of u2 again", s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, "u2"))
	fixtureNoErr(t, "delete keys of nobody", s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, "nobody"))
	fixtureNoErr(t, "delete user keys of c2", s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, "c2"))
	// Ambiguous owners are refused, not taken as "everyone".
	if err := s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, ""); err == nil {
		t.Errorf("delete keys of the empty user ID: no error")
	}
	if err := s.Keys.DeleteAPIKeysOfOwner(ctx, "", "u1"); err == nil {
		t.Errorf("delete keys of the empty owner kind: no error")
	}
	apiKeyCheckGone(t, s.Keys, set, "key_u2", "key_c1a", "key_c1b")
}
