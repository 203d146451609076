package revocation

import (
	"context"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RevokeToken revokes an access token by its jti (r, of kind
// store.RevokedToken) unless this node's copy already covers it: an entry
// for the jti kept as long, or a revocation of one of its subjects
// (store.SubjectClient+client_id, …) at or after issuedAt, kept as long.
// covered reports that case: nothing was written. It still returns only
// once every node holds the covering entry, as Revoke does; usually that
// is known already and costs nothing. A repeat this node cannot see (its
// copy behind another node's) is caught by the store, which records
// nothing either (store.RevocationStore.Revoke).
func (s *Set) RevokeToken(ctx context.Context, r *store.Revocation, subjects []string, issuedAt time.Time) (covered bool, err error) {
	if c, ok := s.subjectCovers(subjects, issuedAt, r.ExpiresAt); ok {
		return true, s.confirmSeq(ctx, c)
	}
	if c, ok := s.held(*r); ok {
		*r = c
		return true, s.confirmSeq(ctx, c)
	}
	return false, s.RevokeAll(ctx, []*store.Revocation{r})
}

// held returns the entry of this node's copy that covers r, if any. Only
// token entries are looked up: a subject's record merges several entries,
// and repeated subject revocations (admin actions) are left to the store.
func (s *Set) held(r store.Revocation) (store.Revocation, bool) {
	if r.Kind != store.RevokedToken {
		return store.Revocation{}, false
	}
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.tokens[r.Key]
	if !ok || !now.Before(c.ExpiresAt) || !store.Covers(c, r) {
		return store.Revocation{}, false
	}
	return c, true
}

// subjectCovers reports whether a subject revocation held here matches
// every token of subjects issued at issuedAt until at least until, and
// returns what confirming it must wait for.
func (s *Set) subjectCovers(subjects []string, issuedAt, until time.Time) (store.Revocation, bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range subjects {
		sub, ok := s.subjects[k]
		if ok && now.Before(sub.expiresAt) && !issuedAt.After(sub.revokedAt) && !sub.expiresAt.Before(until) {
			return store.Revocation{Seq: sub.seq, ExpiresAt: sub.expiresAt}, true
		}
	}
	return store.Revocation{}, false
}

// later merges what two confirmations wait for: the higher Seq, the
// later expiry.
func later(a, b store.Revocation) store.Revocation {
	a.Seq = max(a.Seq, b.Seq)
	if b.ExpiresAt.After(a.ExpiresAt) {
		a.ExpiresAt = b.ExpiresAt
	}
	return a
}

// confirmSeq waits until every node holds every entry up to last.Seq (see
// confirm), unless that has been seen already: once the roster held a Seq,
// it holds it for good, since a node that joins or rejoins reads the
// store before it vouches again. So repeats of one revocation wait once.
func (s *Set) confirmSeq(ctx context.Context, last store.Revocation) error {
	if s.roster == nil || last.Seq == 0 || last.Seq <= s.confirmed.Load() {
		return nil
	}
	held, err := confirm(ctx, s.roster, last, s.lease+time.Second)
	if err != nil || !held {
		return err
	}
	for {
		cur := s.confirmed.Load()
		if last.Seq <= cur || s.confirmed.CompareAndSwap(cur, last.Seq) {
			return nil
		}
	}
}
