package main

import (
	"testing"
	"time"
)

func TestWindowsCovers(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	w := newWindows(10 * time.Second)
	w.stop(compRedis, at(100))
	w.start(compRedis, at(110))

	open := []struct {
		name           string
		sent, answered float64
		want           bool
	}{
		{"answered before the stop", 90, 99.9, false},
		{"in flight across the stop", 99.9, 100.1, true},
		{"while down", 105, 105.01, true},
		{"after the start, not yet recovered", 200, 200.01, true},
	}
	for _, c := range open {
		t.Run("open/"+c.name, func(t *testing.T) {
			if got := w.covers(at(c.sent), at(c.answered)); got != c.want {
				t.Errorf("covers(%v, %v) = %v, want %v", c.sent, c.answered, got, c.want)
			}
		})
	}

	w.recover(compRedis, at(112))
	closed := []struct {
		name           string
		sent, answered float64
		want           bool
	}{
		{"answered before the stop", 90, 99.9, false},
		{"in the grace", 121.9, 122.1, true},
		{"sent at the end of the grace", 122, 122.5, true},
		{"sent after the grace", 122.001, 122.01, false},
		{"long after", 300, 300.01, false},
	}
	for _, c := range closed {
		t.Run("closed/"+c.name, func(t *testing.T) {
			if got := w.covers(at(c.sent), at(c.answered)); got != c.want {
				t.Errorf("covers(%v, %v) = %v, want %v", c.sent, c.answered, got, c.want)
			}
		})
	}
	if w.coversComp(compPostgres, at(105), at(105.01)) {
		t.Error("PostgreSQL's window covers Redis's outage")
	}
	if !w.coversComp(compRedis, at(105), at(105.01)) {
		t.Error("Redis's window does not cover its own outage")
	}
}

func TestWindowsFirstSuccess(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWindows(time.Second)
	w.success(compPostgres, t0, t0.Add(time.Millisecond)) // no outage yet
	w.stop(compPostgres, t0.Add(time.Second))
	w.start(compPostgres, t0.Add(11*time.Second))
	w.success(compPostgres, t0.Add(10*time.Second), t0.Add(12*time.Second)) // sent before the start
	w.success(compPostgres, t0.Add(12*time.Second), t0.Add(13*time.Second))
	w.success(compPostgres, t0.Add(11500*time.Millisecond), t0.Add(12500*time.Millisecond)) // answered earlier
	w.success(compPostgres, t0.Add(14*time.Second), t0.Add(15*time.Second))
	got := w.snapshot()[compPostgres].firstSuccess
	if want := t0.Add(12500 * time.Millisecond); !got.Equal(want) {
		t.Errorf("firstSuccess = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	if !w.snapshot()[compRedis].firstSuccess.IsZero() {
		t.Error("Redis got a first success it never had")
	}
}
