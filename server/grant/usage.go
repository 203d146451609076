package grant

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// usage batches API keys' last-used times, so that an exchange never waits
// on a database write: they are flushed in one statement now and then.
type usage struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newUsage() *usage { return &usage{seen: map[string]time.Time{}} }

func (u *usage) touch(id string, at time.Time) {
	u.mu.Lock()
	if at.After(u.seen[id]) {
		u.seen[id] = at
	}
	u.mu.Unlock()
}

func (u *usage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		return nil
	}
	out := u.seen
	u.seen = map[string]time.Time{}
	return out
}

// RunUsage writes API keys' last-used times every interval until ctx is
// done, and once more on the way out.
func (e *Engine) RunUsage(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			e.flushUsage(final)
			cancel()
			return
		case <-t.C:
			e.flushUsage(ctx)
		}
	}
}

func (e *Engine) flushUsage(ctx context.Context) {
	batch := e.usage.take()
	if batch == nil || e.opts.APIKeys == nil {
		return
	}
	if err := e.opts.APIKeys.TouchAPIKeys(ctx, batch); err != nil {
		// Put them back: the next flush retries; max() keeps the latest.
		for id, at := range batch {
			e.usage.touch(id, at)
		}
		e.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "recording API key use", slog.String("error", err.Error()))
	}
}
