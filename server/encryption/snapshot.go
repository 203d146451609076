package encryption

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Key states reported by KeyInfo.State.
const (
	// StatePending: fetchable by the audience's API, not yet encrypted to.
	StatePending = "pending"
	// StateActive: tokens are encrypted to it now.
	StateActive = "active"
	// StateRetiring: superseded, still decrypting tokens issued before.
	StateRetiring = "retiring"
)

// KeyInfo describes an audience key without its key material.
type KeyInfo struct {
	ID        string
	Audience  string
	Algorithm string
	CreatedAt time.Time
	ActiveAt  time.Time
	// RetiredAt is when tokens stopped (or will stop) being encrypted to
	// the key: its stored RetiredAt or the ActiveAt of the key that
	// supersedes it, whichever is first. Zero while the key is open.
	RetiredAt time.Time
	// DecryptsUntil is RetiredAt plus the retention: when the key is
	// deleted. Zero while the key is open.
	DecryptsUntil time.Time
	State         string
}

// snapshot is an immutable view of the stored audiences and keys. Readers
// load it through an atomic pointer, so Encrypted, Encrypt and Decrypt
// take no lock.
type snapshot struct {
	auds map[string]store.Audience
	// names are the audience names in order.
	names []string
	byID  map[string]*entry
	// byAud holds the keys of each audience that may still decrypt,
	// ordered by ActiveAt, CreatedAt, ID.
	byAud  map[string][]*entry
	retain time.Duration
}

type entry struct {
	*material
	createdAt, activeAt time.Time
	// end is when tokens stop being encrypted to the key: its RetiredAt
	// or the ActiveAt of the next key of its audience, whichever comes
	// first; zero while open. Deriving it from the successor keeps the
	// keys consistent even if a rotation stored its new key but failed
	// to retire the old one, or two nodes made a first key at once.
	end time.Time
}

// decrypts reports whether e may still decrypt a live token at now.
func (e *entry) decrypts(now time.Time, retain time.Duration) bool {
	return e.end.IsZero() || now.Before(e.end.Add(retain))
}

// encrypts reports whether tokens are encrypted to e at now.
func (e *entry) encrypts(now time.Time) bool {
	return !now.Before(e.activeAt) && (e.end.IsZero() || now.Before(e.end))
}

func (e *entry) info(now time.Time, retain time.Duration) KeyInfo {
	ki := KeyInfo{ID: e.id, Audience: e.aud, Algorithm: e.alg, CreatedAt: e.createdAt, ActiveAt: e.activeAt, RetiredAt: e.end}
	if !e.end.IsZero() {
		ki.DecryptsUntil = e.end.Add(retain)
	}
	switch {
	case now.Before(e.activeAt) && (e.end.IsZero() || now.Before(e.end)):
		ki.State = StatePending
	case e.encrypts(now):
		ki.State = StateActive
	default:
		ki.State = StateRetiring
	}
	return ki
}

// buildSnapshot makes a snapshot of the stored rows at now. It opens the
// keys that may still decrypt (reusing those prev already opened) and
// returns the IDs of the keys past retention, for deletion. Keys of
// unknown audiences are left out.
func buildSnapshot(auds []store.Audience, rows []store.AudienceKey, prev *snapshot, sealKey []byte,
	now time.Time, retain time.Duration) (*snapshot, []string, error) {
	s := &snapshot{
		auds: make(map[string]store.Audience, len(auds)), byID: make(map[string]*entry),
		byAud: make(map[string][]*entry), retain: retain,
	}
	for _, a := range auds {
		s.auds[a.Name] = a
		s.names = append(s.names, a.Name)
	}
	slices.Sort(s.names)
	perAud := make(map[string][]store.AudienceKey)
	for _, r := range rows {
		if _, ok := s.auds[r.Audience]; ok {
			perAud[r.Audience] = append(perAud[r.Audience], r)
		}
	}
	var expired []string
	for aud, keys := range perAud {
		slices.SortFunc(keys, func(a, b store.AudienceKey) int {
			return cmp.Or(a.ActiveAt.Compare(b.ActiveAt), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		ends := effectiveEnds(keys)
		for i := range keys {
			row := &keys[i]
			e := &entry{createdAt: row.CreatedAt, activeAt: row.ActiveAt, end: ends[i]}
			if !e.decrypts(now, retain) {
				expired = append(expired, row.ID)
				continue
			}
			m, err := prev.reuse(row)
			if m == nil {
				if m, err = open(sealKey, row); err != nil {
					return nil, nil, err
				}
			}
			e.material = m
			s.byID[row.ID] = e
			s.byAud[aud] = append(s.byAud[aud], e)
		}
	}
	return s, expired, nil
}

// reuse returns the opened key of row from s if the row is unchanged.
func (s *snapshot) reuse(row *store.AudienceKey) (*material, error) {
	if s == nil {
		return nil, nil
	}
	old := s.byID[row.ID]
	if old == nil || old.aud != row.Audience || old.alg != row.Algorithm || !bytes.Equal(old.pubDER, row.PublicKey) {
		return nil, nil
	}
	return old.material, nil
}

// effectiveEnds returns, for the keys of one audience sorted by ActiveAt,
// when each stops being encrypted to. A key retired at or before its
// ActiveAt never was, and so supersedes nothing.
func effectiveEnds(sorted []store.AudienceKey) []time.Time {
	ends := make([]time.Time, len(sorted))
	var next time.Time // ActiveAt of the nearest later key that is used
	for i := len(sorted) - 1; i >= 0; i-- {
		k := &sorted[i]
		end := k.RetiredAt
		if !next.IsZero() && (end.IsZero() || next.Before(end)) {
			end = next
		}
		ends[i] = end
		if k.RetiredAt.IsZero() || k.RetiredAt.After(k.ActiveAt) {
			next = k.ActiveAt
		}
	}
	return ends
}

// current returns the newest key of aud that tokens are encrypted to at
// now; failing that, the open key that becomes active first, or nil. A
// node whose clock is behind the one that made an audience's first key
// (active at once, on that node's clock) sees it as pending: it encrypts
// to it, already fetchable, rather than refusing the audience's tokens.
func (s *snapshot) current(aud string, now time.Time) *entry {
	keys := s.byAud[aud]
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].encrypts(now) {
			return keys[i]
		}
	}
	for _, e := range keys {
		if now.Before(e.activeAt) && (e.end.IsZero() || now.Before(e.end)) {
			return e
		}
	}
	return nil
}

// open returns the keys of aud that tokens are or will be encrypted to
// (not superseded at now): pending or active.
func (s *snapshot) open(aud string, now time.Time) []*entry {
	var out []*entry
	for _, e := range s.byAud[aud] {
		if e.end.IsZero() || now.Before(e.end) {
			out = append(out, e)
		}
	}
	return out
}
