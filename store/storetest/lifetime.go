package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunLifetimes runs the store.LifetimeStore contract. open is called once
// per subtest and must return an empty store.
func RunLifetimes(t *testing.T, open func(t *testing.T) store.LifetimeStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.LifetimeStore)
	}{
		{"ZeroBeforeFirstRaise", lifetimesZero},
		{"RaiseKeepsTheLonger", lifetimesRaise},
		{"LongestCoversDefault", lifetimesLongestCoversDefault},
		{"ConcurrentRaisesKeepTheLongest", lifetimesConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

func lifetimesZero(t *testing.T, s store.LifetimeStore) {
	got, err := s.Lifetimes(t.Context())
	fixtureNoErr(t, "read", err)
	if got != (store.LifetimeMarks{}) {
		t.Errorf("marks of an empty store = %+v, want zero", got)
	}
}

func lifetimesRaise(t *testing.T, s store.LifetimeStore) {
	ctx := t.Context()
	steps := []struct {
		name       string
		give, want store.LifetimeMarks
	}{
		{"first", store.LifetimeMarks{Default: 5 * time.Minute, Longest: time.Hour}, store.LifetimeMarks{Default: 5 * time.Minute, Longest: time.Hour}},
		{"shorter changes nothing", store.LifetimeMarks{Default: time.Minute, Longest: time.Minute}, store.LifetimeMarks{Default: 5 * time.Minute, Longest: time.Hour}},
		{"zero changes nothing", store.LifetimeMarks{}, store.LifetimeMarks{Default: 5 * time.Minute, Longest: time.Hour}},
		{"each mark rises alone", store.LifetimeMarks{Longest: 2 * time.Hour}, store.LifetimeMarks{Default: 5 * time.Minute, Longest: 2 * time.Hour}},
		{"nanoseconds kept", store.LifetimeMarks{Default: 10*time.Minute + 1}, store.LifetimeMarks{Default: 10*time.Minute + 1, Longest: 2 * time.Hour}},
	}
	for _, st := range steps {
		got, err := s.RaiseLifetimes(ctx, st.give)
		fixtureNoErr(t, st.name, err)
		if got != st.want {
			t.Errorf("%s: RaiseLifetimes(%+v) = %+v, want %+v", st.name, st.give, got, st.want)
		}
		read, err := s.Lifetimes(ctx)
		fixtureNoErr(t, st.name+": read", err)
		if read != st.want {
			t.Errorf("%s: Lifetimes = %+v, want %+v", st.name, read, st.want)
		}
	}
}

func lifetimesLongestCoversDefault(t *testing.T, s store.LifetimeStore) {
	got, err := s.RaiseLifetimes(t.Context(), store.LifetimeMarks{Default: 3 * time.Hour, Longest: time.Hour})
	fixtureNoErr(t, "raise", err)
	if want := (store.LifetimeMarks{Default: 3 * time.Hour, Longest: 3 * time.Hour}); got != want {
		t.Errorf("RaiseLifetimes = %+v, want %+v", got, want)
	}
}

func lifetimesConcurrent(t *testing.T, s store.LifetimeStore) {
	ctx := t.Context()
	const n = 8
	errs := fixtureRace(n, func(i int) error {
		_, err := s.RaiseLifetimes(ctx, store.LifetimeMarks{Default: time.Duration(n-i) * time.Minute, Longest: time.Duration(i+1) * time.Hour})
		return err
	})
	for i, err := range errs {
		fixtureNoErr(t, fmt.Sprintf("raise %d", i), err)
	}
	got, err := s.Lifetimes(ctx)
	fixtureNoErr(t, "read", err)
	if want := (store.LifetimeMarks{Default: n * time.Minute, Longest: n * time.Hour}); got != want {
		t.Errorf("after concurrent raises Lifetimes = %+v, want %+v", got, want)
	}
}
