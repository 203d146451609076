package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tollgate/tollgate/store"
)

var _ store.ReplayStore = (*Store)(nil)

// replayRow is the live model of table assertion_replays.
type replayRow struct {
	ID        string    `gorm:"column:id;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (replayRow) TableName() string { return "assertion_replays" }

// UseOnce records id until until and reports true the first time. One
// upsert decides: it inserts id, or takes over a record that has expired
// by the Store's clock, and changes no row for a live record, so of two
// racing callers exactly one sees a row affected. DeleteExpired purges
// expired records.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	row := replayRow{ID: id, ExpiresAt: dbTime(until)}
	now := dbTime(s.now())
	if !row.ExpiresAt.After(now) {
		// Already expired: nothing could replay it within its life.
		return true, nil
	}
	var fresh bool
	err := s.write(ctx, "use once", func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.Assignments(map[string]any{"expires_at": row.ExpiresAt}),
			Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "assertion_replays.expires_at <= ?", Vars: []any{now}}}},
		}).Create(&row)
		fresh = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, err
	}
	return fresh, nil
}
