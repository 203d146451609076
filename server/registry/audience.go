package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/store"
)

// Audiences keeps the audiences that receive encrypted access tokens and
// their key pairs; *encryption.Ring implements it. Its methods validate
// again and generate the keys; errors wrap store.ErrNotFound,
// store.ErrConflict, encryption.ErrInvalid or encryption.ErrNotEncrypted.
type Audiences interface {
	// Load reads the stored audiences and keys, so that what the others
	// return is current.
	Load(ctx context.Context) error
	CreateAudience(ctx context.Context, a *store.Audience) error
	UpdateAudience(ctx context.Context, a *store.Audience) error
	DeleteAudience(ctx context.Context, name string) error
	RotateKey(ctx context.Context, aud string) (*store.AudienceKey, error)
	Audiences() []store.Audience
	Keys(aud string) []encryption.KeyInfo
}

// maxAudienceName bounds an audience name: as long as an audience value of
// a client may be (maxValueLen), which is where it is used.
const maxAudienceName = maxValueLen

// AudienceSpec is what a caller sets on a new audience.
type AudienceSpec struct {
	// Name is the "aud" value of the API's tokens.
	Name      string
	Encrypted bool
	// KeyAlgorithm is a store.KeyAlgorithms value ("": ECDH-ES+A256KW).
	KeyAlgorithm string
}

// AudiencePatch changes an audience; nil fields stay as they are.
type AudiencePatch struct {
	Encrypted    *bool
	KeyAlgorithm *string
}

