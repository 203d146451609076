package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/store"
)

// ErrNoSigner means no loaded key may sign now: Load was not called or
// failed.
var ErrNoSigner = errors.New("keys: no signing key is active")

// Options configure a Manager.
type Options struct {
	// SealKey encrypts private keys at rest (32 bytes; derive it with
	// Derive(master, PurposeSigningKeySeal)).
	SealKey []byte
	// Algorithm of new keys: EdDSA (the default) or ES256.
	Algorithm string
	// PrePublish is how long a rotated-in key is published before it signs,
	// so that resource servers caching the JWKS learn it first.
	PrePublish time.Duration
	// Retain is the least time a retired key stays published: the
	// default access-token TTL plus allowed clock skew.
	Retain time.Duration
	// Lifetimes, when set, is read on every load and refresh; a retired
	// key then stays published for its Longest mark plus ClockSkew when
	// that is longer than Retain (see retention).
	Lifetimes Lifetimes
	ClockSkew time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Manager keeps the signing keys of a store loaded and decides which one
// signs. Nodes sharing a store converge through Refresh. Readers (Signer,
// PublicKey, JWKS, Keys) never block; Load, Refresh and Rotate serialise.
type Manager struct {
	st   store.SigningKeyStore
	opts Options
	mu   sync.Mutex // serialises writers of set
	set  atomic.Pointer[keySet]
	// lastMiss is when an unknown kid last made PublicKey reload (Unix ns).
	lastMiss atomic.Int64
}

// missReloadEvery bounds how often an unknown kid reloads the keys from
// the store, so garbage tokens cannot hammer the database.
const missReloadEvery = time.Second

// missReloadTimeout bounds that reload.
const missReloadTimeout = 2 * time.Second

// New returns a Manager of the keys in st. Call Load before use.
func New(st store.SigningKeyStore, opts Options) (*Manager, error) {
	if opts.Algorithm == "" {
		opts.Algorithm = EdDSA
	}
	var errs []error
	if len(opts.SealKey) != 32 {
		errs = append(errs, fmt.Errorf("keys: SealKey is %d bytes, want 32", len(opts.SealKey)))
	}
	if opts.Algorithm != EdDSA && opts.Algorithm != ES256 {
		errs = append(errs, fmt.Errorf("keys: unsupported algorithm %q (want %s or %s)", opts.Algorithm, EdDSA, ES256))
	}
	if opts.PrePublish < 0 {
		errs = append(errs, fmt.Errorf("keys: PrePublish %v is negative", opts.PrePublish))
	}
	if opts.Retain <= 0 {
		errs = append(errs, fmt.Errorf("keys: Retain %v must be positive (longest access-token TTL plus clock skew)", opts.Retain))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	opts.SealKey = slices.Clone(opts.SealKey)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{st: st, opts: opts}, nil
}

// Load reads the keys from the store. If none can sign, as on first start,
// it generates one that signs immediately. Processes starting together
// against one store may each create one; both are kept and published, and
// after Refresh all nodes sign with the same (the newest). It fails, rather
// than generating a replacement, if a stored key does not open (ErrUnseal).
func (m *Manager) Load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.reload(ctx); err != nil {
		return err
	}
	if _, err := m.Signer(); err == nil {
		return nil
	}
	now := m.opts.Now()
	row, err := m.create(ctx, now)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	if err == nil {
		m.opts.Logger.Info("generated first signing key", "kid", row.ID, "alg", row.Algorithm)
	}
	if err := m.reload(ctx); err != nil {
		return err
	}
	if _, err := m.Signer(); err != nil {
		return fmt.Errorf("keys: after creating the first key: %w", err)
	}
	return nil
}

// Refresh reloads the keys from the store, picking up rotations made by
// other nodes. On error the previous keys stay in use.
func (m *Manager) Refresh(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reload(ctx)
}

// Run calls Refresh every interval until ctx is done, logging failures.
// The caller owns the goroutine that runs it and cancels ctx to stop it.
func (m *Manager) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
				m.opts.Logger.Error("refresh signing keys", "error", err)
			}
		}
	}
}

