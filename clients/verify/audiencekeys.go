package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/clients/internal/clientassert"
)

// audienceKeysPath is where Tollgate serves the audiences' private keys
// when its metadata does not say (older metadata documents).
const audienceKeysPath = "/oauth2/audience-keys"

// decryptionKey is one usable private key of the audience.
type decryptionKey struct {
	key any // *ecdsa.PrivateKey (P-256) or *rsa.PrivateKey
	alg jose.KeyAlgorithm
}

// decryptionKeySet is an immutable snapshot of the audience's keys, by kid.
type decryptionKeySet map[string]decryptionKey

// audienceKeys holds the private keys of Options.Audience, fetched from
// the issuer's audience-keys endpoint the first time an encrypted token
// arrives (so a verifier that never sees one never asks), then refetched
// on an unknown kid under the same rules as the signing keys, and every
// KeyRefreshInterval once fetched. Keys stay in memory only; no key, nor
// anything of one, goes into a log or an error.
//
// A key that leaves the set does not empty the verified-token cache (as a
// withdrawn signing key does): a decryption key says nothing about a
// token's authenticity, which the inner signature carries, and Tollgate
// drops one only after the tokens encrypted to it have expired.
type audienceKeys struct {
	url  string
	o    *Options
	life context.Context
	// assert, when set, authenticates with a private_key_jwt assertion
	// (POST) instead of HTTP Basic (GET).
	assert *clientassert.Signer

	set  atomic.Pointer[decryptionKeySet] // nil until the first good fetch
	gate fetchGate

	mu      sync.Mutex
	lastErr error // of the last failed fetch while set is nil
}

// lookup returns the key kid. An unknown kid causes a refetch unless one
// was attempted less than KeyRefetchInterval ago. While no key set could
// ever be read, the error wraps ErrUnavailable and says why (a 403 names
// the scope and audience the client lacks); an unknown kid is
// ErrUndecryptable.
func (a *audienceKeys) lookup(ctx context.Context, kid string) (decryptionKey, error) {
	if s := a.set.Load(); s != nil {
		if dk, ok := (*s)[kid]; ok {
			return dk, nil
		}
	}
	err := a.gate.run(ctx, a.life, a.o, false, a.fetch)
	s := a.set.Load()
	if s == nil {
		a.mu.Lock()
		cause := a.lastErr
		a.mu.Unlock()
		if cause == nil {
			cause = err
		}
		return decryptionKey{}, fmt.Errorf("%w: reading the audience's decryption keys: %v", ErrUnavailable, cause)
	}
	if dk, ok := (*s)[kid]; ok {
		return dk, nil
	}
	if err != nil && !errors.Is(err, errTooSoon) {
		a.o.Logger.LogAttrs(ctx, slog.LevelWarn, "fetching the audience's decryption keys", slog.String("kid", kid), slog.String("error", err.Error()))
	}
	return decryptionKey{}, fmt.Errorf("%w: no decryption key has the token's kid", ErrUndecryptable)
}

// refresh re-reads the keys on the KeyRefreshInterval schedule, once a
// first fetch succeeded.
func (a *audienceKeys) refresh(ctx context.Context) error {
	if a.set.Load() == nil {
		return nil
	}
	return a.gate.run(ctx, a.life, a.o, true, a.fetch)
}

// fetch reads the key set and installs it. Keys that are not private
// encryption keys of an allowed algorithm are skipped; an answer with no
// usable key is an error and changes nothing.
func (a *audienceKeys) fetch(ctx context.Context) error {
	err := a.read(ctx)
	if a.set.Load() == nil {
		a.mu.Lock()
		a.lastErr = err
		a.mu.Unlock()
	}
	return err
}

func (a *audienceKeys) read(ctx context.Context) error {
	body, err := a.call(ctx)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.code == http.StatusForbidden {
			return fmt.Errorf("verify: %s answered 403 (%s): the client %q needs the tollgate:decrypt scope and the encrypted audience %q among its audiences", se.url, se.detail, a.o.ClientID, a.o.Audience)
		}
		return err
	}
	// The body's own text never goes into an error: it holds private keys.
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return fmt.Errorf("verify: %s: the answer is not a JWK Set", a.url)
	}
	set := decryptionKeySet{}
	for _, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if jwk.UnmarshalJSON(raw) != nil {
			continue
		}
		if dk, ok := usableDecryption(&jwk); ok {
			set[jwk.KeyID] = dk
		}
	}
	if len(set) == 0 {
		return fmt.Errorf("verify: %s has no usable ECDH-ES+A256KW or RSA-OAEP-256 private key for audience %q", a.url, a.o.Audience)
	}
	a.set.Store(&set)
	return nil
}

// usableDecryption returns jwk as a decryption key if it is a private
// encryption key of an allowed algorithm. A missing alg is inferred from
// the key type.
func usableDecryption(jwk *jose.JSONWebKey) (decryptionKey, bool) {
	if jwk.KeyID == "" || !jwk.Valid() || jwk.IsPublic() || (jwk.Use != "" && jwk.Use != "enc") {
		return decryptionKey{}, false
	}
	alg := jose.KeyAlgorithm(jwk.Algorithm)
	switch key := jwk.Key.(type) {
	case *ecdsa.PrivateKey:
		if (alg == "" || alg == jose.ECDH_ES_A256KW) && key.Curve == elliptic.P256() {
			return decryptionKey{key: key, alg: jose.ECDH_ES_A256KW}, true
		}
	case *rsa.PrivateKey:
		if (alg == "" || alg == jose.RSA_OAEP_256) && key.N.BitLen() >= 2048 {
			return decryptionKey{key: key, alg: jose.RSA_OAEP_256}, true
		}
	}
	return decryptionKey{}, false
}

// call asks for the keys of Options.Audience: GET with HTTP Basic, or,
// with a ClientKey, POST with a client assertion (RFC 7523 §2.2) as
// introspection does. It returns the body, at most maxSmallBody bytes.
func (a *audienceKeys) call(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, a.o.RequestTimeout)
	defer cancel()
	var req *http.Request
	var err error
	if a.assert != nil {
		var as string
		// RFC 7523 §3: the audience of the assertion is the issuer.
		if as, err = a.assert.Sign(a.o.Issuer, a.o.Now(), 2*time.Minute); err != nil {
			return nil, fmt.Errorf("client assertion: %w", err)
		}
		form := url.Values{"audience": {a.o.Audience}, "client_assertion_type": {clientassert.Type}, "client_assertion": {as}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, a.url, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, withQuery(a.url, "audience", a.o.Audience), nil)
		if err == nil {
			setBasic(req, a.o)
		}
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.o.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxSmallBody))
}

// withQuery returns u with name=value added to its query.
func withQuery(u, name, value string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u // discover checked it; NewRequest reports anything else
	}
	q := pu.Query()
	q.Set(name, value)
	pu.RawQuery = q.Encode()
	return pu.String()
}
