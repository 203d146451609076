package revocation

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Run keeps the set in step with the store until ctx is done: it watches
// for changes, reloads everything on every (re)connect before it reports
// ready, and marks itself unsynced while the watch is down.
func (s *Set) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer s.leave()
	defer wg.Wait()
	wg.Go(func() { s.tick(ctx) })

	backoff := 100 * time.Millisecond
	for {
		fresh := true
		err := s.st.WatchRevocations(ctx, func() {
			// The first notification of a watch reloads the whole set: the
			// watch may have been down, and entries recorded meanwhile must
			// be in memory before the node vouches for any token again.
			full := fresh
			fresh = false
			s.watching.Store(true)
			if s.load(ctx, full) {
				backoff = 100 * time.Millisecond
			}
		})
		s.watching.Store(false)
		s.setSynced(false)
		if ctx.Err() != nil {
			return
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "revocation feed disconnected; treating tokens as inactive until it is back",
			slog.String("error", errString(err)), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// tick prunes expired entries and re-reads the store now and then, as a
// safety net against a lost notification; with a roster it does so every
// quarter of the lease, acknowledging each time, which renews the lease.
func (s *Set) tick(ctx context.Context) {
	prune := time.NewTicker(s.every)
	defer prune.Stop()
	every := s.every
	if s.roster != nil {
		every = min(every, s.lease/4)
	}
	reload := time.NewTicker(every)
	defer reload.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			s.prune()
		case <-reload.C:
			if s.watching.Load() {
				// A failed read or a lapsed lease left the set unable
				// to vouch for itself: reload it whole.
				s.load(ctx, s.Ready(ctx) != nil)
			}
		}
	}
}

// load reads entries from the store into the set: all of them when full,
// else those after the newest one known, and acknowledges them on the
// roster. It reports success, and marks the set synced after a successful
// full load (or keeps it so after an incremental one); a failed read marks
// it unsynced, a failed acknowledgement lets the lease run out.
func (s *Set) load(ctx context.Context, full bool) bool {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	after := int64(0)
	if !full {
		after = s.loadedSeq()
	}
	if !s.read(ctx, after) {
		return false
	}
	if !s.watching.Load() {
		return true
	}
	if s.roster != nil && !s.acknowledge(ctx) {
		return false
	}
	if full && s.setSyncedIfWatching() {
		s.log.LogAttrs(ctx, slog.LevelInfo, "revocation set loaded", slog.Int("entries", s.Size()))
	}
	return true
}

// setSyncedIfWatching marks the set synced unless its watch has ended
// meanwhile: Run clears watching before it marks the set unsynced, so
// checking under mu cannot undo that.
func (s *Set) setSyncedIfWatching() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.watching.Load() {
		return false
	}
	if !s.synced {
		s.synced = true
		s.wakeLocked()
	}
	return true
}

// readTimeout bounds one page read from the store, so that a store that
// stops answering cannot hold syncMu for good.
const readTimeout = 10 * time.Second

// read applies every entry after the cursor. The caller holds syncMu.
func (s *Set) read(ctx context.Context, after int64) bool {
	for {
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		page, err := s.st.RevocationsSince(rctx, after, pageSize)
		cancel()
		if err != nil {
			s.setSynced(false)
			s.log.LogAttrs(ctx, slog.LevelWarn, "reading revocations", slog.String("error", err.Error()))
			return false
		}
		s.apply(page)
		if len(page) > 0 {
			s.setLoaded(page[len(page)-1].Seq)
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Seq
	}
	s.loadedAt.Store(s.now().UnixNano())
	return true
}

// loadedSeq returns the highest Seq read from the store.
func (s *Set) loadedSeq() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.loaded
}

// setLoaded records that every entry up to seq has been read, and wakes
// feed readers: entries this node recorded itself enter the feed only now.
func (s *Set) setLoaded(seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.loaded {
		return
	}
	s.loaded = seq
	s.wakeLocked()
}

// setSynced records whether the set can vouch for itself, and wakes feed
// readers when that changes (a stream ends when its node loses the feed).
func (s *Set) setSynced(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.synced == v {
		return
	}
	s.synced = v
	s.wakeLocked()
}

// wakeLocked wakes everyone waiting on changed. The caller holds mu.
func (s *Set) wakeLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func errString(err error) string {
	if err == nil {
		return "watch ended"
	}
	return err.Error()
}