// Rotate creates the next key, active PrePublish from now, and retires
// every key still open at that same instant, so signing hands over
// atomically and the new key is in the JWKS for PrePublish before it signs.
// It returns the new key without private material. If retiring fails after
// the new key was stored, the new key still takes over at its ActiveAt and
// the error is returned.
func (m *Manager) Rotate(ctx context.Context) (*store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.reload(ctx); err != nil {
		return nil, err
	}
	now := m.opts.Now()
	activeAt := now.Add(m.opts.PrePublish)
	row, err := m.create(ctx, activeAt)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, old := range m.set.Load().rows {
		if old.RetiredAt.IsZero() || old.RetiredAt.After(activeAt) {
			err := m.st.RetireSigningKey(ctx, old.ID, activeAt)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, fmt.Errorf("keys: retire %s: %w", old.ID, err))
			}
		}
	}
	errs = append(errs, m.reload(ctx))
	m.opts.Logger.Info("rotated signing key", "kid", row.ID, "alg", row.Algorithm, "active_at", activeAt)
	row.PrivateKey = nil
	return row, errors.Join(errs...)
}

// create generates, seals and stores a key of the configured algorithm.
func (m *Manager) create(ctx context.Context, activeAt time.Time) (*store.SigningKey, error) {
	k, err := GenerateKey(m.opts.Algorithm)
	if err != nil {
		return nil, err
	}
	row, err := seal(m.opts.SealKey, k)
	if err != nil {
		return nil, err
	}
	row.CreatedAt = m.opts.Now()
	row.ActiveAt = activeAt
	if err := m.st.CreateSigningKey(ctx, row); err != nil {
		return nil, fmt.Errorf("keys: store key %s: %w", row.ID, err)
	}
	return row, nil
}

// reload replaces the snapshot with the store's current keys. m.mu is held.
func (m *Manager) reload(ctx context.Context) error {
	rows, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	prev := m.set.Load()
	retain, err := m.retention(ctx, prev)
	if err != nil {
		return err
	}
	set, err := buildSet(rows, prev, m.opts.SealKey, m.opts.Now(), retain)
	if err != nil {
		return err
	}
	m.set.Store(set)
	if prev == nil || len(prev.rows) != len(set.rows) {
		m.opts.Logger.Debug("loaded signing keys", "stored", len(set.rows), "published", len(set.entries))
	}
	return nil
}

// Signer returns the key that signs now: the newest whose ActiveAt has
// passed and that is not retired. ErrNoSigner if there is none.
func (m *Manager) Signer() (*Key, error) {
	if set := m.set.Load(); set != nil {
		if k := set.signer(m.opts.Now()); k != nil {
			return k, nil
		}
	}
	return nil, ErrNoSigner
}

// PublicKey returns the public key and JWS algorithm of kid, if that key
// may still verify a live token (it is in the JWKS now).
//
// An unknown kid reloads the keys from the store (at most once a second)
// before the answer is no: another node may have created or rotated a key
// this one has not picked up yet (nodes starting together on a fresh
// database each create a first key), and its tokens must verify here too.
func (m *Manager) PublicKey(kid string) (crypto.PublicKey, string, bool) {
	if set := m.set.Load(); set != nil {
		if pub, alg, ok := set.publicKey(kid, m.opts.Now(), set.retain); ok {
			return pub, alg, true
		}
	}
	now := time.Now().UnixNano()
	last := m.lastMiss.Load()
	if now-last < int64(missReloadEvery) || !m.lastMiss.CompareAndSwap(last, now) {
		return nil, "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), missReloadTimeout)
	defer cancel()
	if err := m.Refresh(ctx); err != nil {
		m.opts.Logger.Warn("reloading signing keys for an unknown kid", "error", err.Error())
		return nil, "", false
	}
	set := m.set.Load()
	if set == nil {
		return nil, "", false
	}
	return set.publicKey(kid, m.opts.Now(), set.retain)
}

// JWKS returns the JSON Web Key Set (RFC 7517 §5) of every key that may
// still verify a live token: pre-published, signing, and retired less than
// Retention ago. The document is cached until that set changes; callers must
// not modify it. Before Load it is an empty set.
func (m *Manager) JWKS() []byte {
	set := m.set.Load()
	if set == nil {
		return []byte(`{"keys":[]}`)
	}
	return set.jwksAt(m.opts.Now(), set.retain)
}

// Keys returns every stored key, oldest first, without private material.
func (m *Manager) Keys() []store.SigningKey {
	set := m.set.Load()
	if set == nil {
		return nil
	}
	out := slices.Clone(set.rows)
	for i := range out {
		out[i].PublicKey = slices.Clone(out[i].PublicKey)
	}
	return out
}
