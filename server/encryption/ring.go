// Package encryption keeps the encryption keys of the audiences that
// receive encrypted access tokens, and encrypts and decrypts those tokens:
// nested JWTs (RFC 7519 §5.2), a JWE in compact serialization (RFC 7516
// §7.1) whose payload is the signed access token. Keys are generated here,
// sealed at rest with a key derived from the master key, rotated with
// pre-publication and kept for decryption until every token encrypted to
// them has expired, as server/keys does for signing keys.
package encryption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/store"
)

// Options configure a Ring.
type Options struct {
	// SealKey encrypts private keys at rest (32 bytes; derive it with
	// keys.Derive(master, keys.PurposeAudienceKeySeal)).
	SealKey []byte
	// PrePublish is how long a rotated-in key is fetchable from the key
	// endpoint before tokens are encrypted to it, so that APIs caching
	// their keys learn it first.
	PrePublish time.Duration
	// Retain is the least time a superseded key still decrypts: the
	// default access-token TTL plus allowed clock skew.
	Retain time.Duration
	// Lifetimes, when set, is read on every load; a superseded key then
	// decrypts for the longest lifetime mark plus ClockSkew when that is
	// longer than Retain, as in keys.Options.
	Lifetimes keys.Lifetimes
	ClockSkew time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Ring keeps the audiences and audience keys of a store loaded. Nodes
// sharing a store converge through Load. Readers (Encrypted, Encrypt,
// Decrypt of a known kid, Audiences, Keys, DecryptionJWKS) never block;
// Load and the administrative methods serialise.
type Ring struct {
	st   store.AudienceStore
	opts Options
	mu   sync.Mutex // serialises writers of snap
	snap atomic.Pointer[snapshot]
	// lastMiss is when an unknown kid last made Decrypt reload (Unix ns
	// of Options.Now).
	lastMiss atomic.Int64
}

// missReloadEvery bounds how often an unknown kid reloads the keys from
// the store, so that made-up kids cannot hammer the database.
const missReloadEvery = time.Second

// missReloadTimeout bounds that reload.
const missReloadTimeout = 2 * time.Second

// New returns a Ring of the audiences in st. Call Load before use; until
// then no audience is encrypted.
func New(st store.AudienceStore, o Options) (*Ring, error) {
	var errs []error
	if len(o.SealKey) != 32 {
		errs = append(errs, fmt.Errorf("encryption: SealKey is %d bytes, want 32", len(o.SealKey)))
	}
	if o.PrePublish < 0 {
		errs = append(errs, fmt.Errorf("encryption: PrePublish %v is negative", o.PrePublish))
	}
	if o.Retain <= 0 {
		errs = append(errs, fmt.Errorf("encryption: Retain %v must be positive (longest access-token TTL plus clock skew)", o.Retain))
	}
	if o.ClockSkew < 0 {
		errs = append(errs, fmt.Errorf("encryption: ClockSkew %v is negative", o.ClockSkew))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o.SealKey = slices.Clone(o.SealKey)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Ring{st: st, opts: o}, nil
}

// Load reads the audiences and their keys from the store and deletes the
// keys past retention. On error the previous snapshot stays in use. It
// fails if a stored key does not open (ErrUnseal): a wrong master key is a
// configuration error, not a reason to make new keys.
func (r *Ring) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reload(ctx)
}

// Run calls Load every interval until ctx is done, logging failures. The
// caller owns the goroutine that runs it and cancels ctx to stop it.
func (r *Ring) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Load(ctx); err != nil && ctx.Err() == nil {
				r.opts.Logger.Error("load audience keys", "error", err)
			}
		}
	}
}

