package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunAudit runs the store.AuditStore contract. open is called once per
// subtest and must return an empty store.
func RunAudit(t *testing.T, open func(t *testing.T) store.AuditStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.AuditStore)
	}{
		{"RoundTripEveryField", auditRoundTrip},
		{"RoundTripZeroValues", auditRoundTripZero},
		{"LongValuesKept", auditLongValues},
		{"CallerSlicesNotAliased", auditNoAliasing},
		{"IDsIncrease", auditIDsIncrease},
		{"PagesWithoutGapOrDuplicate", auditPages},
		{"FilterByTargetPrefix", auditFilterTarget},
		{"FilterByAction", auditFilterAction},
		{"FilterBothPages", auditFilterBoth},
		{"FilterSince", auditFilterSince},
		{"ConcurrentAppendsDistinctIDs", auditConcurrent},
		{"ConcurrentWritersNoGap", auditNoGap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

func auditFull(target string) *store.AuditEntry {
	return &store.AuditEntry{
		At:     fixtureTime(0),
		Actor:  "client:tgc_admin",
		Action: "client.update",
		Target: target,
		Before: []byte(`{"client_name":"old","scope":"read","secret":"[redacted]"}`),
		After:  []byte("{\n  \"client_name\": \"nëw 名\",\n  \"roles\": [\"a\", \"b\"]\n}"),
	}
}

func auditAppend(t *testing.T, s store.AuditStore, e *store.AuditEntry) {
	t.Helper()
	fixtureNoErr(t, "append "+e.Target, s.AppendAudit(t.Context(), e))
	if e.ID <= 0 {
		t.Fatalf("append %s: ID = %d, want > 0", e.Target, e.ID)
	}
}

func auditCompare(t *testing.T, what string, want, got *store.AuditEntry) {
	t.Helper()
	var d fixtureDiff
	d.value("ID", want.ID, got.ID)
	d.time("At", want.At, got.At)
	d.value("Actor", want.Actor, got.Actor)
	d.value("Action", want.Action, got.Action)
	d.value("Target", want.Target, got.Target)
	d.bytes("Before", want.Before, got.Before)
	d.bytes("After", want.After, got.After)
	d.report(t, what)
}

// auditAll walks every page of ListAudit after after with page size limit,
// checking that IDs increase, pages respect limit and only the last one is
// short, and returns the entries.
func auditAll(t *testing.T, s store.AuditStore, f store.AuditFilter, after int64, limit int) []store.AuditEntry {
	t.Helper()
	var all []store.AuditEntry
	for range 1000 {
		page, err := s.ListAudit(t.Context(), f, after, limit)
		fixtureNoErr(t, fmt.Sprintf("list after %d", after), err)
		if len(page) > limit {
			t.Fatalf("list after %d returned %d entries, limit %d", after, len(page), limit)
		}
		if len(page) == 0 {
			return all
		}
		for _, e := range page {
			if e.ID <= after {
				t.Fatalf("list returned ID %d after cursor %d", e.ID, after)
			}
			after = e.ID
		}
		all = append(all, page...)
		if len(page) < limit {
			if more, err := s.ListAudit(t.Context(), f, after, limit); err != nil || len(more) != 0 {
				t.Fatalf("short page followed by %d entries, %v", len(more), err)
			}
			return all
		}
	}
	t.Fatalf("listing did not end after 1000 pages")
	return nil
}

func auditRoundTrip(t *testing.T, s store.AuditStore) {
	want := auditFull("client:tgc_1")
	auditAppend(t, s, want)
	got := auditAll(t, s, store.AuditFilter{}, 0, 10)
	if len(got) != 1 {
		t.Fatalf("listed %d entries, want 1", len(got))
	}
	auditCompare(t, "list", want, &got[0])
}

func auditRoundTripZero(t *testing.T, s store.AuditStore) {
	created := &store.AuditEntry{At: fixtureTime(time.Minute), Actor: "cli:root", Action: "user.create", Target: "user:u1",
		After: []byte(`{}`)}
	deleted := &store.AuditEntry{At: fixtureTime(time.Hour), Actor: "cli:root", Action: "user.delete", Target: "user:u1",
		Before: []byte(`null`)}
	empty := &store.AuditEntry{}
	for _, e := range []*store.AuditEntry{created, deleted, empty} {
		auditAppend(t, s, e)
	}
	got := auditAll(t, s, store.AuditFilter{}, 0, 10)
	if len(got) != 3 {
		t.Fatalf("listed %d entries, want 3", len(got))
	}
	for i, want := range []*store.AuditEntry{created, deleted, empty} {
		auditCompare(t, fmt.Sprintf("entry %d", i), want, &got[i])
	}
}

// auditLongValues: the store keeps what the server let through.
func auditLongValues(t *testing.T, s store.AuditStore) {
	e := auditFull("client:" + strings.Repeat("t", 2000))
	e.Actor = "cli:" + strings.Repeat("ö", 1000)
	e.Before = []byte(`{"scope":"` + strings.Repeat("read write ", 20000) + `"}`)
	e.After = []byte(`{"roles":["` + strings.Repeat("名", 30000) + `"]}`)
	auditAppend(t, s, e)
	got := auditAll(t, s, store.AuditFilter{Target: e.Target}, 0, 10)
	if len(got) != 1 {
		t.Fatalf("listed %d entries, want 1", len(got))
	}
	auditCompare(t, "list", e, &got[0])
}

func auditNoAliasing(t *testing.T, s store.AuditStore) {
	e := auditFull("client:tgc_1")
	want := *e
	want.Before, want.After = slices.Clone(e.Before), slices.Clone(e.After)
	auditAppend(t, s, e)
	want.ID = e.ID
	e.Before[0], e.After[0] = 'X', 'X'
	got := auditAll(t, s, store.AuditFilter{}, 0, 10)
	got[0].Before[1], got[0].After[1] = 'Y', 'Y'
	again := auditAll(t, s, store.AuditFilter{}, 0, 10)
	auditCompare(t, "list again", &want, &again[0])
}

func auditIDsIncrease(t *testing.T, s store.AuditStore) {
	var last int64
	for i := range 10 {
		e := auditFull(fmt.Sprintf("client:c%d", i))
		auditAppend(t, s, e)
		if e.ID <= last {
			t.Errorf("append %d: ID = %d, want > %d", i, e.ID, last)
		}
		last = e.ID
	}
}

func auditPages(t *testing.T, s store.AuditStore) {
	const n = 25
	var want []store.AuditEntry
	for i := range n {
		e := auditFull(fmt.Sprintf("client:c%02d", i))
		e.At = fixtureTime(time.Duration(n-i) * time.Second) // At order is not ID order
		auditAppend(t, s, e)
		want = append(want, *e)
	}
	none, err := s.ListAudit(t.Context(), store.AuditFilter{}, 0, 0)
	fixtureNoErr(t, "list limit 0", err)
	if len(none) != 0 {
		t.Errorf("limit 0 listed %d entries", len(none))
	}
	for _, limit := range []int{1, 4, 5, 25, 100} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			got := auditAll(t, s, store.AuditFilter{}, 0, limit)
			if len(got) != n {
				t.Fatalf("paged %d entries, want %d", len(got), n)
			}
			for i := range got {
				auditCompare(t, fmt.Sprintf("entry %d", i), &want[i], &got[i])
			}
		})
	}
	tail := auditAll(t, s, store.AuditFilter{}, want[9].ID, 7)
	if len(tail) != n-10 || tail[0].ID != want[10].ID {
		t.Errorf("list after ID %d: %d entries from ID %d, want %d from %d", want[9].ID, len(tail), tail[0].ID, n-10, want[10].ID)
	}
}

