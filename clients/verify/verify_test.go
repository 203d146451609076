package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
)

// realFixture is a real Tollgate, a client of it with scopes and roles,
// a verifier, and one of the client's tokens.
type realFixture struct {
	srv *tollgatetest.Server
	app tollgatetest.Client
	v   *Verifier
	tok string
}

func newRealFixture(t *testing.T) *realFixture {
	srv := tollgatetest.Start(t)
	app := srv.CreateClient(t, "--scopes", "orders:read orders:write", "--roles", "batch,reporting")
	return &realFixture{srv: srv, app: app, v: openReal(t, srv, nil), tok: srv.Token(t, app, "orders:read")}
}

// TestVerifyAgainstTollgate checks the Principal of a real token in
// detail, and that the second verification is the cached one.
func TestVerifyAgainstTollgate(t *testing.T) {
	t.Parallel()
	f := newRealFixture(t)
	srv, app, v, tok, ctx := f.srv, f.app, f.v, f.tok, context.Background()
	p, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	_, claims, _ := segments(t, tok)
	if p.Subject != app.ID || p.ClientID != app.ID || !slices.Equal(p.Scopes, []string{"orders:read"}) ||
		!slices.Equal(p.Roles, []string{"batch", "reporting"}) || p.Issuer != srv.URL ||
		!slices.Equal(p.Audience, []string{srv.URL}) || p.ID != claims["jti"] || p.APIKeyID != "" {
		t.Fatalf("principal %+v", p)
	}
	if p.ExpiresAt.Unix() != int64(claims["exp"].(float64)) || p.IssuedAt.Unix() != int64(claims["iat"].(float64)) {
		t.Fatalf("times %v %v, claims %v", p.IssuedAt, p.ExpiresAt, claims)
	}
	var raw map[string]any
	if err := json.Unmarshal(p.Claims, &raw); err != nil || raw["jti"] != claims["jti"] || raw["scope"] != "orders:read" {
		t.Fatalf("raw claims %s: %v", p.Claims, err)
	}
	again, err := v.Verify(ctx, tok)
	if err != nil || again != p {
		t.Fatalf("second verification: %v, same principal %v", err, again == p)
	}
}

// TestRefusals: every way a token must be refused, with real tokens of a
// real server, altered or not.
func TestRefusals(t *testing.T) {
	t.Parallel()
	f := newRealFixture(t)
	srv, app, v, tok, ctx := f.srv, f.app, f.v, f.tok, context.Background()
	header, _, sig := segments(t, tok)
	parts := strings.Split(tok, ".")
	otherAud := srv.CreateClient(t, "--audience", "https://elsewhere.example")
	otherIss := srv.Node(t, "http://other-issuer.example")

	cases := []struct {
		name string
		tok  func() string
		// clock shifts the verifier's clock.
		clock time.Duration
		want  error
	}{
		{name: "expired", tok: func() string { return srv.Token(t, app, "") }, clock: 10 * time.Minute, want: ErrExpired},
		{name: "not yet valid", tok: func() string { return srv.Token(t, app, "") }, clock: -10 * time.Minute, want: ErrNotYetValid},
		{name: "wrong audience", tok: func() string { return srv.Token(t, otherAud, "") }, want: ErrAudience},
		{name: "wrong issuer, signed with the right key", tok: func() string { return otherIss.Token(t, app, "") }, want: ErrIssuer},
		{name: "tampered payload", tok: func() string {
			_, c, _ := segments(t, tok)
			c["scope"] = "orders:read orders:write admin"
			return parts[0] + "." + encode(t, c) + "." + sig
		}, want: ErrSignature},
		{name: "tampered signature", tok: func() string {
			b := []byte(sig)
			if b[10] = 'A'; sig[10] == 'A' {
				b[10] = 'B'
			}
			return parts[0] + "." + parts[1] + "." + string(b)
		}, want: ErrSignature},
		{name: "alg none", tok: func() string {
			h := map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}
			return encode(t, h) + "." + parts[1] + "."
		}, want: ErrAlgorithm},
		{name: "HS256 signed with the public key", tok: func() string {
			return hs256WithPublicKey(t, srv, header["kid"].(string), parts[1])
		}, want: ErrAlgorithm},
		{name: "unknown kid", tok: func() string {
			h := map[string]any{"alg": header["alg"], "typ": "at+jwt", "kid": "no-such-key"}
			return encode(t, h) + "." + parts[1] + "." + sig
		}, want: ErrUnknownKey},
		{name: "typ JWT", tok: func() string {
			h := map[string]any{"alg": header["alg"], "typ": "JWT", "kid": header["kid"]}
			return encode(t, h) + "." + parts[1] + "." + sig
		}, want: ErrType},
		{name: "non-canonical base64", tok: func() string { return tok[:len(tok)-1] + nudge(tok[len(tok)-1]) }, want: ErrMalformed},
		{name: "garbage", tok: func() string { return "not-a-token" }, want: ErrMalformed},
		{name: "empty", tok: func() string { return "" }, want: ErrMalformed},
		{name: "too long", tok: func() string { return strings.Repeat("a", MaxTokenLen+1) }, want: ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.tok()
			vv := v
			if tc.clock != 0 {
				vv = openReal(t, srv, func(o *Options) { o.Now = func() time.Time { return time.Now().Add(tc.clock) } })
			}
			p, err := vv.Verify(ctx, tok)
			if p != nil {
				t.Fatalf("accepted: %+v", p)
			}
			wantErr(t, err, tc.want)
		})
	}
}

// nudge changes the last base64url character so that only the unused
// padding bits differ: the same bytes, spelt differently.
func nudge(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[i^1])
}

// hs256WithPublicKey forges the classic key-confusion token: HS256 with
// the issuer's public key (as the raw JWK bytes) as the HMAC secret.
func hs256WithPublicKey(t *testing.T, srv *tollgatetest.Server, kid, payload string) string {
	t.Helper()
	var set jose.JSONWebKeySet
	o := Options{Issuer: srv.URL, RequestTimeout: 5 * time.Second, HTTPClient: &http.Client{}}
	if err := getJSON(context.Background(), &o, srv.URL+"/.well-known/jwks.json", false, maxSmallBody, &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %s not in the JWKS", kid)
	}
	pub, err := keys[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	signed := encode(t, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid}) + "." + payload
	mac := hmac.New(sha256.New, pub)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// TestExpiryBeatsTheCache: a cached token is refused once its exp passes.
func TestExpiryBeatsTheCache(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	app := srv.CreateClient(t)
	var shift atomic.Int64
	v := openReal(t, srv, func(o *Options) { o.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) } })
	tok := srv.Token(t, app, "")
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	_, c, _ := segments(t, tok)
	exp := time.Unix(int64(c["exp"].(float64)), 0)
	shift.Store(int64(time.Until(exp) + v.o.Leeway)) // exactly exp + leeway: no longer valid
	_, err := v.Verify(context.Background(), tok)
	wantErr(t, err, ErrExpired)
}