// AudienceView is an audience as shown to admins, with the keys that may
// still decrypt, without key material.
type AudienceView struct {
	Name         string            `json:"name"`
	Encrypted    bool              `json:"encrypted"`
	KeyAlgorithm string            `json:"key_algorithm"`
	Keys         []AudienceKeyView `json:"keys"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// AudienceKeyView is one encryption key of an audience. State is
// "pending" (fetchable, not yet encrypted to), "active" or "retiring"
// (superseded, still decrypting until DecryptsUntil).
type AudienceKeyView struct {
	KID           string     `json:"kid"`
	Algorithm     string     `json:"alg"`
	State         string     `json:"state"`
	CreatedAt     time.Time  `json:"created_at"`
	ActiveAt      time.Time  `json:"active_at"`
	RetiredAt     *time.Time `json:"retired_at,omitempty"`
	DecryptsUntil *time.Time `json:"decrypts_until,omitempty"`
}

// ViewAudienceKey returns k as shown to admins.
func ViewAudienceKey(k encryption.KeyInfo) AudienceKeyView {
	v := AudienceKeyView{KID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt.UTC(), ActiveAt: k.ActiveAt.UTC()}
	if !k.RetiredAt.IsZero() {
		t := k.RetiredAt.UTC()
		v.RetiredAt = &t
	}
	if !k.DecryptsUntil.IsZero() {
		t := k.DecryptsUntil.UTC()
		v.DecryptsUntil = &t
	}
	return v
}

var errNoAudiences = &ValidationError{Fields: []FieldError{{Field: "name", Message: "this server keeps no encrypted audiences (no key ring configured)"}}}

func (r *Registry) viewAudience(a store.Audience) AudienceView {
	v := AudienceView{Name: a.Name, Encrypted: a.Encrypted, KeyAlgorithm: a.KeyAlgorithm, Keys: []AudienceKeyView{},
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if v.KeyAlgorithm == "" {
		v.KeyAlgorithm = store.KeyECDHES
	}
	for _, k := range r.audiences.Keys(a.Name) {
		v.Keys = append(v.Keys, ViewAudienceKey(k))
	}
	return v
}

// validAudienceName reports whether name can be an encrypted audience:
// 1 to maxAudienceName printable ASCII characters without spaces, since
// the token endpoint's audience parameter is a single value.
func validAudienceName(name string) bool {
	if name == "" || len(name) > maxAudienceName {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] > '~' {
			return false
		}
	}
	return true
}

func checkAudience(v *ValidationError, name, alg string) {
	if !validAudienceName(name) {
		v.add("name", "must be the aud value of the API's tokens: 1 to %d printable ASCII characters without spaces", maxAudienceName)
	}
	if alg != "" && !slices.Contains(store.KeyAlgorithms, alg) {
		v.add("key_algorithm", "must be %s", strings.Join(store.KeyAlgorithms, " or "))
	}
}

// CreateAudience validates spec and stores the audience; an encrypted one
// gets its first key pair at once.
func (r *Registry) CreateAudience(ctx context.Context, spec AudienceSpec) (AudienceView, error) {
	ctx, done := r.begin(ctx)
	defer done()
	if r.audiences == nil {
		return AudienceView{}, errNoAudiences
	}
	var v ValidationError
	checkAudience(&v, spec.Name, spec.KeyAlgorithm)
	if err := v.err(); err != nil {
		return AudienceView{}, err
	}
	a := &store.Audience{Name: spec.Name, Encrypted: spec.Encrypted, KeyAlgorithm: spec.KeyAlgorithm}
	if err := r.audiences.CreateAudience(ctx, a); err != nil {
		return AudienceView{}, audienceErr(conflict(err, "name", "audience "+spec.Name))
	}
	view := r.viewAudience(*a)
	return view, r.record(ctx, "audience.create", target("audience:", a.Name), nil, view)
}

// ListAudiences returns every audience, ordered by name, as stored now.
func (r *Registry) ListAudiences(ctx context.Context) ([]AudienceView, error) {
	if r.audiences == nil {
		return []AudienceView{}, nil
	}
	if err := r.audiences.Load(ctx); err != nil {
		return nil, err
	}
	out := []AudienceView{}
	for _, a := range r.audiences.Audiences() {
		out = append(out, r.viewAudience(a))
	}
	return out, nil
}

// GetAudience returns the audience with that name, or store.ErrNotFound.
func (r *Registry) GetAudience(ctx context.Context, name string) (AudienceView, error) {
	a, err := r.currentAudience(ctx, name)
	if err != nil {
		return AudienceView{}, err
	}
	return r.viewAudience(a), nil
}

// currentAudience loads the audiences and returns name's.
func (r *Registry) currentAudience(ctx context.Context, name string) (store.Audience, error) {
	if r.audiences == nil {
		return store.Audience{}, store.ErrNotFound
	}
	if err := r.audiences.Load(ctx); err != nil {
		return store.Audience{}, err
	}
	i := slices.IndexFunc(r.audiences.Audiences(), func(a store.Audience) bool { return a.Name == name })
	if i < 0 {
		return store.Audience{}, store.ErrNotFound
	}
	return r.audiences.Audiences()[i], nil
}

// UpdateAudience applies p. Turning encryption on makes a key if there is
// none; changing the algorithm of an encrypted audience rotates to a key
// of the new one (pre-published); turning it off retires the keys, which
// still decrypt the tokens already issued until they expire.
func (r *Registry) UpdateAudience(ctx context.Context, name string, p AudiencePatch) (AudienceView, error) {
	ctx, done := r.begin(ctx)
	defer done()
	a, err := r.currentAudience(ctx, name)
	if err != nil {
		return AudienceView{}, err
	}
	before := r.viewAudience(a)
	set(&a.Encrypted, p.Encrypted)
	set(&a.KeyAlgorithm, p.KeyAlgorithm)
	var v ValidationError
	checkAudience(&v, a.Name, a.KeyAlgorithm)
	if err := v.err(); err != nil {
		return AudienceView{}, err
	}
	if err := r.audiences.UpdateAudience(ctx, &a); err != nil {
		return AudienceView{}, audienceErr(err)
	}
	view := r.viewAudience(a)
	return view, r.record(ctx, "audience.update", target("audience:", a.Name), before, view)
}

// DeleteAudience deletes the audience and its keys: its tokens are plain
// JWS from then on, and those already encrypted to it no longer decrypt.
func (r *Registry) DeleteAudience(ctx context.Context, name string) error {
	ctx, done := r.begin(ctx)
	defer done()
	a, err := r.currentAudience(ctx, name)
	if err != nil {
		return err
	}
	before := r.viewAudience(a)
	if err := r.audiences.DeleteAudience(ctx, name); err != nil {
		return err
	}
	return r.record(ctx, "audience.delete", target("audience:", name), before, nil)
}

// RotateAudienceKey makes the audience's next key pair, fetchable at once
// and encrypted to after the pre-publication delay; the keys it supersedes
// still decrypt for the retention.
func (r *Registry) RotateAudienceKey(ctx context.Context, name string) (AudienceView, error) {
	ctx, done := r.begin(ctx)
	defer done()
	a, err := r.currentAudience(ctx, name)
	if err != nil {
		return AudienceView{}, err
	}
	k, err := r.audiences.RotateKey(ctx, name)
	if err != nil {
		return AudienceView{}, audienceErr(err)
	}
	view := r.viewAudience(a)
	after := map[string]any{"kid": k.ID, "alg": k.Algorithm, "active_at": k.ActiveAt.UTC()}
	return view, r.record(ctx, "audience.rotate_key", target("audience:", name), nil, after)
}

// audienceErr turns the ring's refusals into field errors.
func audienceErr(err error) error {
	switch {
	case errors.Is(err, encryption.ErrNotEncrypted):
		return &ValidationError{Conflict: true, Fields: []FieldError{{Field: "encrypted",
			Message: "the audience does not receive encrypted tokens, so it has no keys; turn encryption on first"}}}
	case errors.Is(err, encryption.ErrInvalid):
		// The registry checked the same rules; the ring's message is safe.
		return &ValidationError{Fields: []FieldError{{Field: "name", Message: err.Error()}}}
	}
	return err
}
