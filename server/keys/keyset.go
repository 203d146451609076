package keys

import (
	"bytes"
	"cmp"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/store"
)

// keySet is an immutable snapshot of the stored keys. Readers load it
// through an atomic pointer, so Signer, PublicKey and JWKS take no lock.
type keySet struct {
	// entries are the keys that can still sign or verify a live token,
	// opened, ordered by ActiveAt, CreatedAt, ID.
	entries []*entry
	byID    map[string]*entry
	// rows are every stored key without private material, oldest first.
	rows []store.SigningKey
	// jwks caches the JSON document for the interval where it holds.
	jwks atomic.Pointer[jwksDoc]
	// retain is how long a retired key stays published in this snapshot.
	retain time.Duration
}

type entry struct {
	key      *Key
	pub      []byte // stored PKIX public key, to notice a changed row
	jwk      []byte // RFC 7517 JSON of the public key
	activeAt time.Time
	// end is when the key stops signing: its RetiredAt, or the ActiveAt of
	// the next key that signs, whichever comes first; zero while open.
	// Deriving it from the successor keeps the set consistent even if a
	// rotation stored its new key but crashed before retiring the old one,
	// or two nodes created first keys at once.
	end time.Time
}

// farFuture stands for "no key is due to leave the JWKS".
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

type jwksDoc struct {
	doc          []byte
	since, until time.Time // the published set is constant on [since, until)
}

// published reports whether e may still verify a token at now: it is
// pre-published, signing, or retired less than retain ago.
func (e *entry) published(now time.Time, retain time.Duration) bool {
	return e.end.IsZero() || now.Before(e.end.Add(retain))
}

// signs reports whether e may sign at now.
func (e *entry) signs(now time.Time) bool {
	return !now.Before(e.activeAt) && (e.end.IsZero() || now.Before(e.end))
}

// buildSet makes a snapshot of rows at now, opening the private keys of
// the published ones (reusing the already opened keys of prev).
func buildSet(rows []store.SigningKey, prev *keySet, sealKey []byte, now time.Time, retain time.Duration) (*keySet, error) {
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b store.SigningKey) int {
		return cmp.Or(a.ActiveAt.Compare(b.ActiveAt), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	ends := effectiveEnds(sorted)
	set := &keySet{byID: make(map[string]*entry), retain: retain}
	for i := range sorted {
		row := &sorted[i]
		e := &entry{activeAt: row.ActiveAt, end: ends[i], pub: bytes.Clone(row.PublicKey)}
		if !e.published(now, retain) {
			continue
		}
		if old := prev.lookup(row.ID); old != nil && old.key.Algorithm == row.Algorithm && bytes.Equal(old.pub, row.PublicKey) {
			e.key = old.key
		} else {
			k, err := open(sealKey, row)
			if err != nil {
				return nil, err
			}
			e.key = k
		}
		jwk, err := json.Marshal(jose.JSONWebKey{Key: e.key.Public(), KeyID: e.key.ID, Algorithm: e.key.Algorithm, Use: "sig"})
		if err != nil {
			return nil, fmt.Errorf("keys: signing key %s: marshal JWK: %w", row.ID, err)
		}
		e.jwk = jwk
		set.entries = append(set.entries, e)
		set.byID[row.ID] = e
	}
	set.rows = make([]store.SigningKey, len(rows))
	for i, r := range rows {
		r.PrivateKey = nil
		r.PublicKey = bytes.Clone(r.PublicKey)
		set.rows[i] = r
	}
	slices.SortStableFunc(set.rows, func(a, b store.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return set, nil
}

// effectiveEnds returns, for keys sorted by ActiveAt, when each stops
// signing. A key retired at or before its ActiveAt never signs and so
// supersedes nothing.
func effectiveEnds(sorted []store.SigningKey) []time.Time {
	ends := make([]time.Time, len(sorted))
	var next time.Time // ActiveAt of the nearest later key that signs
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

func (s *keySet) lookup(kid string) *entry {
	if s == nil {
		return nil
	}
	return s.byID[kid]
}

// signer returns the newest key that signs at now, or nil.
func (s *keySet) signer(now time.Time) *Key {
	for i := len(s.entries) - 1; i >= 0; i-- {
		if e := s.entries[i]; e.signs(now) {
			return e.key
		}
	}
	return nil
}

// publicKey returns the verification key kid at now.
func (s *keySet) publicKey(kid string, now time.Time, retain time.Duration) (crypto.PublicKey, string, bool) {
	e := s.lookup(kid)
	if e == nil || !e.published(now, retain) {
		return nil, "", false
	}
	return e.key.Public(), e.key.Algorithm, true
}

// jwksAt returns the JWKS at now, from the cache while the published set
// is unchanged.
func (s *keySet) jwksAt(now time.Time, retain time.Duration) []byte {
	if d := s.jwks.Load(); d != nil && !now.Before(d.since) && now.Before(d.until) {
		return d.doc
	}
	d := &jwksDoc{until: farFuture}
	doc := []byte(`{"keys":[`)
	first := true
	for _, e := range s.entries {
		if !e.end.IsZero() {
			drop := e.end.Add(retain)
			if !now.Before(drop) {
				if drop.After(d.since) {
					d.since = drop
				}
				continue
			}
			if drop.Before(d.until) {
				d.until = drop
			}
		}
		if !first {
			doc = append(doc, ',')
		}
		first = false
		doc = append(doc, e.jwk...)
	}
	d.doc = append(doc, "]}"...)
	s.jwks.Store(d)
	return d.doc
}
