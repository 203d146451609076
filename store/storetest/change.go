package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// ChangeStores is what RunChanges tests, on one backend: a change feed and
// the stores whose writes it logs, reached through one instance (A) and
// through another (B, as the CLI is another process on the same database).
type ChangeStores struct {
	Feed    store.ChangeFeed
	Clients store.ClientStore
	Keys    store.APIKeyStore
	Users   store.UserStore
	// OtherClients and OtherKeys write through the second instance.
	OtherClients store.ClientStore
	OtherKeys    store.APIKeyStore
}

// changeNotifyWithin bounds how long a watcher takes to hear of a change
// made through another instance (the feed is polled).
const changeNotifyWithin = 2 * time.Second

// RunChanges runs the store.ChangeFeed contract: every client and API-key
// write (and every user write, which changes what the user's keys grant)
// is logged in commit order without gaps, failed writes are not, and a
// watcher hears of changes made through either instance. open is called
// once per subtest and returns empty stores.
func RunChanges(t *testing.T, open func(t *testing.T) ChangeStores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s ChangeStores)
	}{
		{"EveryWriteLoggedInOrder", changeEveryWrite},
		{"FailedWritesNotLogged", changeFailedWrites},
		{"ChangesAfterPages", changePages},
		{"ConcurrentWritesGapless", changeConcurrent},
		{"WatchHearsBothInstances", changeWatch},
		{"WatchCancelled", changeWatchCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

type changeWant struct {
	kind store.ChangeKind
	id   string
}

// changeSince lists the changes after seq, checking their Seqs follow on.
func changeSince(t *testing.T, f store.ChangeFeed, seq int64) []changeWant {
	t.Helper()
	cs, err := f.ChangesAfter(t.Context(), seq, 1000)
	fixtureNoErr(t, "ChangesAfter", err)
	var out []changeWant
	for i, c := range cs {
		if c.Seq != seq+int64(i)+1 {
			t.Fatalf("change %d has Seq %d, want %d (no gaps)", i, c.Seq, seq+int64(i)+1)
		}
		out = append(out, changeWant{c.Kind, c.ID})
	}
	return out
}

func changeLast(t *testing.T, f store.ChangeFeed) int64 {
	t.Helper()
	n, err := f.LastChange(t.Context())
	fixtureNoErr(t, "LastChange", err)
	return n
}

func changeEveryWrite(t *testing.T, s ChangeStores) {
	ctx := t.Context()
	base := changeLast(t, s.Feed)
	c := clientMinimal(t, "c1", "one")
	fixtureNoErr(t, "CreateClient", s.Clients.CreateClient(ctx, c))
	c.Scopes = []string{"read"}
	fixtureNoErr(t, "UpdateClient", s.Clients.UpdateClient(ctx, c))
	fixtureNoErr(t, "CreateUser", s.Users.CreateUser(ctx, userMinimal("u1", "alice")))
	fixtureNoErr(t, "CreateAPIKey", s.Keys.CreateAPIKey(ctx, apiKeyMinimal(t, "k1", store.OwnerClient, "c1")))
	fixtureNoErr(t, "CreateAPIKey", s.OtherKeys.CreateAPIKey(ctx, apiKeyMinimal(t, "k2", store.OwnerUser, "u1")))
	k := apiKeyMinimal(t, "k1", store.OwnerClient, "c1")
	k.Name = "renamed"
	fixtureNoErr(t, "UpdateAPIKey", s.Keys.UpdateAPIKey(ctx, k))
	fixtureNoErr(t, "RevokeAPIKey", s.Keys.RevokeAPIKey(ctx, "k1", fixtureTime(time.Hour)))
	fixtureNoErr(t, "TouchAPIKeys", s.Keys.TouchAPIKeys(ctx, map[string]time.Time{"k2": fixtureTime(time.Hour)}))
	u := userMinimal("u1", "alice")
	u.Disabled = true
	fixtureNoErr(t, "UpdateUser", s.Users.UpdateUser(ctx, u))
	fixtureNoErr(t, "DeleteAPIKeysOfOwner", s.Keys.DeleteAPIKeysOfOwner(ctx, store.OwnerUser, "u1"))
	fixtureNoErr(t, "DeleteUser", s.Users.DeleteUser(ctx, "u1"))
	fixtureNoErr(t, "DeleteClient", s.OtherClients.DeleteClient(ctx, "c1"))

	// Touches are usage, not changes; the key cache need not drop them.
	// A deleted client takes its keys along: both kinds are logged.
	want := []changeWant{
		{store.ChangeClient, "c1"}, {store.ChangeClient, "c1"},
		{store.ChangeAPIKey, "k1"}, {store.ChangeAPIKey, "k2"}, {store.ChangeAPIKey, "k1"}, {store.ChangeAPIKey, "k1"},
		{store.ChangeAPIKey, ""}, {store.ChangeAPIKey, ""}, {store.ChangeAPIKey, ""},
	}
	got := changeSince(t, s.Feed, base)
	if len(got) != len(want)+2 || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("changes %v, want %v then the client's deletion", got, want)
	}
	tail := got[len(want):]
	if !slices.Contains(tail, changeWant{store.ChangeClient, "c1"}) || !slices.Contains(tail, changeWant{store.ChangeAPIKey, ""}) {
		t.Errorf("deleting a client logged %v, want the client and its keys", tail)
	}
	if last := changeLast(t, s.Feed); last != base+int64(len(got)) {
		t.Errorf("LastChange = %d, want %d", last, base+int64(len(got)))
	}
	cs, err := s.Feed.ChangesAfter(ctx, base, 1)
	fixtureNoErr(t, "ChangesAfter", err)
	if len(cs) != 1 || cs[0].At.IsZero() {
		t.Errorf("ChangesAfter = %+v, want one change with its time", cs)
	}
}

func changeFailedWrites(t *testing.T, s ChangeStores) {
	ctx := t.Context()
	fixtureNoErr(t, "CreateClient", s.Clients.CreateClient(ctx, clientMinimal(t, "c1", "one")))
	base := changeLast(t, s.Feed)
	fixtureWantErr(t, "CreateClient duplicate", s.Clients.CreateClient(ctx, clientMinimal(t, "c1", "one")), store.ErrConflict)
	fixtureWantErr(t, "UpdateClient unknown", s.Clients.UpdateClient(ctx, clientMinimal(t, "nope", "x")), store.ErrNotFound)
	fixtureWantErr(t, "DeleteClient unknown", s.OtherClients.DeleteClient(ctx, "nope"), store.ErrNotFound)
	fixtureWantErr(t, "RevokeAPIKey unknown", s.Keys.RevokeAPIKey(ctx, "nope", fixtureTime(0)), store.ErrNotFound)
	fixtureWantErr(t, "CreateAPIKey no owner", s.Keys.CreateAPIKey(ctx, apiKeyMinimal(t, "k1", store.OwnerUser, "nobody")), store.ErrNotFound)
	if got := changeSince(t, s.Feed, base); len(got) != 0 {
		t.Errorf("failed writes logged %v", got)
	}
}

func changePages(t *testing.T, s ChangeStores) {
	ctx := t.Context()
	base := changeLast(t, s.Feed)
	for i := range 5 {
		fixtureNoErr(t, "CreateClient", s.Clients.CreateClient(ctx, clientMinimal(t, fmt.Sprintf("c%d", i), fmt.Sprintf("n%d", i))))
	}
	var ids []string
	for after := base; ; {
		cs, err := s.Feed.ChangesAfter(ctx, after, 2)
		fixtureNoErr(t, "ChangesAfter", err)
		if len(cs) > 2 {
			t.Fatalf("ChangesAfter(limit 2) returned %d", len(cs))
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		after = cs[len(cs)-1].Seq
	}
	if want := []string{"c0", "c1", "c2", "c3", "c4"}; !slices.Equal(ids, want) {
		t.Errorf("paged IDs %v, want %v", ids, want)
	}
	if cs, err := s.Feed.ChangesAfter(ctx, base, 0); err != nil || len(cs) != 0 {
		t.Errorf("ChangesAfter(limit 0) = %v, %v; want none", cs, err)
	}
}

// changeConcurrent: writers through both instances at once each get their
// own Seq, with none skipped.
func changeConcurrent(t *testing.T, s ChangeStores) {
	base := changeLast(t, s.Feed)
	const n = 12
	errs := fixtureRace(n, func(i int) error {
		cs := s.Clients
		if i%2 == 1 {
			cs = s.OtherClients
		}
		return cs.CreateClient(t.Context(), clientMinimal(t, fmt.Sprintf("c%02d", i), fmt.Sprintf("n%02d", i)))
	})
	for i, err := range errs {
		fixtureNoErr(t, fmt.Sprintf("CreateClient #%d", i), err)
	}
	got := changeSince(t, s.Feed, base)
	var ids []string
	for _, c := range got {
		ids = append(ids, c.id)
	}
	slices.Sort(ids)
	if len(ids) != n || len(slices.Compact(slices.Clone(ids))) != n {
		t.Errorf("concurrent creates logged %v, want %d distinct clients", ids, n)
	}
}

func changeWatch(t *testing.T, s ChangeStores) {
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan struct{}, 4)
	seen := make(chan store.Change, 16)
	done := make(chan error, 1)
	go func() {
		done <- s.Feed.WatchChanges(ctx, func() { ready <- struct{}{} }, func(c store.Change) { seen <- c })
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("WatchChanges never called ready")
	}
	for i, tc := range []struct {
		via     string
		clients store.ClientStore
	}{{"another instance", s.OtherClients}, {"the same instance", s.Clients}} {
		id := fmt.Sprintf("w%d", i)
		fixtureNoErr(t, "CreateClient through "+tc.via, tc.clients.CreateClient(t.Context(), clientMinimal(t, id, id)))
		select {
		case c := <-seen:
			if c.Kind != store.ChangeClient || c.ID != id {
				t.Errorf("watcher saw %+v, want client %s", c, id)
			}
		case <-time.After(changeNotifyWithin):
			t.Fatalf("watcher did not hear of a change through %s within %s", tc.via, changeNotifyWithin)
		}
	}
}

func changeWatchCancel(t *testing.T, s ChangeStores) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Feed.WatchChanges(ctx, func() {}, func(store.Change) {}) }()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WatchChanges(cancelled ctx) = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("WatchChanges(cancelled ctx) did not return")
	}
}
