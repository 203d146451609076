package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunUsers runs the store.UserStore contract. open is called once per
// subtest and must return an empty store.
func RunUsers(t *testing.T, open func(t *testing.T) store.UserStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.UserStore)
	}{
		{"RoundTripEveryField", userRoundTrip},
		{"RoundTripZeroValues", userRoundTripZero},
		{"CallerSlicesNotAliased", userNoAliasing},
		{"UnknownNotFound", userUnknown},
		{"UnstorableTextNotFound", userUnstorable},
		{"DuplicateIDConflict", userDuplicateID},
		{"DuplicateUsernameConflict", userDuplicateUsername},
		{"UsernameIsCaseSensitive", userCaseSensitive},
		{"UpdateReplacesAllButIDAndCreatedAt", userUpdate},
		{"UpdateToTakenUsernameConflict", userUpdateTakenUsername},
		{"DeleteThenGetNotFound", userDelete},
		{"ListPagesInIDOrder", userList},
		{"ConcurrentCreateSameUsernameOneWins", userConcurrentUsername},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// userFull returns a user with every field set.
func userFull(id, username string) *store.User {
	return &store.User{
		ID:              id,
		Username:        username,
		PasswordHash:    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + id,
		Roles:           []string{"admin", "ops"},
		Disabled:        true,
		TokensRevokedAt: fixtureTime(45 * time.Minute),
		Claims:          []byte(`{"tenant":"acme","groups":["a","b"]}`),
		PrivateClaims:   []byte(`{"email":"alice@example.com","risk":{"score":7}}`),
		CreatedAt:       fixtureTime(0),
		UpdatedAt:       fixtureTime(90 * time.Minute),
	}
}

// userMinimal returns an enabled user without roles.
func userMinimal(id, username string) *store.User {
	return &store.User{ID: id, Username: username, PasswordHash: "$argon2id$" + id, CreatedAt: fixtureTime(0), UpdatedAt: fixtureTime(0)}
}

// userCompare reports every field of got that differs from want; createdAt
// is what CreatedAt must be.
func userCompare(t *testing.T, what string, want, got *store.User, createdAt time.Time) {
	t.Helper()
	var d fixtureDiff
	d.value("ID", want.ID, got.ID)
	d.value("Username", want.Username, got.Username)
	d.value("PasswordHash", want.PasswordHash, got.PasswordHash)
	d.strings("Roles", want.Roles, got.Roles)
	d.value("Disabled", want.Disabled, got.Disabled)
	d.time("TokensRevokedAt", want.TokensRevokedAt, got.TokensRevokedAt)
	d.claims("Claims", want.Claims, got.Claims)
	d.claims("PrivateClaims", want.PrivateClaims, got.PrivateClaims)
	d.time("CreatedAt", createdAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	d.report(t, what)
}

func userRoundTrip(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	want := userFull("user-1", "alice")
	fixtureNoErr(t, "create", s.CreateUser(ctx, want))

	got, err := s.GetUser(ctx, want.ID)
	fixtureNoErr(t, "get", err)
	userCompare(t, "get", want, got, want.CreatedAt)

	got, err = s.GetUserByUsername(ctx, want.Username)
	fixtureNoErr(t, "get by username", err)
	userCompare(t, "get by username", want, got, want.CreatedAt)

	list, err := s.ListUsers(ctx, "", 10)
	fixtureNoErr(t, "list", err)
	if len(list) != 1 {
		t.Fatalf("list returned %d users, want 1", len(list))
	}
	userCompare(t, "list", want, &list[0], want.CreatedAt)
}

func userRoundTripZero(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	want := userMinimal("user-1", "bob")
	want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	fixtureNoErr(t, "create", s.CreateUser(ctx, want))
	got, err := s.GetUser(ctx, want.ID)
	fixtureNoErr(t, "get", err)
	userCompare(t, "get", want, got, want.CreatedAt)
}

func userNoAliasing(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	u := userFull("user-1", "alice")
	want := *u
	want.Roles = slices.Clone(u.Roles)
	want.Claims, want.PrivateClaims = slices.Clone(u.Claims), slices.Clone(u.PrivateClaims)
	fixtureNoErr(t, "create", s.CreateUser(ctx, u))
	u.Roles[0] = "mutated"
	u.Claims[1] = 'X'

	got, err := s.GetUser(ctx, u.ID)
	fixtureNoErr(t, "get", err)
	got.Roles[1] = "mutated"
	got.PrivateClaims[1] = 'X'

	again, err := s.GetUser(ctx, u.ID)
	fixtureNoErr(t, "get again", err)
	userCompare(t, "get again", &want, again, want.CreatedAt)
}

func userUnstorable(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create other", s.CreateUser(ctx, userMinimal("known", "a")))
	for name, v := range unstorableTexts {
		_, err := s.GetUser(ctx, v)
		fixtureWantErr(t, "get "+name, err, store.ErrNotFound)
		_, err = s.GetUserByUsername(ctx, v)
		fixtureWantErr(t, "get by username "+name, err, store.ErrNotFound)
	}
}

func userUnknown(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create other", s.CreateUser(ctx, userMinimal("known", "known")))
	_, err := s.GetUser(ctx, "missing")
	fixtureWantErr(t, "get", err, store.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, "missing")
	fixtureWantErr(t, "get by username", err, store.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, "")
	fixtureWantErr(t, "get by empty username", err, store.ErrNotFound)
	fixtureWantErr(t, "update", s.UpdateUser(ctx, userMinimal("missing", "missing")), store.ErrNotFound)
	fixtureWantErr(t, "delete", s.DeleteUser(ctx, "missing"), store.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, "missing")
	fixtureWantErr(t, "get by username after update", err, store.ErrNotFound)
}

func userDuplicateID(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	first := userFull("user-1", "alice")
	fixtureNoErr(t, "create", s.CreateUser(ctx, first))
	fixtureWantErr(t, "create same ID", s.CreateUser(ctx, userMinimal("user-1", "bob")), store.ErrConflict)
	_, err := s.GetUserByUsername(ctx, "bob")
	fixtureWantErr(t, "get loser", err, store.ErrNotFound)
	got, err := s.GetUser(ctx, first.ID)
	fixtureNoErr(t, "get", err)
	userCompare(t, "after conflict", first, got, first.CreatedAt)
}

func userDuplicateUsername(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateUser(ctx, userMinimal("user-1", "alice")))
	fixtureWantErr(t, "create same username", s.CreateUser(ctx, userMinimal("user-2", "alice")), store.ErrConflict)
	_, err := s.GetUser(ctx, "user-2")
	fixtureWantErr(t, "get loser", err, store.ErrNotFound)
}

func userCaseSensitive(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create Alice", s.CreateUser(ctx, userMinimal("user-1", "Alice")))
	for _, name := range []string{"alice", "ALICE", "Alice ", " Alice"} {
		_, err := s.GetUserByUsername(ctx, name)
		fixtureWantErr(t, fmt.Sprintf("get %q", name), err, store.ErrNotFound)
	}
	fixtureNoErr(t, "create alice", s.CreateUser(ctx, userMinimal("user-2", "alice")))
	for name, id := range map[string]string{"Alice": "user-1", "alice": "user-2"} {
		got, err := s.GetUserByUsername(ctx, name)
		fixtureNoErr(t, "get "+name, err)
		if got.ID != id {
			t.Errorf("get %q returned %s, want %s", name, got.ID, id)
		}
	}
}

func userUpdate(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	orig := userFull("user-1", "alice")
	fixtureNoErr(t, "create", s.CreateUser(ctx, orig))

	upd := userMinimal("user-1", "alice2")
	upd.PasswordHash = "$argon2id$new"
	upd.CreatedAt = fixtureTime(-100 * time.Hour) // must be ignored
	upd.UpdatedAt = fixtureTime(3 * time.Hour)
	fixtureNoErr(t, "update", s.UpdateUser(ctx, upd))

	got, err := s.GetUser(ctx, upd.ID)
	fixtureNoErr(t, "get", err)
	userCompare(t, "after update", upd, got, orig.CreatedAt)
	_, err = s.GetUserByUsername(ctx, "alice")
	fixtureWantErr(t, "get old username", err, store.ErrNotFound)
	got, err = s.GetUserByUsername(ctx, "alice2")
	fixtureNoErr(t, "get new username", err)
	userCompare(t, "by new username", upd, got, orig.CreatedAt)

	// Keeping one's own username is no conflict.
	upd.Disabled = true
	upd.Claims, upd.PrivateClaims = []byte(`{"tenant":"globex"}`), []byte(`{"email":"a2@example.com"}`)
	fixtureNoErr(t, "update again", s.UpdateUser(ctx, upd))
	got, err = s.GetUser(ctx, upd.ID)
	fixtureNoErr(t, "get after claims", err)
	userCompare(t, "after claims", upd, got, orig.CreatedAt)
	// The old username is free again.
	fixtureNoErr(t, "reuse old username", s.CreateUser(ctx, userMinimal("user-2", "alice")))
}

func userUpdateTakenUsername(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create a", s.CreateUser(ctx, userMinimal("user-a", "alice")))
	b := userFull("user-b", "bob")
	fixtureNoErr(t, "create b", s.CreateUser(ctx, b))

	upd := *b
	upd.Username = "alice"
	upd.PasswordHash = "$argon2id$changed"
	fixtureWantErr(t, "update to taken username", s.UpdateUser(ctx, &upd), store.ErrConflict)
	got, err := s.GetUser(ctx, b.ID)
	fixtureNoErr(t, "get b", err)
	userCompare(t, "b after conflict", b, got, b.CreatedAt)
}

func userDelete(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateUser(ctx, userMinimal("user-1", "doomed")))
	fixtureNoErr(t, "create other", s.CreateUser(ctx, userMinimal("user-2", "kept")))
	fixtureNoErr(t, "delete", s.DeleteUser(ctx, "user-1"))
	_, err := s.GetUser(ctx, "user-1")
	fixtureWantErr(t, "get deleted", err, store.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, "doomed")
	fixtureWantErr(t, "get deleted by username", err, store.ErrNotFound)
	fixtureWantErr(t, "delete again", s.DeleteUser(ctx, "user-1"), store.ErrNotFound)
	_, err = s.GetUser(ctx, "user-2")
	fixtureNoErr(t, "get other", err)
	fixtureNoErr(t, "reuse username", s.CreateUser(ctx, userMinimal("user-3", "doomed")))
}

