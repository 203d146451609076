package storetest

import (
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunRevocations runs the store.RevocationStore contract. open is called
// once per subtest and returns two instances on one backend (the same
// database, or the same Redis and key prefix), as two server processes
// would open them; it registers their cleanup with t.Cleanup. Subtests run
// in parallel and only ever look at entries with their own random keys, so
// open may hand every subtest the same backend. Stores must keep times to
// the microsecond.
func RunRevocations(t *testing.T, open func(t *testing.T) (a, b store.RevocationStore)) {
	tests := []struct {
		name string
		run  func(t *testing.T, a, b store.RevocationStore)
	}{
		{"SeqIncreasesAcrossInstances", revocationTestSeq},
		{"RoundTripBothKinds", revocationTestRoundTrip},
		{"PagesWithoutGapOrDuplicate", revocationTestPages},
		{"AlreadyExpiredNotRecorded", revocationTestAlreadyExpired},
		{"ExpiredEntryDisappears", revocationTestExpires},
		{"SubjectRevokedAgainIsNewEntry", revocationTestRevokedAgain},
		{"RepeatIsNoop", revocationTestRepeatIsNoop},
		{"RepeatAfterExpiryIsNewEntry", revocationTestRepeatAfterExpiry},
		{"ConcurrentRepeatOneEntry", revocationTestConcurrentRepeat},
		{"ConcurrentRevokeDistinctSeqs", revocationTestConcurrent},
		{"ConcurrentWritersNoGap", revocationTestNoGap},
		{"WatchNotifiesAtStartAndStops", revocationTestWatchStart},
		{"WatchSeesOtherInstance", revocationTestWatchOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tc.run(t, a, b)
		})
	}
}

func revocationTestSeq(t *testing.T, a, b store.RevocationStore) {
	var last int64
	for i := range 6 {
		r := revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
		revocationRevoke(t, []store.RevocationStore{a, b}[i%2], r)
		if r.Seq <= last {
			t.Errorf("revocation %d: Seq = %d, want > %d", i, r.Seq, last)
		}
		last = r.Seq
	}
}

func revocationTestRoundTrip(t *testing.T, a, b store.RevocationStore) {
	// Nanoseconds and a non-UTC zone: stores keep microseconds, any zone.
	now := time.Now().In(time.FixedZone("UTC-7", -7*3600))
	tok := &store.Revocation{Kind: store.RevokedToken, Key: "jti|{x}:" + revocationID(),
		RevokedAt: now, ExpiresAt: now.Add(15*time.Minute + 123456789)}
	subj := &store.Revocation{Kind: store.RevokedSubject, Key: store.SubjectUser + "ünï|" + revocationID(),
		RevokedAt: now.Add(-987654321), ExpiresAt: now.Add(2 * time.Hour)}
	revocationRevoke(t, a, tok)
	revocationRevoke(t, a, subj)
	for _, s := range []store.RevocationStore{a, b} {
		got := revocationOwn(revocationAll(t, s, tok.Seq-1), tok, subj)
		if len(got) != 2 {
			t.Fatalf("read back %d of 2 entries: %+v", len(got), got)
		}
		revocationEqual(t, tok, &got[0])
		revocationEqual(t, subj, &got[1])
	}
}

// revocationTestPages writes 25 entries and pages through them 10 at a
// time, each page resuming after the last Seq of the one before.
func revocationTestPages(t *testing.T, a, b store.RevocationStore) {
	const n, limit = 25, 10
	want := make([]*store.Revocation, n)
	for i := range want {
		want[i] = revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
		revocationRevoke(t, []store.RevocationStore{a, b}[i%2], want[i])
	}
	var got []store.Revocation
	after := want[0].Seq - 1
	for page := 0; after < want[n-1].Seq; page++ {
		if page > n {
			t.Fatalf("paging did not reach Seq %d after %d pages", want[n-1].Seq, page)
		}
		rs := revocationSince(t, b, after, limit)
		if len(rs) == 0 || len(rs) > limit {
			t.Fatalf("page %d after Seq %d: %d entries, want 1 to %d", page, after, len(rs), limit)
		}
		if len(rs) < limit && rs[len(rs)-1].Seq < want[n-1].Seq {
			t.Fatalf("page %d: short page (%d) ending at Seq %d before the last entry %d",
				page, len(rs), rs[len(rs)-1].Seq, want[n-1].Seq)
		}
		got = append(got, rs...)
		after = rs[len(rs)-1].Seq
	}
	revocationCheckOrder(t, got)
	own := revocationOwn(got, want...)
	if len(own) != n {
		t.Fatalf("paging saw %d of my %d entries", len(own), n)
	}
	for i := range own {
		revocationEqual(t, want[i], &own[i])
	}
}

