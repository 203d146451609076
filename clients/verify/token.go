package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxTokenLen bounds the tokens Verify reads, in bytes (Tollgate's own
// limit).
const MaxTokenLen = 16 << 10

// allowed is the alg allow-list: never "none", never HMAC (a public key
// must not become an HMAC secret), never RSA.
var allowed = map[string]bool{string(jose.EdDSA): true, string(jose.ES256): true}

type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// checkSigned verifies tok's signature and claims at now and returns the
// cache entry for it. Claims are read only after the signature checks out.
func (v *Verifier) checkSigned(ctx context.Context, tok string, now time.Time) (*entry, error) {
	h, err := parseHeader(tok)
	if err != nil {
		return nil, err
	}
	pk, err := v.keys.lookup(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	// The header's alg must be the key's, so an ES256 key never checks
	// an EdDSA signature and vice versa.
	if string(pk.alg) != h.Alg {
		return nil, fmt.Errorf("%w: header alg %q, key alg %q", ErrAlgorithm, h.Alg, pk.alg)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{pk.alg})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	payload, err := jws.Verify(pk.key)
	if err != nil {
		return nil, ErrSignature
	}
	p, err := v.checkClaims(payload, now)
	if err != nil {
		return nil, err
	}
	return newEntry(p, p.ExpiresAt.Add(v.o.Leeway)), nil
}

// parseHeader decodes and checks the protected header: the compact form
// (RFC 7515 §7.1), an allowed alg, typ at+jwt (RFC 9068 §4) and no crit.
func parseHeader(tok string) (*header, error) {
	if !compactChars(tok) || strings.Count(tok, ".") != 2 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	hb, rest, _ := strings.Cut(tok, ".")
	pb, sb, _ := strings.Cut(rest, ".")
	// Strict decoding refuses non-zero padding bits, so each token has a
	// single spelling (go-jose's decoding would accept several).
	enc := base64.RawURLEncoding.Strict()
	if enc.DecodedLen(len(pb)) > MaxTokenLen || !canonical(enc, pb) || !canonical(enc, sb) {
		return nil, fmt.Errorf("%w: bad base64url", ErrMalformed)
	}
	raw, err := enc.DecodeString(hb)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64url header", ErrMalformed)
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil || !strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if !allowed[h.Alg] {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, h.Alg)
	}
	if !strings.EqualFold(h.Typ, "at+jwt") && !strings.EqualFold(h.Typ, "application/at+jwt") {
		return nil, ErrType
	}
	// RFC 7515 §4.1.11: extensions we do not understand must fail; b64
	// (RFC 7797) would change what the signature covers.
	if h.Crit != nil || h.B64 != nil {
		return nil, fmt.Errorf("%w: crit and b64 headers are not supported", ErrMalformed)
	}
	return &h, nil
}

// compactChars reports whether tok holds only base64url characters and
// dots. Base64 decoders skip CR and LF; refusing everything outside the
// base64url alphabet keeps a token from having several spellings.
func compactChars(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// canonical reports whether s is strict base64url.
func canonical(enc *base64.Encoding, s string) bool {
	_, err := enc.DecodeString(s)
	return err == nil
}

// wireClaims are the claims Tollgate puts in access tokens (RFC 9068 §2.2).
type wireClaims struct {
	Iss      string      `json:"iss"`
	Sub      string      `json:"sub"`
	Aud      audience    `json:"aud"`
	Exp      numericDate `json:"exp"`
	Iat      numericDate `json:"iat"`
	Nbf      numericDate `json:"nbf"`
	Jti      string      `json:"jti"`
	ClientID string      `json:"client_id"`
	Scope    string      `json:"scope"`
	Roles    []string    `json:"roles"`
	APIKeyID string      `json:"api_key_id"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// checkClaims applies the claim rules to a signed payload.
func (v *Verifier) checkClaims(payload []byte, now time.Time) (*Principal, error) {
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: claims are not a JWT claims set", ErrMalformed)
	}
	if w.Iss != v.o.Issuer {
		return nil, ErrIssuer
	}
	if w.Sub == "" || w.ClientID == "" || w.Jti == "" || w.Exp.IsZero() || w.Iat.IsZero() || len(w.Aud) == 0 {
		return nil, fmt.Errorf("%w: a required claim is missing", ErrMalformed) // RFC 9068 §2.2
	}
	if err := checkTimes(w.Exp.Time, w.Nbf.Time, w.Iat.Time, now, v.o.Leeway); err != nil {
		return nil, err
	}
	if !slices.Contains(w.Aud, v.o.Audience) {
		return nil, ErrAudience
	}
	return &Principal{
		Subject: w.Sub, ClientID: w.ClientID, Scopes: strings.Fields(w.Scope), Roles: w.Roles,
		APIKeyID: w.APIKeyID, KeyThumbprint: w.Cnf.JKT, ID: w.Jti, Issuer: w.Iss, Audience: w.Aud,
		IssuedAt: w.Iat.Time, ExpiresAt: w.Exp.Time, Claims: json.RawMessage(payload),
	}, nil
}

// checkTimes applies exp (RFC 7519 §4.1.4: now must be before it), nbf and
// iat, each with leeway. Zero nbf or iat are not checked.
func checkTimes(exp, nbf, iat, now time.Time, leeway time.Duration) error {
	if !now.Before(exp.Add(leeway)) {
		return ErrExpired
	}
	if early := now.Add(leeway); early.Before(nbf) || early.Before(iat) {
		return ErrNotYetValid
	}
	return nil
}

// audience is "aud": one string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*a = ss
	return nil
}

// numericDate is a JWT NumericDate: a JSON number of seconds since the
// epoch (RFC 7519 §2). null or absent leaves it zero.
type numericDate struct{ time.Time }

// maxNumericDate bounds dates to about the year 5000 so that conversions
// cannot overflow.
const maxNumericDate = 1e11

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || len(b) == 0 || b[0] == '"' || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("verify: invalid NumericDate %.20q", b)
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}