// auditTargets lists targets where byte-order ranges, LIKE wildcards and
// case folding would go wrong if a store got prefix matching wrong.
var auditTargets = []string{
	"client:tgc_abc", "client:tgc_abcd", "client:tgc_abd", "client:tgcXabc", "client:%", "Client:tgc_abc",
	"user:u1", "user:ü名", "user:ü", "user:üa", "user:\U0010FFFF", "user:\U0010FFFFx", "user:\uD7FF", "user:\uE000",
	"user;", "users:x",
}

func auditFilterTarget(t *testing.T, s store.AuditStore) {
	for _, target := range auditTargets {
		e := auditFull(target)
		auditAppend(t, s, e)
	}
	prefixes := []string{
		"", "c", "client:", "client:tgc_", "client:tgc_abc", "client:tgc_abcd", "client:%", "Client:",
		"user:", "user:ü", "user:ü名", "user:\U0010FFFF", "user:\uD7FF", "user", "nomatch", "\U0010FFFF",
	}
	for _, p := range prefixes {
		t.Run(fmt.Sprintf("%q", p), func(t *testing.T) {
			var want []string
			for _, target := range auditTargets {
				if strings.HasPrefix(target, p) {
					want = append(want, target)
				}
			}
			got := auditTargetsOf(auditAll(t, s, store.AuditFilter{Target: p}, 0, 3))
			if !slices.Equal(got, want) {
				t.Errorf("targets = %q, want %q", got, want)
			}
		})
	}
}

func auditTargetsOf(es []store.AuditEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Target)
	}
	return out
}

func auditFilterAction(t *testing.T, s store.AuditStore) {
	actions := []string{"client.create", "client.create2", "Client.create", "client.creat", "client.create", "user.create"}
	var ids []int64
	for i, a := range actions {
		e := auditFull(fmt.Sprintf("client:c%d", i))
		e.Action = a
		auditAppend(t, s, e)
		ids = append(ids, e.ID)
	}
	got := auditAll(t, s, store.AuditFilter{Action: "client.create"}, 0, 1)
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[4] {
		t.Errorf("action client.create listed %+v, want IDs %d and %d", got, ids[0], ids[4])
	}
	if got := auditAll(t, s, store.AuditFilter{Action: "client."}, 0, 10); len(got) != 0 {
		t.Errorf("action is matched exactly, but client. listed %d entries", len(got))
	}
}

