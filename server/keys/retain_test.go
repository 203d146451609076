package keys

import (
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// TestRetiredKeyOutlivesLongestToken: with a 1m default lifetime and a
// client whose tokens live 1h, a key retired by a rotation stays published
// until the longest-lived token it may have signed has expired, even when
// that lifetime was set after the rotation (each refresh re-reads it).
func TestRetiredKeyOutlivesLongestToken(t *testing.T) {
	const (
		defaultTTL = time.Minute
		skew       = 30 * time.Second
		clientTTL  = time.Hour
	)
	for _, b := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqltest.OpenSQLite}, {"postgres", sqltest.OpenPostgres}} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st, c := b.open(t), newClock()
			if _, err := st.RaiseLifetimes(ctx, store.LifetimeMarks{Default: defaultTTL}); err != nil {
				t.Fatal(err)
			}
			m, err := New(st, Options{SealKey: testSealKey(t), PrePublish: time.Minute, Retain: defaultTTL + skew,
				Lifetimes: st, ClockSkew: skew, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Load(ctx); err != nil {
				t.Fatal(err)
			}
			old := signerID(t, m)
			if _, err := m.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			// A client's lifetime is raised on another node; this one's
			// next refresh (its key-manager tick) learns it.
			if _, err := st.RaiseLifetimes(ctx, store.LifetimeMarks{Longest: clientTTL}); err != nil {
				t.Fatal(err)
			}
			if err := m.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := m.Retention(), clientTTL+skew; got != want {
				t.Errorf("Retention = %v, want %v", got, want)
			}
			c.Advance(time.Minute) // the new key signs; old signed until now
			steps := []struct {
				after     time.Duration
				published bool
			}{
				{150 * time.Second, true},
				{clientTTL + skew - time.Second, true},
				{clientTTL + skew, false},
			}
			retiredAt := c.Now()
			for _, s := range steps {
				c.Advance(retiredAt.Add(s.after).Sub(c.Now()))
				if err := m.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				_, _, ok := m.PublicKey(old)
				if inJWKS := slices.Contains(jwksKIDs(t, m), old); ok != s.published || inJWKS != s.published || m.Published(old) != s.published {
					t.Errorf("%v after retirement: PublicKey %v, in JWKS %v, Published %v; want %v", s.after, ok, inJWKS, m.Published(old), s.published)
				}
			}
		})
	}
}
