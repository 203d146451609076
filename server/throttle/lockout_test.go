package throttle

import (
	"strconv"
	"testing"
	"time"
)

func TestLockout(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := NewLockout(LockoutPolicy{Threshold: 3, Base: time.Second, Max: 8 * time.Second, Forget: time.Minute}, func() time.Time { return now })
	for i := range 3 {
		if d := l.Fail("k"); d != 0 {
			t.Fatalf("failure %d within the budget locked for %s", i+1, d)
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		if d := l.Fail("k"); d != w {
			t.Errorf("failure %d: locked %s, want %s", 4+i, d, w)
		}
	}
	if l.Locked("k") != 8*time.Second || l.Locked("other") != 0 {
		t.Error("Locked disagrees with Fail")
	}
	now = now.Add(9 * time.Second)
	if l.Locked("k") != 0 {
		t.Error("still locked after the delay")
	}
	l.Succeed("k")
	if d := l.Fail("k"); d != 0 {
		t.Error("success did not reset the budget")
	}
	// Failures far apart are forgotten.
	for range 10 {
		now = now.Add(2 * time.Minute)
		if d := l.Fail("slow"); d != 0 {
			t.Fatal("failures spread over hours locked a key")
		}
	}
}

func TestLockoutBoundedMemory(t *testing.T) {
	l := NewLockout(LockoutPolicy{Threshold: 1, Base: time.Second, Max: time.Minute, Forget: time.Hour}, nil)
	for i := range maxEntries + 5000 {
		l.Fail("key-" + strconv.Itoa(i))
	}
	if n := len(l.m); n > maxEntries {
		t.Fatalf("%d entries kept, bound is %d", n, maxEntries)
	}
}
