package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

var _ store.LifetimeStore = (*Store)(nil)

// Names of the rows of token_lifetimes.
const (
	lifetimeDefault = "default"
	lifetimeLongest = "longest"
)

// RaiseLifetimes raises the stored marks to m where m is longer. Each row
// is raised by one upsert that keeps the larger value, so concurrent
// raises never lose one.
func (s *Store) RaiseLifetimes(ctx context.Context, m store.LifetimeMarks) (store.LifetimeMarks, error) {
	var out store.LifetimeMarks
	err := s.write(ctx, "raise token lifetimes", func(tx *gorm.DB) error {
		// Always in this order, so that concurrent raises on PostgreSQL
		// lock the rows alike and never deadlock.
		marks := []struct {
			name string
			d    time.Duration
		}{{lifetimeDefault, m.Default}, {lifetimeLongest, max(m.Longest, m.Default)}}
		for _, mk := range marks {
			err := tx.Exec("INSERT INTO token_lifetimes (name, ttl_ns) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "+
				"ttl_ns = CASE WHEN excluded.ttl_ns > token_lifetimes.ttl_ns THEN excluded.ttl_ns ELSE token_lifetimes.ttl_ns END",
				mk.name, int64(mk.d)).Error
			if err != nil {
				return err
			}
		}
		var err error
		out, err = readLifetimes(tx)
		return err
	})
	return out, err
}

// Lifetimes returns the stored marks.
func (s *Store) Lifetimes(ctx context.Context) (store.LifetimeMarks, error) {
	m, err := readLifetimes(s.read(ctx))
	return m, wrapErr("read token lifetimes", err)
}

func readLifetimes(db *gorm.DB) (store.LifetimeMarks, error) {
	var rows []struct {
		Name  string
		TTLNs int64 `gorm:"column:ttl_ns"`
	}
	var m store.LifetimeMarks
	if err := db.Raw("SELECT name, ttl_ns FROM token_lifetimes").Scan(&rows).Error; err != nil {
		return m, err
	}
	for _, r := range rows {
		switch r.Name {
		case lifetimeDefault:
			m.Default = time.Duration(r.TTLNs)
		case lifetimeLongest:
			m.Longest = time.Duration(r.TTLNs)
		}
	}
	return m, nil
}