func userList(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	empty, err := s.ListUsers(ctx, "", 5)
	fixtureNoErr(t, "list empty", err)
	if len(empty) != 0 {
		t.Fatalf("empty store listed %d users", len(empty))
	}
	want := []string{"U-9", "u-01", "u-02", "u-10", "u-2", "v"}
	for _, i := range rand.Perm(len(want)) {
		id := want[i]
		fixtureNoErr(t, "create "+id, s.CreateUser(ctx, userMinimal(id, "name "+id)))
	}
	for _, limit := range []int{1, 2, 4, 6, 50} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			pages := fixturePages(t, limit, func(after string, limit int) ([]string, error) {
				us, err := s.ListUsers(ctx, after, limit)
				ids := make([]string, len(us))
				for i, u := range us {
					ids[i] = u.ID
				}
				return ids, err
			})
			fixtureCheckPages(t, pages, want, limit)
		})
	}
}

func userConcurrentUsername(t *testing.T, s store.UserStore) {
	ctx := t.Context()
	const n = 16
	us := make([]*store.User, n)
	for i := range us {
		us[i] = userMinimal(fmt.Sprintf("user-%02d", i), "contested")
	}
	errs := fixtureRace(n, func(i int) error { return s.CreateUser(ctx, us[i]) })
	win := fixtureOneWinner(t, errs, store.ErrConflict)
	got, err := s.GetUserByUsername(ctx, "contested")
	fixtureNoErr(t, "get", err)
	if got.ID != us[win].ID {
		t.Errorf("stored %s, want the winner %s", got.ID, us[win].ID)
	}
}
