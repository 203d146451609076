package assertion

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// Type is the client_assertion_type of a JWT assertion (RFC 7523 §2.2).
const Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// DefaultMaxLifetime caps how far ahead an assertion's exp may be.
const DefaultMaxLifetime = 5 * time.Minute

// MaxLen bounds the assertions read, in bytes.
const MaxLen = 16 << 10

// Options configure a Verifier.
type Options struct {
	// Audiences are the values of which an assertion's aud must hold at
	// least one (RFC 7523 §3 item 3): the issuer and the endpoint URLs.
	Audiences []string
	// MaxLifetime caps exp - now (DefaultMaxLifetime when zero); Skew is
	// the leeway on exp, nbf and iat.
	MaxLifetime time.Duration
	Skew        time.Duration
	// Replays remembers each jti until the assertion expires.
	Replays store.ReplayStore
	// Fetcher fetches jwks_uri key sets (nil: a default Fetcher).
	Fetcher *Fetcher
	// Issuers finds the trusted issuers of federated clients (nil: they
	// are refused).
	Issuers IssuerSource
	Now     func() time.Time
}

// Verifier checks private_key_jwt assertions.
type Verifier struct {
	opts Options
	// inline caches parsed inline key sets by their JSON.
	mu     sync.Mutex
	inline map[string][]jose.JSONWebKey
}

// New returns a Verifier.
func New(opts Options) *Verifier {
	if opts.MaxLifetime <= 0 {
		opts.MaxLifetime = DefaultMaxLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Fetcher == nil {
		opts.Fetcher = NewFetcher(FetchOptions{Now: opts.Now})
	}
	return &Verifier{opts: opts, inline: map[string][]jose.JSONWebKey{}}
}

// fail is an assertion failure: invalid_client (RFC 7523 §3.2), with a
// description naming the failed check and no key material.
func fail(format string, args ...any) error {
	return oauth.New(oauth.InvalidClient, "client_assertion: "+fmt.Sprintf(format, args...))
}

// Verify checks raw as client c's private_key_jwt assertion (RFC 7523
// §3): a JWS signed with one of c's keys by an accepted algorithm, iss and
// sub equal to c.ID, an accepted aud, exp present and at most MaxLifetime
// ahead, nbf and iat not in the future, and a jti never seen before
// (recorded until exp). Failures are *oauth.Error invalid_client; any
// other error is the replay store's.
func (v *Verifier) Verify(ctx context.Context, c *store.Client, raw string) error {
	tok, h, err := parse(raw)
	if err != nil {
		return err
	}
	if c.FederatedIssuer != "" {
		return v.verifyFederated(ctx, c, tok, h)
	}
	keys, err := v.keys(ctx, c, h.kid)
	if err != nil {
		return err
	}
	var claims jwt.Claims
	if err := verifySignature(tok, h, keys, &claims); err != nil {
		return err
	}
	now := v.opts.Now()
	switch {
	case claims.Issuer != c.ID:
		return fail("iss must be the client_id")
	case claims.Subject != c.ID:
		return fail("sub must be the client_id")
	}
	if !slices.ContainsFunc(v.opts.Audiences, claims.Audience.Contains) {
		return fail("aud must contain the token endpoint URL or the issuer (%s)", strings.Join(v.opts.Audiences[:min(2, len(v.opts.Audiences))], " or "))
	}
	if err := v.checkTimes(&claims, now, v.opts.MaxLifetime); err != nil {
		return err
	}
	if claims.ID == "" {
		return fail("jti is required (a unique ID for each assertion)")
	}
	// RFC 7523 §3 item 7: the jti is single-use, remembered as long as the
	// assertion could pass the time checks.
	sum := sha256.Sum256([]byte(c.ID + "\x00" + claims.ID))
	fresh, err := v.opts.Replays.UseOnce(ctx, "pkj:"+hex.EncodeToString(sum[:]), claims.Expiry.Time().Add(v.opts.Skew))
	if err != nil {
		return fmt.Errorf("assertion: record jti: %w", err)
	}
	if !fresh {
		return fail("this jti was already used; sign a new assertion with a new jti for every request")
	}
	return nil
}

// checkTimes applies the time checks common to every assertion.
func (v *Verifier) checkTimes(claims *jwt.Claims, now time.Time, maxLife time.Duration) error {
	skew := v.opts.Skew
	switch {
	case claims.Expiry == nil:
		return fail("exp is required")
	case !now.Before(claims.Expiry.Time().Add(skew)):
		return fail("the assertion has expired (exp)")
	case claims.Expiry.Time().After(now.Add(maxLife + skew)):
		return fail("exp is more than %s ahead", maxLife)
	case claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(skew)):
		return fail("the assertion is not valid yet (nbf is in the future)")
	case claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(skew)):
		return fail("iat is in the future")
	}
	return nil
}

// header is the part of the JOSE header read before verification.
type header struct {
	alg, kid string
}