func revocationTestAlreadyExpired(t *testing.T, a, b store.RevocationStore) {
	live := revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
	revocationRevoke(t, a, live)
	dead := revocationFixture(store.RevokedSubject, revocationNow().Add(-2*time.Hour), time.Hour)
	revocationRevoke(t, a, dead)
	if dead.Seq != 0 {
		t.Errorf("expired entry recorded with Seq %d, want 0", dead.Seq)
	}
	if got := revocationOwn(revocationAll(t, b, live.Seq-1), live, dead); len(got) != 1 || got[0].Key != live.Key {
		t.Errorf("entries = %+v, want only the live one", got)
	}
}

// revocationTestExpires: an entry that expires is no longer returned, and
// it does not hide a later live entry from a small page.
func revocationTestExpires(t *testing.T, a, b store.RevocationStore) {
	short := revocationFixture(store.RevokedToken, revocationNow(), 300*time.Millisecond)
	revocationRevoke(t, a, short)
	long := revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
	revocationRevoke(t, a, long)
	if got := revocationOwn(revocationAll(t, b, short.Seq-1), short); len(got) != 1 {
		t.Fatalf("entry missing before it expired: %+v", got)
	}
	time.Sleep(time.Until(short.ExpiresAt) + 100*time.Millisecond)
	for _, s := range []store.RevocationStore{a, b} {
		if got := revocationOwn(revocationAll(t, s, short.Seq-1), short, long); len(got) != 1 || got[0].Key != long.Key {
			t.Errorf("after expiry: entries = %+v, want only the long-lived one", got)
		}
		rs := revocationSince(t, s, short.Seq-1, 1)
		if len(rs) != 1 || rs[0].Key == short.Key {
			t.Errorf("RevocationsSince(%d, 1) = %+v, want one live entry", short.Seq-1, rs)
		}
	}
}

// revocationTestRevokedAgain: readers take the latest RevokedAt of a
// subject, so a second revocation must be a second entry.
func revocationTestRevokedAgain(t *testing.T, a, b store.RevocationStore) {
	first := revocationFixture(store.RevokedSubject, revocationNow().Add(-time.Minute), time.Hour)
	first.Key = store.SubjectClient + revocationID()
	revocationRevoke(t, a, first)
	again := *first
	again.Seq = 0
	again.RevokedAt = revocationNow()
	revocationRevoke(t, b, &again)
	if again.Seq <= first.Seq {
		t.Fatalf("second revocation: Seq = %d, want > %d", again.Seq, first.Seq)
	}
	got := revocationOwn(revocationAll(t, a, first.Seq-1), first)
	if len(got) != 2 {
		t.Fatalf("%d entries for the subject, want 2: %+v", len(got), got)
	}
	revocationEqual(t, first, &got[0])
	revocationEqual(t, &again, &got[1])
}

func revocationTestConcurrent(t *testing.T, a, b store.RevocationStore) {
	const n = 16
	rs := make([]*store.Revocation, n)
	for i := range rs {
		rs[i] = revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
	}
	errs := fixtureRace(n, func(i int) error {
		return []store.RevocationStore{a, b}[i%2].Revoke(t.Context(), rs[i])
	})
	seqs := map[int64]bool{}
	for i, err := range errs {
		fixtureNoErr(t, fmt.Sprintf("Revoke #%d", i), err)
		if rs[i].Seq <= 0 || seqs[rs[i].Seq] {
			t.Errorf("Revoke #%d: Seq %d is not positive and distinct", i, rs[i].Seq)
		}
		seqs[rs[i].Seq] = true
	}
	got := revocationAll(t, a, 0)
	revocationCheckOrder(t, got)
	own := revocationOwn(got, rs...)
	if len(own) != n {
		t.Fatalf("reader from 0 saw %d of %d entries", len(own), n)
	}
	for _, r := range own {
		if !seqs[r.Seq] {
			t.Errorf("entry %s read with Seq %d, which no Revoke returned", r.Key, r.Seq)
		}
	}
}