// auditFilterSince keeps entries at or after Since, to the microsecond,
// whatever the fraction of a second, combined with the other filters.
func auditFilterSince(t *testing.T, s store.AuditStore) {
	base := fixtureTime(0)
	offsets := []time.Duration{-time.Hour, -time.Microsecond, 0, time.Microsecond, 500 * time.Millisecond, time.Second + 123456*time.Microsecond, 48 * time.Hour}
	var ids []int64
	for i, d := range offsets {
		e := auditFull(fmt.Sprintf("client:c%d", i))
		e.At = base.Add(d)
		if i == 5 {
			e.Action = "client.delete"
		}
		auditAppend(t, s, e)
		ids = append(ids, e.ID)
	}
	idsOf := func(es []store.AuditEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	if got := idsOf(auditAll(t, s, store.AuditFilter{Since: base}, 0, 2)); !slices.Equal(got, ids[2:]) {
		t.Errorf("since the base time listed %v, want %v", got, ids[2:])
	}
	if got := idsOf(auditAll(t, s, store.AuditFilter{Since: base.Add(time.Second), Action: "client.update"}, 0, 10)); !slices.Equal(got, ids[6:]) {
		t.Errorf("since base+1s, action client.update listed %v, want %v", got, ids[6:])
	}
	if got := auditAll(t, s, store.AuditFilter{Since: base.Add(49 * time.Hour)}, 0, 10); len(got) != 0 {
		t.Errorf("since after every entry listed %d entries", len(got))
	}
}

func auditFilterBoth(t *testing.T, s store.AuditStore) {
	var want []int64
	for i := range 30 {
		e := auditFull([]string{"client:a", "client:b", "user:a"}[i%3])
		e.Action = []string{"client.update", "client.delete"}[i%2]
		auditAppend(t, s, e)
		if strings.HasPrefix(e.Target, "client:") && e.Action == "client.update" {
			want = append(want, e.ID)
		}
	}
	for _, limit := range []int{1, 3, 10, 50} {
		var got []int64
		for _, e := range auditAll(t, s, store.AuditFilter{Target: "client:", Action: "client.update"}, 0, limit) {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: IDs = %v, want %v", limit, got, want)
		}
	}
}

func auditConcurrent(t *testing.T, s store.AuditStore) {
	const n = 16
	es := make([]*store.AuditEntry, n)
	for i := range es {
		es[i] = auditFull(fmt.Sprintf("client:c%02d", i))
	}
	errs := fixtureRace(n, func(i int) error { return s.AppendAudit(t.Context(), es[i]) })
	ids := map[int64]string{}
	for i, err := range errs {
		fixtureNoErr(t, fmt.Sprintf("append %d", i), err)
		if _, dup := ids[es[i].ID]; es[i].ID <= 0 || dup {
			t.Errorf("append %d: ID %d is not positive and distinct", i, es[i].ID)
		}
		ids[es[i].ID] = es[i].Target
	}
	got := auditAll(t, s, store.AuditFilter{}, 0, 5)
	if len(got) != n {
		t.Fatalf("listed %d of %d entries", len(got), n)
	}
	for _, e := range got {
		if ids[e.ID] != e.Target {
			t.Errorf("entry %d has target %s, append gave that ID to %q", e.ID, e.Target, ids[e.ID])
		}
	}
}

// auditNoGap: a reader resuming after the last ID it saw, while writers
// append, ends up with every entry. A store whose entries become visible
// out of ID order fails this.
func auditNoGap(t *testing.T, s store.AuditStore) {
	const writers, each, limit = 8, 25, 4
	var (
		mu      sync.Mutex
		written []*store.AuditEntry
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := auditFull(fmt.Sprintf("client:w%d-%d", w, i))
				if err := s.AppendAudit(t.Context(), e); err != nil {
					t.Errorf("writer %d: append: %v", w, err)
					return
				}
				mu.Lock()
				written = append(written, e)
				mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	defer func() { <-done }() // no writer outlives the test, even on Fatal

	seen := map[string]int64{}
	var cursor int64
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := s.ListAudit(t.Context(), store.AuditFilter{}, cursor, limit)
		fixtureNoErr(t, "list", err)
		for _, e := range page {
			if e.ID <= cursor {
				t.Fatalf("ListAudit(%d) returned ID %d", cursor, e.ID)
			}
			cursor = e.ID
			seen[e.Target] = e.ID
		}
		if len(page) == 0 && finished {
			break
		}
	}
	if len(written) != writers*each {
		t.Fatalf("%d of %d entries written", len(written), writers*each)
	}
	for _, e := range written {
		if id, ok := seen[e.Target]; !ok || id != e.ID {
			t.Errorf("reader missed %s (ID %d)", e.Target, e.ID)
		}
	}
}