// parse checks raw's shape and algorithm before any key is looked up.
func parse(raw string) (*jwt.JSONWebToken, header, error) {
	if len(raw) > MaxLen {
		return nil, header{}, fail("longer than %d KiB", MaxLen>>10)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, header{}, fail("must be a signed JWT (JWS compact serialization, three parts)")
	}
	h, err := readHeader(parts[0])
	if err != nil {
		return nil, header{}, fail("the JOSE header is not base64url JSON")
	}
	switch {
	case strings.EqualFold(h.Alg, "none"):
		return nil, header{}, fail(`alg "none" is never accepted`)
	case strings.HasPrefix(h.Alg, "HS"):
		return nil, header{}, fail("HMAC algorithms (%s) are never accepted: sign with the client's private key", safe(h.Alg))
	case !accepts(h.Alg):
		return nil, header{}, fail("alg %s is not accepted; use one of %s", safe(h.Alg), strings.Join(Algorithms, ", "))
	case h.Crit != nil:
		return nil, header{}, fail("crit header parameters are not supported")
	}
	tok, err := jwt.ParseSigned(raw, joseAlgorithms)
	if err != nil {
		return nil, header{}, fail("not a valid JWS")
	}
	return tok, header{alg: h.Alg, kid: h.Kid}, nil
}

// rawHeader is the part of the JOSE header parse reads.
type rawHeader struct {
	Alg, Kid string
	Crit     json.RawMessage
}

// readHeader decodes a JOSE header. Parameter names are case-sensitive
// (RFC 7515 §4), as go-jose reads them, so it goes through a map: a struct
// would let encoding/json take "KID" for "kid" and pick a key the header
// does not name.
func readHeader(b64 string) (rawHeader, error) {
	var h rawHeader
	hb, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return h, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(hb, &m); err != nil {
		return h, err
	}
	for name, dst := range map[string]*string{"alg": &h.Alg, "kid": &h.Kid} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return h, err
			}
		}
	}
	h.Crit = m["crit"]
	return h, nil
}

// keys returns the client's keys that could have signed an assertion
// with this kid (every key when kid is empty). A jwks_uri set lacking kid
// is fetched again (rate-limited by the Fetcher).
func (v *Verifier) keys(ctx context.Context, c *store.Client, kid string) ([]jose.JSONWebKey, error) {
	var set []jose.JSONWebKey
	switch {
	case len(c.JWKS) > 0:
		s, err := v.inlineSet(c.JWKS)
		if err != nil {
			return nil, fail("the client's registered JWK Set is unusable")
		}
		set = s
	case c.JWKSURI != "":
		s, err := v.opts.Fetcher.Keys(ctx, c.JWKSURI, false)
		if err == nil && kid != "" && !hasKid(s, kid) {
			s, err = v.opts.Fetcher.Keys(ctx, c.JWKSURI, true)
		}
		if err != nil {
			return nil, fail("%v", err)
		}
		set = s
	default:
		return nil, fail("the client has no registered keys (jwks or jwks_uri)")
	}
	return withKid(set, kid)
}

func hasKid(set []jose.JSONWebKey, kid string) bool {
	return slices.ContainsFunc(set, func(k jose.JSONWebKey) bool { return k.KeyID == kid })
}

// inlineSet parses an inline JWK Set once per distinct content.
func (v *Verifier) inlineSet(raw []byte) ([]jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.inline[string(raw)]; ok {
		return s, nil
	}
	s, err := ParseKeySet(raw)
	if err != nil {
		return nil, err
	}
	if len(v.inline) >= 4096 {
		clear(v.inline)
	}
	v.inline[string(raw)] = s
	return s, nil
}

// verifySignature tries each candidate key that fits the algorithm and
// decodes the claims of the first that verifies.
func verifySignature(tok *jwt.JSONWebToken, h header, keys []jose.JSONWebKey, out ...any) error {
	var unfit error
	tried := 0
	for _, k := range keys {
		if !fits(k, h.alg) {
			continue
		}
		if err := checkKey(k); err != nil {
			unfit = err
			continue
		}
		tried++
		if tok.Claims(k.Key, out...) == nil {
			return nil
		}
	}
	switch {
	case tried > 0:
		return fail("the signature does not verify with the client's keys")
	case unfit != nil:
		return fail("the client's key cannot be used: %v", unfit)
	}
	return fail("no key of the client fits alg %s", h.alg)
}

// fits reports whether k may verify a signature by alg.
func fits(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pk := k.Key.(type) {
	case ed25519.PublicKey:
		return alg == "EdDSA"
	case *ecdsa.PublicKey:
		n := pk.Curve.Params().Name
		return alg == "ES256" && n == "P-256" || alg == "ES384" && n == "P-384"
	case *rsa.PublicKey:
		return alg == "RS256" || alg == "PS256"
	}
	return false
}

// safe quotes a short printable value from an assertion for an error
// message, or names it generically.
func safe(s string) string {
	if len(s) > 64 {
		return "(a long value)"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "(a value with unusual characters)"
		}
	}
	return fmt.Sprintf("%q", s)
}

// Subject returns the unverified sub of raw, which names the client when
// the request has no client_id (RFC 7521 §4.2), or "" if raw has none.
// It reads the payload whatever the algorithm, so that an assertion
// signed with a refused one is still blamed on its client; nothing is
// trusted until Verify.
func Subject(raw string) string {
	parts := strings.Split(raw, ".")
	if len(raw) > MaxLen || len(parts) != 3 {
		return ""
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Sub string `json:"sub"`
	}
	if err != nil || json.Unmarshal(pb, &c) != nil || !store.StorableText(c.Sub) {
		return ""
	}
	return c.Sub
}