// reload replaces the snapshot with the store's state. r.mu is held.
func (r *Ring) reload(ctx context.Context) error {
	auds, err := r.st.ListAudiences(ctx)
	if err != nil {
		return fmt.Errorf("encryption: list audiences: %w", err)
	}
	rows, err := r.st.ListAudienceKeys(ctx)
	if err != nil {
		return fmt.Errorf("encryption: list audience keys: %w", err)
	}
	prev := r.snap.Load()
	retain, err := r.retention(ctx, prev)
	if err != nil {
		return err
	}
	s, expired, err := buildSnapshot(auds, rows, prev, r.opts.SealKey, r.opts.Now(), retain)
	if err != nil {
		return err
	}
	r.snap.Store(s)
	var errs []error
	for _, id := range expired {
		// Another node may have deleted it first.
		if err := r.st.DeleteAudienceKey(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("encryption: delete expired key %s: %w", id, err))
			continue
		}
		r.opts.Logger.Info("deleted expired audience key", "kid", id)
	}
	return errors.Join(errs...)
}

// retention is how long a superseded key still decrypts: until the
// longest-lived token encrypted to it has expired. Options.Retain is the
// floor; the longest lifetime ever issued (plus ClockSkew) is re-read on
// every load, as it may have risen on another node. It never shrinks
// within a process, since deleting a key cannot be undone.
func (r *Ring) retention(ctx context.Context, prev *snapshot) (time.Duration, error) {
	retain := r.opts.Retain
	if prev != nil {
		retain = max(retain, prev.retain)
	}
	if r.opts.Lifetimes == nil {
		return retain, nil
	}
	marks, err := r.opts.Lifetimes.Lifetimes(ctx)
	if err != nil {
		return 0, fmt.Errorf("encryption: read token lifetimes: %w", err)
	}
	return max(retain, marks.Longest+r.opts.ClockSkew), nil
}

// reloadOnMiss reloads for an unknown kid, at most once per
// missReloadEvery across all callers, and reports whether it did. The
// reload is bounded by its own timeout, not by the request that caused
// it, since every caller shares its outcome.
func (r *Ring) reloadOnMiss(ctx context.Context) bool {
	now := r.opts.Now().UnixNano()
	last := r.lastMiss.Load()
	// A clock set back does not stop reloads until it catches up.
	if d := now - last; last != 0 && d >= 0 && d < int64(missReloadEvery) {
		return false
	}
	if !r.lastMiss.CompareAndSwap(last, now) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), missReloadTimeout)
	defer cancel()
	if err := r.Load(ctx); err != nil {
		r.opts.Logger.Warn("reloading audience keys for an unknown kid", "error", err.Error())
		return false
	}
	return true
}

// Encrypted reports whether tokens for aud are encrypted.
func (r *Ring) Encrypted(aud string) bool {
	s := r.snap.Load()
	return s != nil && s.auds[aud].Encrypted
}

// Audiences returns every audience, ordered by name.
func (r *Ring) Audiences() []store.Audience {
	s := r.snap.Load()
	if s == nil {
		return nil
	}
	out := make([]store.Audience, 0, len(s.names))
	for _, n := range s.names {
		out = append(out, s.auds[n])
	}
	return out
}

// Keys returns the keys of aud that may still decrypt, oldest ActiveAt
// first, without key material.
func (r *Ring) Keys(aud string) []KeyInfo {
	s := r.snap.Load()
	if s == nil {
		return nil
	}
	now := r.opts.Now()
	var out []KeyInfo
	for _, e := range s.byAud[aud] {
		if e.decrypts(now, s.retain) {
			out = append(out, e.info(now, s.retain))
		}
	}
	return out
}

// DecryptionJWKS returns the JWK Set (RFC 7517 §5) of the private keys of
// auds that may still decrypt a live token (pending, active and
// retiring), each with kid, "use":"enc" and alg. It holds private key
// material: serve it only to the audience's own API, with no-store. Unknown
// audiences add nothing.
func (r *Ring) DecryptionJWKS(auds []string) []byte {
	doc := []byte(`{"keys":[`)
	if s := r.snap.Load(); s != nil {
		now := r.opts.Now()
		first := true
		seen := make(map[string]bool, len(auds))
		for _, aud := range auds {
			if seen[aud] {
				continue
			}
			seen[aud] = true
			for _, e := range s.byAud[aud] {
				if !e.decrypts(now, s.retain) {
					continue
				}
				if !first {
					doc = append(doc, ',')
				}
				first = false
				doc = append(doc, e.jwk...)
			}
		}
	}
	return append(doc, "]}"...)
}