// revocationTestNoGap: a reader that resumes after the last Seq it saw,
// while writers on both instances record entries, ends up with all of
// them. A store whose entries become visible out of Seq order fails this.
func revocationTestNoGap(t *testing.T, a, b store.RevocationStore) {
	const writers, each, limit = 8, 25, 4
	var (
		mu      sync.Mutex
		written []*store.Revocation
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range each {
				r := revocationFixture(store.RevokedToken, revocationNow(), time.Hour)
				if err := []store.RevocationStore{a, b}[w%2].Revoke(t.Context(), r); err != nil {
					t.Errorf("writer %d: Revoke: %v", w, err)
					return
				}
				mu.Lock()
				written = append(written, r)
				mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	defer func() { <-done }() // no writer outlives the test, even on Fatal

	seen := map[string]int64{}
	var cursor int64
	read := func() int {
		rs := revocationSince(t, a, cursor, limit)
		for _, r := range rs {
			if r.Seq <= cursor {
				t.Fatalf("RevocationsSince(%d) returned Seq %d", cursor, r.Seq)
			}
			cursor = r.Seq
			seen[r.Key] = r.Seq
		}
		return len(rs)
	}
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		if n := read(); n == 0 && finished {
			break
		}
	}
	if len(written) != writers*each {
		t.Fatalf("%d of %d revocations written", len(written), writers*each)
	}
	for _, r := range written {
		if seq, ok := seen[r.Key]; !ok || seq != r.Seq {
			t.Errorf("reader missed %s (Seq %d)", r.Key, r.Seq)
		}
	}
}

// revocationID returns a fresh random key part, so that subtests sharing a
// backend never collide.
func revocationID() string {
	return rand.Text()
}

// revocationNow is the current time at the precision stores must keep.
func revocationNow() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// revocationFixture is an entry of kind with a fresh key, revoked at at and
// expiring ttl later.
func revocationFixture(kind store.RevocationKind, at time.Time, ttl time.Duration) *store.Revocation {
	key := "jti-" + revocationID()
	if kind == store.RevokedSubject {
		key = store.SubjectUser + revocationID()
	}
	return &store.Revocation{Kind: kind, Key: key, RevokedAt: at, ExpiresAt: at.Add(ttl)}
}

func revocationRevoke(t *testing.T, s store.RevocationStore, r *store.Revocation) {
	t.Helper()
	fixtureNoErr(t, "Revoke("+r.Key+")", s.Revoke(t.Context(), r))
}

func revocationSince(t *testing.T, s store.RevocationStore, after int64, limit int) []store.Revocation {
	t.Helper()
	rs, err := s.RevocationsSince(t.Context(), after, limit)
	fixtureNoErr(t, fmt.Sprintf("RevocationsSince(%d, %d)", after, limit), err)
	return rs
}

// revocationAll pages through every entry after the cursor.
func revocationAll(t *testing.T, s store.RevocationStore, after int64) []store.Revocation {
	t.Helper()
	var all []store.Revocation
	for range 10000 {
		rs := revocationSince(t, s, after, 100)
		if len(rs) == 0 {
			return all
		}
		all = append(all, rs...)
		after = rs[len(rs)-1].Seq
	}
	t.Fatal("revocation feed did not end")
	return nil
}

// revocationOwn keeps, in order, the entries of rs that have the key of
// one of mine.
func revocationOwn(rs []store.Revocation, mine ...*store.Revocation) []store.Revocation {
	var own []store.Revocation
	for _, r := range rs {
		if slices.ContainsFunc(mine, func(m *store.Revocation) bool { return m.Key == r.Key }) {
			own = append(own, r)
		}
	}
	return own
}

// revocationCheckOrder fails unless Seqs strictly increase.
func revocationCheckOrder(t *testing.T, rs []store.Revocation) {
	t.Helper()
	for i := 1; i < len(rs); i++ {
		if rs[i].Seq <= rs[i-1].Seq {
			t.Fatalf("Seq %d follows Seq %d", rs[i].Seq, rs[i-1].Seq)
		}
	}
}

func revocationEqual(t *testing.T, want, got *store.Revocation) {
	t.Helper()
	var d fixtureDiff
	d.value("Seq", want.Seq, got.Seq)
	d.value("Kind", want.Kind, got.Kind)
	d.value("Key", want.Key, got.Key)
	d.time("RevokedAt", want.RevokedAt, got.RevokedAt)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.report(t, "revocation "+want.Key)
}
