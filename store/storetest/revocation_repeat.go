package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// revocationTestRepeatIsNoop: revoking again what an unexpired entry
// already covers (store.Covers) writes nothing and hands back that entry,
// on either instance; anything the entry does not cover is a new entry.
func revocationTestRepeatIsNoop(t *testing.T, a, b store.RevocationStore) {
	now := revocationNow()
	tok := revocationFixture(store.RevokedToken, now.Add(-time.Minute), time.Hour)
	revocationRevoke(t, a, tok)
	subj := revocationFixture(store.RevokedSubject, now.Add(-time.Minute), time.Hour)
	revocationRevoke(t, a, subj)

	covered := []struct {
		name string
		r    store.Revocation
	}{
		{"same token again", store.Revocation{Kind: tok.Kind, Key: tok.Key, RevokedAt: now, ExpiresAt: tok.ExpiresAt}},
		{"token kept shorter", store.Revocation{Kind: tok.Kind, Key: tok.Key, RevokedAt: now, ExpiresAt: tok.ExpiresAt.Add(-time.Second)}},
		{"same subject again", store.Revocation{Kind: subj.Kind, Key: subj.Key, RevokedAt: subj.RevokedAt, ExpiresAt: subj.ExpiresAt}},
		{"subject revoked earlier", store.Revocation{Kind: subj.Kind, Key: subj.Key, RevokedAt: subj.RevokedAt.Add(-time.Second), ExpiresAt: subj.ExpiresAt}},
	}
	for _, tc := range covered {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 20 {
				r := tc.r
				revocationRevoke(t, []store.RevocationStore{a, b}[i%2], &r)
				want := tok
				if r.Kind == store.RevokedSubject {
					want = subj
				}
				revocationEqual(t, want, &r)
			}
		})
	}
	if got := revocationOwn(revocationAll(t, b, tok.Seq-1), tok, subj); len(got) != 2 {
		t.Fatalf("after repeats: %d entries, want the 2 originals: %+v", len(got), got)
	}

	fresh := []struct {
		name string
		r    store.Revocation
	}{
		{"token kept longer", store.Revocation{Kind: tok.Kind, Key: tok.Key, RevokedAt: now, ExpiresAt: tok.ExpiresAt.Add(time.Second)}},
		{"subject kept longer", store.Revocation{Kind: subj.Kind, Key: subj.Key, RevokedAt: subj.RevokedAt, ExpiresAt: subj.ExpiresAt.Add(time.Second)}},
		{"subject revoked later", store.Revocation{Kind: subj.Kind, Key: subj.Key, RevokedAt: subj.RevokedAt.Add(time.Second), ExpiresAt: subj.ExpiresAt}},
		{"other kind, same key", store.Revocation{Kind: store.RevokedSubject, Key: tok.Key, RevokedAt: now, ExpiresAt: tok.ExpiresAt}},
	}
	last := subj.Seq
	for _, tc := range fresh {
		r := tc.r
		revocationRevoke(t, b, &r)
		if r.Seq <= last {
			t.Errorf("%s: Seq = %d, want a new entry after %d", tc.name, r.Seq, last)
		}
		last = max(last, r.Seq)
	}
}

// revocationTestRepeatAfterExpiry: an expired entry covers nothing.
func revocationTestRepeatAfterExpiry(t *testing.T, a, b store.RevocationStore) {
	short := revocationFixture(store.RevokedToken, revocationNow(), 300*time.Millisecond)
	revocationRevoke(t, a, short)
	time.Sleep(time.Until(short.ExpiresAt) + 100*time.Millisecond)
	again := store.Revocation{Kind: short.Kind, Key: short.Key, RevokedAt: revocationNow(), ExpiresAt: revocationNow().Add(time.Hour)}
	revocationRevoke(t, b, &again)
	if again.Seq <= short.Seq {
		t.Fatalf("revoked again after expiry: Seq = %d, want a new entry after %d", again.Seq, short.Seq)
	}
	if got := revocationOwn(revocationAll(t, a, short.Seq-1), &again); len(got) != 1 {
		t.Fatalf("entries = %+v, want the new one only", got)
	}
}

// revocationTestConcurrentRepeat: the same revocation raced on both
// instances is recorded once, and every caller gets that entry's Seq.
func revocationTestConcurrentRepeat(t *testing.T, a, b store.RevocationStore) {
	const n = 16
	base := revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
	rs := make([]store.Revocation, n)
	for i := range rs {
		rs[i] = *base
	}
	errs := fixtureRace(n, func(i int) error {
		return []store.RevocationStore{a, b}[i%2].Revoke(t.Context(), &rs[i])
	})
	for i, err := range errs {
		fixtureNoErr(t, fmt.Sprintf("Revoke #%d", i), err)
	}
	got := revocationOwn(revocationAll(t, a, 0), base)
	if len(got) != 1 {
		t.Fatalf("%d concurrent repeats made %d entries, want 1: %+v", n, len(got), got)
	}
	for i := range rs {
		if rs[i].Seq != got[0].Seq {
			t.Errorf("Revoke #%d: Seq = %d, want the one entry's %d", i, rs[i].Seq, got[0].Seq)
		}
	}
}
