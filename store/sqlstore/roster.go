package sqlstore

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

var _ store.RevocationRoster = (*Store)(nil)

// rosterNow is an SQL expression for now in Unix microseconds and its
// arguments: the database's clock on PostgreSQL, so that nodes' clocks
// need not agree; the process's on SQLite.
func (s *Store) rosterNow() (string, []any) {
	if s.dialect == DialectPostgres {
		return "(extract(epoch from clock_timestamp()) * 1000000)::bigint", nil
	}
	return "?", []any{s.now().UnixMicro()}
}

// AckRevocations records node's acknowledgement of seq and renews its
// lease. It runs in one transaction: a node is on the roster only once it
// has committed, so a node that reads the store after this returns sees
// every entry whose recorder did not find it on the roster.
func (s *Store) AckRevocations(ctx context.Context, node string, seq int64, lease time.Duration) (bool, error) {
	now, nowArgs := s.rosterNow()
	renewed := false
	err := s.write(ctx, "acknowledge revocations", func(tx *gorm.DB) error {
		var running int64
		err := tx.Raw("SELECT COUNT(*) FROM revocation_nodes WHERE node = ? AND lease_until > "+now,
			append([]any{node}, nowArgs...)...).Scan(&running).Error
		if err != nil {
			return err
		}
		renewed = running > 0
		args := append([]any{node, seq}, nowArgs...)
		err = tx.Exec("INSERT INTO revocation_nodes (node, seq, lease_until) VALUES (?, ?, "+now+" + ?) "+
			"ON CONFLICT (node) DO UPDATE SET "+
			"seq = CASE WHEN excluded.seq > revocation_nodes.seq THEN excluded.seq ELSE revocation_nodes.seq END, "+
			"lease_until = excluded.lease_until",
			append(args, max(lease.Microseconds(), 1))...).Error
		if err != nil {
			return err
		}
		return s.pruneRoster(tx, now, nowArgs)
	})
	return renewed, err
}

// rosterPruneAfter is how long after its lease ran out a node's row is
// dropped. Until then it is merely ignored; the margin keeps pruning away
// from rows whose nodes are still acknowledging.
const rosterPruneAfter = time.Minute

// pruneRoster drops the rows of nodes long gone. On PostgreSQL it skips
// rows another transaction holds, so that nodes pruning at once after an
// outage never wait on each other (nor deadlock).
func (s *Store) pruneRoster(tx *gorm.DB, now string, nowArgs []any) error {
	args := append(nowArgs, rosterPruneAfter.Microseconds())
	if s.dialect == DialectPostgres {
		return tx.Exec("DELETE FROM revocation_nodes WHERE node IN (SELECT node FROM revocation_nodes "+
			"WHERE lease_until <= "+now+" - ? FOR UPDATE SKIP LOCKED)", args...).Error
	}
	return tx.Exec("DELETE FROM revocation_nodes WHERE lease_until <= "+now+" - ?", args...).Error
}

// RevocationLaggards returns the nodes with a running lease that have not
// acknowledged seq.
func (s *Store) RevocationLaggards(ctx context.Context, seq int64) ([]string, error) {
	now, nowArgs := s.rosterNow()
	nodes := []string{}
	err := s.read(ctx).Raw("SELECT node FROM revocation_nodes WHERE seq < ? AND lease_until > "+now,
		append([]any{seq}, nowArgs...)...).Scan(&nodes).Error
	if err != nil {
		return nil, wrapErr("list revocation laggards", err)
	}
	slices.Sort(nodes) // bytewise, whatever the database's collation
	return nodes, nil
}

// LeaveRevocations takes node off the roster.
func (s *Store) LeaveRevocations(ctx context.Context, node string) error {
	return s.write(ctx, "leave revocation roster", func(tx *gorm.DB) error {
		return tx.Exec("DELETE FROM revocation_nodes WHERE node = ?", node).Error
	})
}
