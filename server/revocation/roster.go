package revocation

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate/tollgate/store"
)

// acknowledge tells the roster which entries this node holds and renews
// its lease. A node that (re)joins the roster may have missed entries
// whose recorders did not wait for it, so it reads the store once more and
// acknowledges again before it vouches for anything. The caller holds
// syncMu.
func (s *Set) acknowledge(ctx context.Context) bool {
	for range 3 {
		sent := s.now()
		renewed, err := s.roster.AckRevocations(ctx, s.node, s.loadedSeq(), s.lease)
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "acknowledging revocations; this node stops vouching for tokens when its lease runs out",
				slog.String("node", s.node), slog.String("error", err.Error()))
			return false
		}
		if renewed {
			s.mu.Lock()
			s.leaseUntil = sent.Add(s.lease)
			s.mu.Unlock()
			return true
		}
		if !s.read(ctx, s.loadedSeq()) {
			return false
		}
	}
	return false
}

// leave takes this node off the roster; it vouches for nothing after.
func (s *Set) leave() {
	if s.roster == nil {
		return
	}
	s.mu.Lock()
	s.leaseUntil = time.Time{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.roster.LeaveRevocations(ctx, s.node); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "leaving the revocation roster; other nodes wait for this one until its lease runs out",
			slog.String("node", s.node), slog.String("error", err.Error()))
	}
}

// confirmPollMax caps the pause between two reads of the roster while a
// revocation waits for confirmation.
const confirmPollMax = 5 * time.Millisecond

// confirm waits until every node on the roster holds r or has lost its
// lease, for at most within. An entry that has expired meanwhile needs no
// confirmation: nothing it matches is active anywhere.
func confirm(ctx context.Context, roster store.RevocationRoster, r *store.Revocation, within time.Duration) error {
	deadline := time.Now().Add(within)
	pause := 200 * time.Microsecond
	for {
		lag, err := roster.RevocationLaggards(ctx, r.Seq)
		if err == nil && len(lag) == 0 {
			return nil
		}
		if !time.Now().Add(pause).Before(deadline) || ctx.Err() != nil {
			if !time.Now().Before(r.ExpiresAt) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("revocation recorded, but whether every node holds it is unknown: %w", err)
			}
			if ctx.Err() != nil {
				return fmt.Errorf("%w: revocation recorded, but not yet confirmed by every node: %w", store.ErrUnavailable, ctx.Err())
			}
			return fmt.Errorf("%w: revocation recorded, but nodes %s have not confirmed it within %v",
				store.ErrUnavailable, strings.Join(lag, ", "), within)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, confirmPollMax)
	}
}

// Recorder records revocations for a process that is not a node itself
// (the CLI working on the database): like Set.Revoke, it returns once
// every node on the store's roster holds the entry or has lost its lease.
type Recorder struct {
	Store store.RevocationStore
	// Lease is the nodes' lease (default DefaultLease).
	Lease time.Duration
}

// Revoke records r and waits for the roster, if the store keeps one.
func (rc Recorder) Revoke(ctx context.Context, r *store.Revocation) error {
	if err := rc.Store.Revoke(ctx, r); err != nil || r.Seq == 0 {
		return err
	}
	roster, ok := rc.Store.(store.RevocationRoster)
	if !ok {
		return nil
	}
	lease := rc.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	return confirm(ctx, roster, r, lease+time.Second)
}
