package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate/tollgate/store"
)

// ackAttempts bounds how often acknowledge re-reads the store for a node
// that keeps finding itself (re)joining.
const ackAttempts = 3

// acknowledge tells the roster which entries this node holds and renews
// its lease. The caller holds syncMu.
//
// The node may keep vouching only if the store kept it on the roster
// without a break: the acknowledgement found its lease running, and came
// back before that lease could have run out in the store (on SQL the
// check and the renewal commit at different moments). Otherwise the node
// has (re)joined: revocations recorded meanwhile did not wait for it, so
// it stops vouching, reads the store once more, and acknowledges again.
func (s *Set) acknowledge(ctx context.Context) bool {
	valid := s.lease * 3 / 4
	for range ackAttempts {
		sent := s.now()
		actx, cancel := context.WithTimeout(ctx, valid) // a later answer could not count
		renewed, err := s.roster.AckRevocations(actx, s.node, s.loadedSeq(), s.lease)
		cancel()
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "acknowledging revocations; this node stops vouching for tokens when its lease runs out",
				slog.String("node", s.node), slog.String("error", err.Error()))
			return false
		}
		unbroken := renewed && !s.ackedAt.IsZero() && s.now().Before(s.ackedAt.Add(valid))
		s.ackedAt = sent
		s.mu.Lock()
		if unbroken {
			s.leaseUntil = sent.Add(valid)
		} else {
			s.leaseUntil = time.Time{}
		}
		s.mu.Unlock()
		if unbroken {
			return true
		}
		if !s.read(ctx, s.loadedSeq()) {
			return false
		}
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "could not rejoin the revocation roster; retrying at the next reload",
		slog.String("node", s.node), slog.Int("attempts", ackAttempts))
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

// record records every entry in st, calling recorded for each one st kept
// (an entry already expired is not kept; one already covered comes back
// as the covering entry), and returns the one with the highest Seq with
// ExpiresAt set to the latest expiry of them all: what a confirmation must
// wait for.
func record(ctx context.Context, st store.RevocationStore, rs []*store.Revocation, recorded func(*store.Revocation)) (store.Revocation, error) {
	var last store.Revocation
	for _, r := range rs {
		if err := st.Revoke(ctx, r); err != nil {
			if ctx.Err() != nil && !errors.Is(err, store.ErrUnavailable) {
				// The caller gave up (a client that went away): not a
				// server error.
				err = fmt.Errorf("%w: recording a revocation: %w", store.ErrUnavailable, err)
			}
			return last, err
		}
		if r.Seq == 0 {
			continue
		}
		if recorded != nil {
			recorded(r)
		}
		last.Seq = max(last.Seq, r.Seq)
		if r.ExpiresAt.After(last.ExpiresAt) {
			last.ExpiresAt = r.ExpiresAt
		}
	}
	return last, nil
}

// confirmPollMax caps the pause between two reads of the roster while a
// revocation waits for confirmation.
const confirmPollMax = 5 * time.Millisecond

// confirm waits until every node on the roster holds every entry up to
// last.Seq or has lost its lease, for at most within; held reports that
// the roster said so. Entries that have all expired meanwhile need no
// confirmation: nothing they match is active anywhere (and a node never
// reads an expired entry, so it would never acknowledge it); held is then
// false, since other entries up to last.Seq may still be unconfirmed.
func confirm(ctx context.Context, roster store.RevocationRoster, last store.Revocation, within time.Duration) (held bool, err error) {
	deadline := time.Now().Add(within)
	pause := 200 * time.Microsecond
	for {
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("%w: revocation recorded, but not yet confirmed by every node: %w", store.ErrUnavailable, err)
		}
		if !time.Now().Before(last.ExpiresAt) {
			return false, nil
		}
		lag, err := roster.RevocationLaggards(ctx, last.Seq)
		if err == nil && len(lag) == 0 {
			return true, nil
		}
		if !time.Now().Add(pause).Before(deadline) {
			if err != nil {
				return false, fmt.Errorf("revocation recorded, but whether every node holds it is unknown: %w", err)
			}
			return false, fmt.Errorf("%w: revocation recorded, but nodes %s have not confirmed it within %v",
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
	return rc.RevokeAll(ctx, []*store.Revocation{r})
}

// RevokeAll records every entry, then waits once for all of them.
func (rc Recorder) RevokeAll(ctx context.Context, rs []*store.Revocation) error {
	last, err := record(ctx, rc.Store, rs, nil)
	if err != nil || last.Seq == 0 {
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
	_, err = confirm(ctx, roster, last, lease+time.Second)
	return err
}
