package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
)

// publicKey is one usable verification key from the JWKS.
type publicKey struct {
	key any // ed25519.PublicKey or *ecdsa.PublicKey (P-256)
	alg jose.SignatureAlgorithm
}

// keySet is an immutable snapshot of the issuer's keys, by kid.
type keySet map[string]publicKey

// keyCache holds the issuer's JWKS (RFC 7517). It is refetched on a
// schedule, and on an unknown kid at most once per KeyRefetchInterval.
type keyCache struct {
	url  string
	o    *Options
	life context.Context // the Verifier's lifetime: a fetch outlives the request that caused it
	// onRemoved is called when a refetch drops a key, so that tokens it
	// signed leave the verified-token cache.
	onRemoved func()

	set  atomic.Pointer[keySet]
	gate fetchGate
}

// lookup returns the key kid. An unknown kid causes a refetch, unless one
// was attempted less than KeyRefetchInterval ago.
func (k *keyCache) lookup(ctx context.Context, kid string) (publicKey, error) {
	if pk, ok := (*k.set.Load())[kid]; ok {
		return pk, nil
	}
	err := k.refetch(ctx, false)
	if pk, ok := (*k.set.Load())[kid]; ok {
		return pk, nil
	}
	if err != nil && !errors.Is(err, errTooSoon) {
		k.o.Logger.LogAttrs(ctx, slog.LevelWarn, "fetching the issuer's key set", slog.String("kid", kid), slog.String("error", err.Error()))
	}
	return publicKey{}, ErrUnknownKey
}

// load is the first fetch, bounded by the caller's ctx (Open's).
func (k *keyCache) load(ctx context.Context) error {
	k.gate.started(k.o.Now())
	return k.fetch(ctx)
}

// refetch fetches the key set through the gate (see fetchGate.run).
func (k *keyCache) refetch(ctx context.Context, force bool) error {
	return k.gate.run(ctx, k.life, k.o, force, k.fetch)
}

// fetch reads the JWKS and installs it. Keys that are not for signatures,
// not EdDSA/Ed25519 or ES256/P-256, or that do not parse are skipped; a
// document with no usable key is an error and changes nothing.
func (k *keyCache) fetch(ctx context.Context) error {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, k.o, k.url, false, maxSmallBody, &doc); err != nil {
		return err
	}
	set := keySet{}
	for _, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			continue
		}
		if pk, ok := usable(&jwk); ok {
			set[jwk.KeyID] = pk
		}
	}
	if len(set) == 0 {
		return errors.New("verify: the issuer's JWKS has no usable EdDSA or ES256 signing key")
	}
	old := k.set.Swap(&set)
	if old != nil {
		for kid := range *old {
			if _, ok := set[kid]; !ok {
				k.onRemoved()
				break
			}
		}
	}
	return nil
}

// usable returns jwk as a verification key if it is a public signing key
// of an allowed algorithm. A missing alg is inferred from the key type.
func usable(jwk *jose.JSONWebKey) (publicKey, bool) {
	if jwk.KeyID == "" || !jwk.Valid() || !jwk.IsPublic() || (jwk.Use != "" && jwk.Use != "sig") {
		return publicKey{}, false
	}
	alg := jose.SignatureAlgorithm(jwk.Algorithm)
	switch key := jwk.Key.(type) {
	case ed25519.PublicKey:
		if (alg == "" || alg == jose.EdDSA) && len(key) == ed25519.PublicKeySize {
			return publicKey{key: key, alg: jose.EdDSA}, true
		}
	case *ecdsa.PublicKey:
		if (alg == "" || alg == jose.ES256) && key.Curve == elliptic.P256() {
			return publicKey{key: key, alg: jose.ES256}, true
		}
	}
	return publicKey{}, false
}
