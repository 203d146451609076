package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

const (
	// defaultRevocationPoll is Options.RevocationPoll's default.
	defaultRevocationPoll = 500 * time.Millisecond
	// revocationPollTimeout bounds one poll of WatchRevocations, so that a
	// database that stops answering ends the watch instead of hanging it.
	revocationPollTimeout = 10 * time.Second
)

// revocationRow is the live model of table revocations.
type revocationRow struct {
	Seq       int64     `gorm:"column:seq;primaryKey;autoIncrement"`
	Kind      string    `gorm:"column:kind"`
	Key       string    `gorm:"column:key"`
	RevokedAt time.Time `gorm:"column:revoked_at"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (revocationRow) TableName() string { return "revocations" }

func (r *revocationRow) toRevocation() store.Revocation {
	return store.Revocation{
		Seq:       r.Seq,
		Kind:      store.RevocationKind(r.Kind),
		Key:       r.Key,
		RevokedAt: fromDBTime(r.RevokedAt),
		ExpiresAt: fromDBTime(r.ExpiresAt),
	}
}

// Revoke records r, sets r.Seq and wakes this Store's watchers; watchers
// of other Stores learn of it at their next poll. An entry expired by the
// Store's clock is not recorded and r.Seq is left alone. An entry the set
// already covers (store.Covers) is not recorded either: r becomes the
// covering entry. The covering check runs under the same lock as the
// insert, so racing writers never both record the same entry.
func (s *Store) Revoke(ctx context.Context, r *store.Revocation) error {
	row := revocationRow{
		Kind:      string(r.Kind),
		Key:       r.Key,
		RevokedAt: dbTime(r.RevokedAt),
		ExpiresAt: dbTime(r.ExpiresAt),
	}
	if !row.ExpiresAt.After(dbTime(s.now())) {
		return nil
	}
	var cover revocationRow
	err := s.write(ctx, "revoke", func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			// A sequence hands out values before commit, so two
			// concurrent inserts could commit out of Seq order and a
			// reader could see Seq n+1, move its cursor past n, and never
			// see n. The lock serialises writers, so they commit in Seq
			// order; readers (ACCESS SHARE) are not blocked. SQLite needs
			// nothing: it has a single writer.
			if err := tx.Exec("LOCK TABLE revocations IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		found, err := coveringRevocation(tx, &row, &cover)
		if err != nil || found {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return err
	}
	if cover.Seq != 0 {
		*r = cover.toRevocation()
		return nil
	}
	r.Seq = row.Seq
	s.watchers.wake()
	return nil
}

// coveringRevocation finds the newest entry that covers row (see
// store.Covers) into cover. The (kind, key) index keeps it one lookup.
func coveringRevocation(tx *gorm.DB, row, cover *revocationRow) (bool, error) {
	q := tx.Where(&revocationRow{Kind: row.Kind, Key: row.Key}).Where("expires_at >= ?", row.ExpiresAt)
	if row.Kind != string(store.RevokedToken) {
		q = q.Where("revoked_at >= ?", row.RevokedAt)
	}
	res := q.Order("seq DESC").Limit(1).Find(cover)
	return res.RowsAffected > 0, res.Error
}

// RevocationsSince returns up to limit entries unexpired by the Store's
// clock with Seq > after, in Seq order. A limit of zero or less returns
// none.
func (s *Store) RevocationsSince(ctx context.Context, after int64, limit int) ([]store.Revocation, error) {
	if limit <= 0 {
		return []store.Revocation{}, nil
	}
	var rows []revocationRow
	err := s.read(ctx).Where("seq > ? AND expires_at > ?", after, dbTime(s.now())).
		Order("seq").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, wrapErr("list revocations", err)
	}
	out := make([]store.Revocation, len(rows))
	for i := range rows {
		out[i] = rows[i].toRevocation()
	}
	return out, nil
}

// WatchRevocations polls the highest Seq every Options.RevocationPoll and
// calls notify when it changed; a Revoke through this Store wakes it at
// once. It returns ctx.Err() once ctx is done. Any failed poll ends it with
// an error wrapping store.ErrUnavailable: the caller may have missed
// entries either way, and must read from its cursor and watch again.
func (s *Store) WatchRevocations(ctx context.Context, notify func()) error {
	wake, remove := s.watchers.add()
	defer remove()
	last, err := s.maxRevocationSeq(ctx)
	if err != nil {
		return watchErr(ctx, err)
	}
	notify()
	return pollLoop(ctx, s.revocationPoll, wake, func() error {
		seq, err := s.maxRevocationSeq(ctx)
		if err != nil {
			return watchErr(ctx, err)
		}
		// Seq only grows, so any change (even a drop, when DeleteExpired
		// purged the newest entries) is worth a look.
		if seq != last {
			last = seq
			notify()
		}
		return nil
	})
}

// pollLoop runs poll every interval and whenever wake fires, until ctx is
// done (it returns ctx.Err()) or poll fails (it returns that error): the
// loop the revocation and change watches share.
func pollLoop(ctx context.Context, every time.Duration, wake <-chan struct{}, poll func() error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-tick.C:
		}
		if err := poll(); err != nil {
			return err
		}
	}
}

func (s *Store) maxRevocationSeq(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, revocationPollTimeout)
	defer cancel()
	var seq int64
	err := s.read(ctx).Model(&revocationRow{}).Select("COALESCE(MAX(seq), 0)").Scan(&seq).Error
	return seq, err
}

// watchErr is ctx.Err() when the watch was cancelled, and otherwise err
// wrapping store.ErrUnavailable.
func watchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = translate(err)
	if !errors.Is(err, store.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: watch revocations: %w", err)
}

// deleteExpiredRevocations purges entries expired at now, for
// DeleteExpired. Reads already skip them; AUTOINCREMENT and sequences keep
// their Seqs from being reused.
func deleteExpiredRevocations(tx *gorm.DB, now time.Time) (int64, error) {
	res := tx.Where("expires_at <= ?", now).Delete(&revocationRow{})
	return res.RowsAffected, res.Error
}

// revocationWatchers wakes this Store's watchers when it records an entry.
// The zero value is ready.
type revocationWatchers struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// add registers a watcher: its channel receives (coalesced) wake-ups until
// remove is called.
func (w *revocationWatchers) add() (wake <-chan struct{}, remove func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.subs == nil {
		w.subs = map[chan struct{}]struct{}{}
	}
	w.subs[ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs, ch)
	}
}

func (w *revocationWatchers) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}
