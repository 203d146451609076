package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// logger writes the soak's progress lines, stamped with the time since
// the load started.
type logger struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func newLogger(w io.Writer) *logger { return &logger{w: w} }

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	stamp := "setup"
	if !l.start.IsZero() {
		stamp = "+" + fmtDur(time.Since(l.start))
	}
	fmt.Fprintf(l.w, "soak [%s] %s\n", stamp, fmt.Sprintf(format, args...))
}

// progress prints a line every interval until ctx ends.
func progress(ctx context.Context, log *logger, l *load, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last uint64
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, by, wrong, faults := l.rec.progress()
			live, revoked := l.pools.counts()
			var bad uint64
			for _, v := range wrong {
				bad += v
			}
			log.printf("%.0f req/s | 2xx %d, 4xx %d, 503 %d (%d in windows), other 5xx %d, no answer %d | faults %d, wrong answers %d | revoked %d, live %d",
				float64(n-last)/now.Sub(lastAt).Seconds(),
				by[class2xx][0]+by[class2xx][1], by[class4xx][0]+by[class4xx][1], by[class503][0]+by[class503][1], by[class503][1],
				by[class5xx][0]+by[class5xx][1], by[classNone][0]+by[classNone][1], faults, bad, revoked, live)
			last, lastAt = n, now
		}
	}
}

// fmtDur prints d to the millisecond, or to the second from a minute up.
func fmtDur(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
