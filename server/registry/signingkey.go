package registry

import (
	"context"
	"time"

	"github.com/tollgate/tollgate/store"
)

// KeyRotator rotates signing keys; *keys.Manager implements it.
type KeyRotator interface {
	Rotate(ctx context.Context) (*store.SigningKey, error)
}

// KeyRing lists and rotates signing keys, for the admin API and the
// console; *keys.Manager implements it.
type KeyRing interface {
	KeyRotator
	Keys() []store.SigningKey
}

// signingKeyView is a new signing key's public facts, for the audit log.
type signingKeyView struct {
	KID       string    `json:"kid"`
	Algorithm string    `json:"alg"`
	ActiveAt  time.Time `json:"active_at"`
}

// RotateSigningKey creates the next signing key through keys and audits
// it ("signing_key.rotate", target "signing_key:<kid>").
func (r *Registry) RotateSigningKey(ctx context.Context, keys KeyRotator) (*store.SigningKey, error) {
	ctx, done := r.begin(ctx)
	defer done()
	k, err := keys.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	return k, r.record(ctx, "signing_key.rotate", target("signing_key:", k.ID), nil, signingKeyView{KID: k.ID, Algorithm: k.Algorithm, ActiveAt: k.ActiveAt})
}
