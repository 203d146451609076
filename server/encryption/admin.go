package encryption

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tollgate/tollgate/store"
)

// ErrInvalid means an audience given to CreateAudience or UpdateAudience
// is not valid; the message says why and is safe to show.
var ErrInvalid = errors.New("encryption: invalid audience")

// maxNameLen bounds an audience name, as the registry bounds a client's
// audience values.
const maxNameLen = 200

func validate(a *store.Audience) error {
	if a.Name == "" || len(a.Name) > maxNameLen || !printable(a.Name) {
		return fmt.Errorf("%w: name must be 1 to %d printable ASCII characters", ErrInvalid, maxNameLen)
	}
	if a.KeyAlgorithm == "" {
		a.KeyAlgorithm = store.KeyECDHES
	}
	if !slices.Contains(store.KeyAlgorithms, a.KeyAlgorithm) {
		return fmt.Errorf("%w: key algorithm must be %s (the default) or %s", ErrInvalid, store.KeyECDHES, store.KeyRSAOAEP256)
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// CreateAudience validates and stores a (an empty KeyAlgorithm becomes
// ECDH-ES+A256KW; CreatedAt and UpdatedAt are set). If a is Encrypted, its
// first key is made, active at once. Errors wrap ErrInvalid, or
// store.ErrConflict if the name is taken.
func (r *Ring) CreateAudience(ctx context.Context, a *store.Audience) error {
	if err := validate(a); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	a.CreatedAt, a.UpdatedAt = now, now
	// The audience is stored plain, then given its key, then marked
	// encrypted: no node ever loads it encrypted without a key, which
	// would fail its token requests until that node's next load.
	encrypted := a.Encrypted
	a.Encrypted = false
	err := r.st.CreateAudience(ctx, a)
	a.Encrypted = encrypted
	if err != nil {
		return fmt.Errorf("encryption: create audience: %w", err)
	}
	if encrypted {
		_, err = r.create(ctx, a, now)
		if err == nil {
			err = r.st.UpdateAudience(ctx, a)
		}
		if err != nil {
			if derr := r.st.DeleteAudience(ctx, a.Name); derr != nil {
				err = errors.Join(err, fmt.Errorf("encryption: undo audience: %w", derr))
			}
			return err
		}
	}
	return r.reload(ctx)
}

// UpdateAudience stores a's Encrypted and KeyAlgorithm (store.ErrNotFound
// if there is no such audience; ErrInvalid if a is not valid). Turning
// encryption on makes a key active at once if none is active; changing
// the key algorithm of an encrypted audience rotates to a key of the new
// algorithm, pre-published like RotateKey. Turning encryption off retires
// its keys now: tokens already issued still decrypt until retention ends,
// new ones are plain JWS.
func (r *Ring) UpdateAudience(ctx context.Context, a *store.Audience) error {
	if err := validate(a); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(ctx); err != nil {
		return err
	}
	s, now := r.snap.Load(), r.opts.Now()
	open, cur := s.open(a.Name, now), s.current(a.Name, now)
	if a.Encrypted && cur == nil {
		// The key first, as in CreateAudience. ErrNotFound if there is no
		// such audience.
		if _, err := r.create(ctx, a, now); err != nil {
			return err
		}
	}
	a.UpdatedAt = now
	if err := r.st.UpdateAudience(ctx, a); err != nil {
		return errors.Join(fmt.Errorf("encryption: update audience: %w", err), r.reload(ctx))
	}
	var err error
	switch {
	case !a.Encrypted:
		err = r.retire(ctx, open, now)
	case cur != nil && !slices.ContainsFunc(open, func(e *entry) bool { return e.alg == a.KeyAlgorithm }):
		_, err = r.rotate(ctx, a, now)
	}
	return errors.Join(err, r.reload(ctx))
}

// DeleteAudience removes the audience and its keys (store.ErrNotFound if
// there is none). Tokens already encrypted to it no longer decrypt.
func (r *Ring) DeleteAudience(ctx context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.st.DeleteAudience(ctx, name); err != nil {
		return fmt.Errorf("encryption: delete audience: %w", err)
	}
	return r.reload(ctx)
}

// RotateKey makes the next key of aud, active PrePublish from now, and
// supersedes its open keys at that same instant, so that encryption hands
// over atomically and the audience's API can fetch the new key for
// PrePublish before it is used. The old keys still decrypt for the
// retention after that. It returns the new key without private material;
// errors wrap store.ErrNotFound or ErrNotEncrypted.
func (r *Ring) RotateKey(ctx context.Context, aud string) (*store.AudienceKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(ctx); err != nil {
		return nil, err
	}
	a, ok := r.snap.Load().auds[aud]
	if !ok {
		return nil, fmt.Errorf("encryption: audience: %w", store.ErrNotFound)
	}
	if !a.Encrypted {
		return nil, ErrNotEncrypted
	}
	row, err := r.rotate(ctx, &a, r.opts.Now())
	return row, errors.Join(err, r.reload(ctx))
}

// rotate is RotateKey with r.mu held and the snapshot fresh.
func (r *Ring) rotate(ctx context.Context, a *store.Audience, now time.Time) (*store.AudienceKey, error) {
	activeAt := now.Add(r.opts.PrePublish)
	open := r.snap.Load().open(a.Name, now)
	row, err := r.create(ctx, a, activeAt)
	if err != nil {
		return nil, err
	}
	// If retiring fails, the new key still supersedes the old ones at
	// its ActiveAt (effectiveEnds).
	err = r.retire(ctx, open, activeAt)
	r.opts.Logger.Info("rotated audience key", "audience", a.Name, "kid", row.ID, "alg", row.Algorithm, "active_at", activeAt)
	return row, err
}

// retire sets RetiredAt = at on the keys that are open past at.
func (r *Ring) retire(ctx context.Context, open []*entry, at time.Time) error {
	var errs []error
	for _, e := range open {
		if !e.end.IsZero() && !e.end.After(at) {
			continue
		}
		if err := r.st.RetireAudienceKey(ctx, e.id, at); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("encryption: retire %s: %w", e.id, err))
		}
	}
	return errors.Join(errs...)
}

// create generates, seals and stores a key of a's algorithm. It returns
// the row without private material.
func (r *Ring) create(ctx context.Context, a *store.Audience, activeAt time.Time) (*store.AudienceKey, error) {
	priv, err := generate(a.KeyAlgorithm)
	if err != nil {
		return nil, err
	}
	row, err := seal(r.opts.SealKey, a.Name, a.KeyAlgorithm, priv)
	if err != nil {
		return nil, err
	}
	row.CreatedAt, row.ActiveAt = r.opts.Now(), activeAt
	if err := r.st.CreateAudienceKey(ctx, row); err != nil {
		return nil, fmt.Errorf("encryption: store key %s: %w", row.ID, err)
	}
	row.PrivateKey = nil
	return row, nil
}
