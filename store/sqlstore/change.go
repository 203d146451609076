package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

var _ store.ChangeFeed = (*Store)(nil)

const (
	// defaultChangePoll is how often WatchChanges reads the log: a change
	// by another process (the CLI) reaches this one's caches within it.
	// One indexed read of at most a few rows; a change made through this
	// Store wakes its watchers at once.
	defaultChangePoll = 250 * time.Millisecond
	// changeLogKeep is how many changes the log keeps: enough that a
	// watcher polling every fraction of a second never misses one unseen.
	changeLogKeep = 10_000
	// changePage is how many changes one poll reads at most.
	changePage = 500
)

// changeRow is the live model of table change_log (see migrationChangeLog).
type changeRow struct {
	Seq       int64     `gorm:"column:seq;primaryKey;autoIncrement:false"`
	Kind      string    `gorm:"column:kind"`
	EntityID  string    `gorm:"column:entity_id"`
	ChangedAt time.Time `gorm:"column:changed_at"`
}

func (changeRow) TableName() string { return "change_log" }

// recordChange logs a change inside the write's transaction tx. Call it
// last in the transaction: taking the Seq locks change_seq's row until
// commit (on PostgreSQL), and a transaction that held it while waiting for
// another lock could deadlock.
func (s *Store) recordChange(tx *gorm.DB, kind store.ChangeKind, id string) error {
	var seq int64
	if err := tx.Raw("UPDATE change_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq").Scan(&seq).Error; err != nil {
		return fmt.Errorf("recording the change: %w", err)
	}
	if seq == 0 {
		return errors.New("recording the change: table change_seq has no row")
	}
	if err := tx.Create(&changeRow{Seq: seq, Kind: string(kind), EntityID: id, ChangedAt: dbTime(s.now())}).Error; err != nil {
		return fmt.Errorf("recording the change: %w", err)
	}
	if seq%1000 == 0 { // prune now and then, by primary key
		return tx.Where("seq <= ?", seq-changeLogKeep).Delete(&changeRow{}).Error
	}
	return nil
}

// writeChange runs fn in a write transaction that also logs the change,
// then wakes this Store's change watchers.
func (s *Store) writeChange(ctx context.Context, op string, kind store.ChangeKind, id string, fn func(tx *gorm.DB) error) error {
	err := s.write(ctx, op, func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.recordChange(tx, kind, id)
	})
	if err == nil {
		s.changeWatchers.wake()
	}
	return err
}

// LastChange returns the highest Seq given out, 0 if none.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	err := s.read(ctx).Raw("SELECT seq FROM change_seq WHERE id = 1").Scan(&seq).Error
	return seq, wrapErr("last change", err)
}

// ChangesAfter returns up to limit changes with Seq > after, in Seq order.
func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		return []store.Change{}, nil
	}
	var rows []changeRow
	if err := s.read(ctx).Where("seq > ?", after).Order("seq").Limit(limit).Find(&rows).Error; err != nil {
		return nil, wrapErr("list changes", err)
	}
	out := make([]store.Change, len(rows))
	for i, r := range rows {
		out[i] = store.Change{Seq: r.Seq, Kind: store.ChangeKind(r.Kind), ID: r.EntityID, At: fromDBTime(r.ChangedAt)}
	}
	return out, nil
}

// WatchChanges polls the log every ChangePoll, and at once after a change
// through this Store. See store.ChangeFeed.
func (s *Store) WatchChanges(ctx context.Context, ready func(), changed func(store.Change)) error {
	wake, remove := s.changeWatchers.add()
	defer remove()
	last, err := s.lastChangeBounded(ctx)
	if err != nil {
		return changeWatchErr(ctx, err)
	}
	ready()
	return pollLoop(ctx, s.changePoll, wake, func() error {
		for {
			cs, err := s.pollChangesAfter(ctx, last)
			if err != nil {
				return changeWatchErr(ctx, err)
			}
			if len(cs) > 0 && cs[0].Seq != last+1 {
				// Pruned before this watcher saw them: what changed is
				// unknown.
				ready()
			}
			for _, c := range cs {
				changed(c)
				last = c.Seq
			}
			if len(cs) < changePage {
				return nil
			}
		}
	})
}

// lastChangeBounded and pollChangesAfter bound one poll, so that a hung
// database ends the watch instead of stalling it.
func (s *Store) lastChangeBounded(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, revocationPollTimeout)
	defer cancel()
	return s.LastChange(ctx)
}

func (s *Store) pollChangesAfter(ctx context.Context, after int64) ([]store.Change, error) {
	ctx, cancel := context.WithTimeout(ctx, revocationPollTimeout)
	defer cancel()
	return s.ChangesAfter(ctx, after, changePage)
}

// changeWatchErr is ctx.Err() when the watch was cancelled, and otherwise
// err wrapping store.ErrUnavailable.
func changeWatchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !errors.Is(err, store.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: watch changes: %w", err)
}
