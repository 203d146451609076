package accesstoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/keys"
)

func hs256(t *testing.T, secret []byte, header, payload string) string {
	t.Helper()
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + b64.EncodeToString(mac.Sum(nil))
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	ed, es := newKey(t, keys.EdDSA), newKey(t, keys.ES256)
	ks := keySet{ed.ID: ed, es.ID: es}
	good, err := Sign(ed, testClaims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	payload, _ := b64.DecodeString(parts[1])
	edHeader := `{"alg":"EdDSA","kid":"` + ed.ID + `","typ":"at+jwt"}`
	withClaim := func(edit func(c *Claims)) string {
		c := testClaims()
		edit(c)
		tok, err := Sign(ed, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rawPub := []byte(ed.Public().(ed25519.PublicKey))
	pkix, _ := x509.MarshalPKIXPublicKey(ed.Public())
	sig, _ := b64.DecodeString(parts[2])
	flipped := []byte(parts[2])
	if flipped[3] = 'A'; parts[2][3] == 'A' {
		flipped[3] = 'B'
	}
	opts := testOptions()

	tests := []struct {
		name string
		tok  string
		opts VerifyOptions
		want error
	}{
		{"empty", "", opts, ErrMalformed},
		{"garbage", "not a token", opts, ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], opts, ErrMalformed},
		{"four parts", good + ".x", opts, ErrMalformed},
		{"newline inserted", parts[0] + "." + parts[1] + ".\n" + parts[2], opts, ErrMalformed},
		{"padding", good + "==", opts, ErrMalformed},
		{"too long", good + strings.Repeat("A", MaxTokenLen), opts, ErrMalformed},
		{"header not object", b64.EncodeToString([]byte(`"x"`)) + "." + parts[1] + "." + parts[2], opts, ErrMalformed},
		{"tampered payload", parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(string(payload), "admin", "root!", 1))) + "." + parts[2], opts, ErrSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flipped), opts, ErrSignature},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(withClaim(func(c *Claims) { c.ID = "x" }), ".")[2], opts, ErrSignature},
		{"truncated signature", parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig[:60]), opts, ErrSignature},
		{"alg none", b64.EncodeToString([]byte(`{"alg":"none","kid":"`+ed.ID+`","typ":"at+jwt"}`)) + "." + parts[1] + ".", opts, ErrAlgorithm},
		{"HS256 keyed with raw public key", hs256(t, rawPub, `{"alg":"HS256","kid":"`+ed.ID+`","typ":"at+jwt"}`, string(payload)), opts, ErrAlgorithm},
		{"HS256 keyed with PKIX public key", hs256(t, pkix, `{"alg":"HS256","kid":"`+ed.ID+`","typ":"at+jwt"}`, string(payload)), opts, ErrAlgorithm},
		{"RS256", signRaw(t, ed, `{"alg":"RS256","kid":"`+ed.ID+`","typ":"at+jwt"}`, string(payload)), opts, ErrAlgorithm},
		{"alg differs from key", signRaw(t, es, `{"alg":"EdDSA","kid":"`+es.ID+`","typ":"at+jwt"}`, string(payload)), opts, ErrAlgorithm},
		{"typ JWT", signRaw(t, ed, `{"alg":"EdDSA","kid":"`+ed.ID+`","typ":"JWT"}`, string(payload)), opts, ErrType},
		{"no typ", signRaw(t, ed, `{"alg":"EdDSA","kid":"`+ed.ID+`"}`, string(payload)), opts, ErrType},
		{"crit", signRaw(t, ed, `{"alg":"EdDSA","kid":"`+ed.ID+`","typ":"at+jwt","crit":["exp"],"exp":1}`, string(payload)), opts, ErrMalformed},
		{"unknown kid", signRaw(t, ed, `{"alg":"EdDSA","kid":"nope","typ":"at+jwt"}`, string(payload)), opts, ErrUnknownKey},
		{"no kid", signRaw(t, ed, `{"alg":"EdDSA","typ":"at+jwt"}`, string(payload)), opts, ErrUnknownKey},
		{"claims not an object", signRaw(t, ed, edHeader, `[1]`), opts, ErrMalformed},
		{"claims not JSON", signRaw(t, ed, edHeader, `{`), opts, ErrMalformed},
		{"exp a string", signRaw(t, ed, edHeader, strings.Replace(string(payload), `"exp":1906545900`, `"exp":"1906545900"`, 1)), opts, ErrMalformed},
		{"exp absurd", signRaw(t, ed, edHeader, strings.Replace(string(payload), `"exp":1906545900`, `"exp":1e300`, 1)), opts, ErrMalformed},
		{"no exp", signRaw(t, ed, edHeader, strings.Replace(string(payload), `"exp":1906545900,`, ``, 1)), opts, ErrMalformed},
		{"empty aud", signRaw(t, ed, edHeader, strings.Replace(string(payload), `"aud":"https://api.example.com"`, `"aud":[]`, 1)), opts, ErrMalformed},
		{"no jti", signRaw(t, ed, edHeader, strings.Replace(string(payload), `"jti":"jti-1",`, ``, 1)), opts, ErrMalformed},
		{"expired", good, VerifyOptions{Issuer: testIssuer, Now: testNow.Add(5 * time.Minute)}, ErrExpired},
		{"expired beyond leeway", good, VerifyOptions{Issuer: testIssuer, Now: testNow.Add(6 * time.Minute), Leeway: time.Minute}, ErrExpired},
		{"nbf in future", withClaim(func(c *Claims) { c.NotBefore = testNow.Add(2 * time.Minute) }), opts, ErrNotYetValid},
		{"iat in future", withClaim(func(c *Claims) { c.IssuedAt = testNow.Add(2 * time.Minute) }), opts, ErrNotYetValid},
		{"wrong issuer", good, VerifyOptions{Issuer: "https://evil.example", Now: opts.Now}, ErrIssuer},
		{"no issuer expected", good, VerifyOptions{Now: opts.Now}, ErrIssuer},
		{"wrong audience", good, VerifyOptions{Issuer: testIssuer, Now: opts.Now, Audience: "https://other"}, ErrAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Verify(tt.tok, ks, tt.opts)
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("Verify = %v, %v; want nil, %v", c, err, tt.want)
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	ed := newKey(t, keys.EdDSA)
	ks := keySet{ed.ID: ed}
	c := testClaims()
	c.Audience = []string{"a", "b"}
	c.NotBefore = testNow.Add(90 * time.Second)
	tok, _ := Sign(ed, c)
	payload, _ := b64.DecodeString(strings.Split(tok, ".")[1])
	tests := []struct {
		name string
		tok  string
		opts VerifyOptions
	}{
		{"second audience", tok, VerifyOptions{Issuer: testIssuer, Audience: "b", Now: testNow.Add(2 * time.Minute)}},
		{"nbf within leeway", tok, VerifyOptions{Issuer: testIssuer, Now: testNow.Add(time.Minute), Leeway: 30 * time.Second}},
		{"exp within leeway", tok, VerifyOptions{Issuer: testIssuer, Now: testNow.Add(5*time.Minute + 10*time.Second), Leeway: time.Minute}},
		{"typ application/AT+JWT", signRaw(t, ed, `{"alg":"EdDSA","kid":"`+ed.ID+`","typ":"application/AT+JWT"}`, string(payload)),
			VerifyOptions{Issuer: testIssuer, Now: testNow.Add(2 * time.Minute)}},
		{"fractional dates", signRaw(t, ed, `{"alg":"EdDSA","kid":"`+ed.ID+`","typ":"at+jwt"}`, strings.Replace(string(payload), `"exp":1906545900`, `"exp":1906545900.5`, 1)),
			VerifyOptions{Issuer: testIssuer, Now: testNow.Add(2 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Verify(tt.tok, ks, tt.opts); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyES256RejectsDERSignature(t *testing.T) {
	t.Parallel()
	es := newKey(t, keys.ES256)
	tok, _ := Sign(es, testClaims())
	i := strings.LastIndexByte(tok, '.')
	h := sha256.Sum256([]byte(tok[:i]))
	// A valid signature in ASN.1 form, as a naive signer would produce.
	priv, _ := ecdsa.GenerateKey(es.Public().(*ecdsa.PublicKey).Curve, rand.Reader)
	der, _ := ecdsa.SignASN1(rand.Reader, priv, h[:])
	if _, err := Verify(tok[:i+1]+b64.EncodeToString(der), keySet{es.ID: es}, testOptions()); !errors.Is(err, ErrSignature) {
		t.Fatalf("Verify = %v, want ErrSignature", err)
	}
}

func FuzzVerify(f *testing.F) {
	ed := newKey(f, keys.EdDSA)
	es := newKey(f, keys.ES256)
	ks := keySet{ed.ID: ed, es.ID: es}
	for _, k := range []*keys.Key{ed, es} {
		tok, _ := Sign(k, testClaims())
		f.Add(tok)
		f.Add(tok[:len(tok)/2])
	}
	f.Add("e30.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Verify(tok, ks, testOptions())
		if (c == nil) == (err == nil) {
			t.Fatalf("Verify = %v, %v: want exactly one non-nil", c, err)
		}
	})
}

// FuzzSignVerify checks that any claims Sign accepts come back unchanged,
// which exercises the hand-written JSON encoder against encoding/json.
func FuzzSignVerify(f *testing.F) {
	k := newKey(f, keys.EdDSA)
	ks := keySet{k.ID: k}
	f.Add("sub", "aud", "aud2", "read write", "role", "tgk_1", int64(0))
	f.Add("\"\\\x00\u2028", "", "\xff", "a\"b", "é", "\x7f", int64(-5))
	f.Fuzz(func(t *testing.T, sub, aud1, aud2, scope, role, apiKey string, nbf int64) {
		c := testClaims()
		c.Subject, c.Audience, c.Scope, c.Roles, c.APIKeyID = sub, []string{aud1}, strings.Fields(scope), []string{role}, apiKey
		if aud2 != "" {
			c.Audience = append(c.Audience, aud2)
		}
		if nbf > 0 {
			c.NotBefore = time.Unix(nbf%testNow.Unix(), 0)
		}
		tok, err := Sign(k, c)
		if err != nil {
			return // refused: invalid UTF-8, bad scope, empty sub
		}
		got, err := Verify(tok, ks, testOptions())
		if err != nil {
			t.Fatalf("Verify(Sign(%+v)) = %v", c, err)
		}
		if got.Subject != sub || !equal(got.Audience, c.Audience) || !equal(got.Scope, c.Scope) ||
			!equal(got.Roles, c.Roles) || got.APIKeyID != apiKey || got.NotBefore.Unix() != c.NotBefore.Unix() && nbf > 0 {
			t.Fatalf("round trip changed claims:\n got %+v\nwant %+v", got, c)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{keys.EdDSA, keys.ES256} {
		b.Run(alg, func(b *testing.B) {
			k := newKey(b, alg)
			c := testClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(k, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{keys.EdDSA, keys.ES256} {
		b.Run(alg, func(b *testing.B) {
			k := newKey(b, alg)
			tok, err := Sign(k, testClaims())
			if err != nil {
				b.Fatal(err)
			}
			ks, opts := keySet{k.ID: k}, testOptions()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(tok, ks, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
