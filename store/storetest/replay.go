package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunReplays runs the store.ReplayStore contract. open is called once per
// subtest and must return an empty store whose clock is the real one.
func RunReplays(t *testing.T, open func(t *testing.T) store.ReplayStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.ReplayStore)
	}{
		{"FirstUseThenReplay", replayFirstThenReplay},
		{"IDsAreIndependent", replayIndependent},
		{"ExpiredRecordMayBeUsedAgain", replayExpired},
		{"ConcurrentUseOneWins", replayConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

func replayUse(t *testing.T, s store.ReplayStore, id string, until time.Time, want bool) {
	t.Helper()
	got, err := s.UseOnce(t.Context(), id, until)
	fixtureNoErr(t, "use "+id, err)
	if got != want {
		t.Fatalf("UseOnce(%q) = %v, want %v", id, got, want)
	}
}

func replayFirstThenReplay(t *testing.T, s store.ReplayStore) {
	until := time.Now().Add(time.Minute)
	replayUse(t, s, "jti-1", until, true)
	replayUse(t, s, "jti-1", until, false)
	// A later expiry does not buy a second use.
	replayUse(t, s, "jti-1", until.Add(time.Hour), false)
}

func replayIndependent(t *testing.T, s store.ReplayStore) {
	until := time.Now().Add(time.Minute)
	replayUse(t, s, "a", until, true)
	replayUse(t, s, "b", until, true)
	replayUse(t, s, "A", until, true)
	replayUse(t, s, "a", until, false)
}

func replayExpired(t *testing.T, s store.ReplayStore) {
	replayUse(t, s, "short", time.Now().Add(300*time.Millisecond), true)
	time.Sleep(600 * time.Millisecond)
	replayUse(t, s, "short", time.Now().Add(time.Minute), true)
	replayUse(t, s, "short", time.Now().Add(time.Minute), false)
}

func replayConcurrent(t *testing.T, s store.ReplayStore) {
	until := time.Now().Add(time.Minute)
	errRepeat := fmt.Errorf("replayed")
	errs := fixtureRace(8, func(int) error {
		ok, err := s.UseOnce(t.Context(), "raced", until)
		if err == nil && !ok {
			return errRepeat
		}
		return err
	})
	fixtureOneWinner(t, errs, errRepeat)
}
