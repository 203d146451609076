// Package storetest holds the contract suites that every implementation of
// the store interfaces must pass. Each Run function takes an open func that
// returns a new, empty store for each subtest and closes it in t.Cleanup.
package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fixtureEpoch is a fixed instant with nanoseconds and a non-UTC zone, so
// that round trips exercise truncation and zone normalisation.
var fixtureEpoch = time.Date(2026, time.November, 26, 10, 30, 15, 123456789, time.FixedZone("UTC+1", 3600))

// fixtureTime returns fixtureEpoch moved by d.
func fixtureTime(d time.Duration) time.Time {
	return fixtureEpoch.Add(d)
}

// fixtureBytes returns n random bytes.
func fixtureBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("rand: %v", err)
	}
	return b
}

// fixtureSameTime reports whether a and b are the same instant at the
// microsecond precision PostgreSQL keeps; a zero time matches only zero.
func fixtureSameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// fixtureDiff collects field mismatches between a wanted and a got record.
type fixtureDiff struct {
	problems []string
}

func (d *fixtureDiff) time(field string, want, got time.Time) {
	if !fixtureSameTime(want, got) {
		d.problems = append(d.problems, fmt.Sprintf("%s = %v, want %v", field, got, want))
	}
}

// strings treats nil and empty as equal: stores need not keep the difference.
func (d *fixtureDiff) strings(field string, want, got []string) {
	if !slices.Equal(want, got) {
		d.problems = append(d.problems, fmt.Sprintf("%s = %q, want %q", field, got, want))
	}
}

// bytes treats nil and empty as equal.
func (d *fixtureDiff) bytes(field string, want, got []byte) {
	if !bytes.Equal(want, got) {
		d.problems = append(d.problems, fmt.Sprintf("%s = %x, want %x", field, got, want))
	}
}

// claims compares JSON objects of extra claims byte for byte; none must
// read back as nil, not as an empty slice or "null".
func (d *fixtureDiff) claims(field string, want, got []byte) {
	if len(want) == 0 && got != nil {
		d.problems = append(d.problems, fmt.Sprintf("%s = %q, want nil", field, got))
		return
	}
	if !bytes.Equal(want, got) {
		d.problems = append(d.problems, fmt.Sprintf("%s = %s, want %s", field, got, want))
	}
}

func (d *fixtureDiff) value(field string, want, got any) {
	if want != got {
		d.problems = append(d.problems, fmt.Sprintf("%s = %v, want %v", field, got, want))
	}
}

func (d *fixtureDiff) report(t *testing.T, what string) {
	t.Helper()
	for _, p := range d.problems {
		t.Errorf("%s: %s", what, p)
	}
}

// fixtureWantErr fails unless err matches target.
func fixtureWantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// fixtureNoErr fails on err.
func fixtureNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// fixtureRace starts n calls of fn(i) together and returns their errors in
// call order.
func fixtureRace(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// fixtureOneWinner checks that exactly one of errs is nil and every other
// matches loser, and returns the winner's index (-1 if there is none).
func fixtureOneWinner(t *testing.T, errs []error, loser error) int {
	t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner = i
			wins++
		case !errors.Is(err, loser):
			t.Errorf("call %d: err = %v, want nil or %v", i, err, loser)
		}
	}
	if wins != 1 {
		t.Fatalf("%d calls succeeded, want exactly 1", wins)
	}
	return winner
}

// fixturePages walks a cursor-paginated listing with page size limit until
// an empty page, and returns the IDs of each page. list returns the IDs of
// one page.
func fixturePages(t *testing.T, limit int, list func(after string, limit int) ([]string, error)) [][]string {
	t.Helper()
	var pages [][]string
	after := ""
	for range 100 {
		ids, err := list(after, limit)
		fixtureNoErr(t, fmt.Sprintf("list after %q", after), err)
		if len(ids) > limit {
			t.Fatalf("list after %q returned %d items, limit %d", after, len(ids), limit)
		}
		if len(ids) == 0 {
			return pages
		}
		pages = append(pages, ids)
		after = ids[len(ids)-1]
	}
	t.Fatalf("listing did not end after 100 pages")
	return nil
}

// fixtureCheckPages checks that pages, concatenated, are exactly want (in
// order: no gap, no duplicate) and that every page but the last is full.
func fixtureCheckPages(t *testing.T, pages [][]string, want []string, limit int) {
	t.Helper()
	var got []string
	for i, p := range pages {
		if i < len(pages)-1 && len(p) != limit {
			t.Errorf("page %d has %d items, want %d", i, len(p), limit)
		}
		got = append(got, p...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged IDs = %q, want %q", got, want)
	}
}
