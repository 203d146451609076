package accesstoken

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/server/keys"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	variants := map[string]func(c *Claims){
		"full":          func(*Claims) {},
		"minimal":       func(c *Claims) { c.Scope, c.Roles, c.APIKeyID = nil, nil, "" },
		"two audiences": func(c *Claims) { c.Audience = []string{"a", "b"} },
		"not before":    func(c *Claims) { c.NotBefore = testNow },
		"escapes":       func(c *Claims) { c.Subject = "a\"b\\c\n\x01é😀</script>" },
	}
	for _, alg := range []string{keys.EdDSA, keys.ES256} {
		k := newKey(t, alg)
		for name, edit := range variants {
			t.Run(alg+"/"+name, func(t *testing.T) {
				t.Parallel()
				c := testClaims()
				edit(c)
				tok, err := Sign(k, c)
				if err != nil {
					t.Fatal(err)
				}
				got, err := Verify(tok, keySet{k.ID: k}, testOptions())
				if err != nil {
					t.Fatal(err)
				}
				want := *c
				want.ExpiresAt, want.IssuedAt = time.Unix(c.ExpiresAt.Unix(), 0), time.Unix(c.IssuedAt.Unix(), 0)
				if !c.NotBefore.IsZero() {
					want.NotBefore = time.Unix(c.NotBefore.Unix(), 0)
				}
				if !reflect.DeepEqual(got, &want) {
					t.Fatalf("Verify = %+v\nwant     %+v", got, &want)
				}
			})
		}
	}
}

func TestWireFormat(t *testing.T) {
	t.Parallel()
	k := newKey(t, keys.EdDSA)
	c := testClaims()
	tok, err := Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	h, _ := b64.DecodeString(parts[0])
	if want := `{"alg":"EdDSA","kid":"` + k.ID + `","typ":"at+jwt"}`; string(h) != want {
		t.Errorf("header = %s, want %s", h, want)
	}
	p, _ := b64.DecodeString(parts[1])
	want := `{"iss":"https://auth.example.com","sub":"tgc_client","aud":"https://api.example.com",` +
		`"exp":1906545900,"iat":1906545600,"jti":"jti-1","client_id":"tgc_client","scope":"read write:all",` +
		`"roles":["admin","ops"],"api_key_id":"tgk_id"}`
	if string(p) != want {
		t.Errorf("payload = %s\nwant      %s", p, want)
	}

	c.Audience = []string{"a", "b"}
	c.Scope, c.Roles, c.APIKeyID = nil, nil, ""
	c.NotBefore = testNow
	tok, _ = Sign(k, c)
	p, _ = b64.DecodeString(strings.Split(tok, ".")[1])
	want = `{"iss":"https://auth.example.com","sub":"tgc_client","aud":["a","b"],` +
		`"exp":1906545900,"iat":1906545600,"nbf":1906545600,"jti":"jti-1","client_id":"tgc_client"}`
	if string(p) != want {
		t.Errorf("payload = %s\nwant      %s", p, want)
	}
}

// TestGoJoseVerifiesSign checks the hand-assembled tokens with an
// independent JOSE implementation, using only the published JWKS.
func TestGoJoseVerifiesSign(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{keys.EdDSA, keys.ES256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			m := newManager(t, alg)
			k, err := m.Signer()
			if err != nil {
				t.Fatal(err)
			}
			c := testClaims()
			c.Audience = []string{"x", "y"}
			c.NotBefore = testNow
			tok, err := Sign(k, c)
			if err != nil {
				t.Fatal(err)
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(m.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			h := parsed.Headers[0]
			if h.KeyID != k.ID || h.Algorithm != alg || h.ExtraHeaders["typ"] != "at+jwt" {
				t.Fatalf("go-jose header = %+v", h)
			}
			jwks := set.Key(h.KeyID)
			if len(jwks) != 1 {
				t.Fatalf("kid %s not in JWKS %s", h.KeyID, m.JWKS())
			}
			var std jwt.Claims
			var extra struct {
				ClientID string   `json:"client_id"`
				Scope    string   `json:"scope"`
				Roles    []string `json:"roles"`
				APIKeyID string   `json:"api_key_id"`
			}
			if err := parsed.Claims(jwks[0].Key, &std, &extra); err != nil {
				t.Fatalf("go-jose rejects the signature: %v", err)
			}
			err = std.ValidateWithLeeway(jwt.Expected{Issuer: testIssuer, AnyAudience: jwt.Audience{"y"}, Time: testNow}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if std.Subject != c.Subject || std.ID != c.ID || extra.ClientID != c.ClientID ||
				extra.Scope != "read write:all" || !reflect.DeepEqual(extra.Roles, c.Roles) || extra.APIKeyID != c.APIKeyID {
				t.Fatalf("go-jose claims = %+v %+v", std, extra)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	t.Parallel()
	k := newKey(t, keys.EdDSA)
	tests := map[string]func(c *Claims){
		"no iss":         func(c *Claims) { c.Issuer = "" },
		"no sub":         func(c *Claims) { c.Subject = "" },
		"no aud":         func(c *Claims) { c.Audience = nil },
		"no exp":         func(c *Claims) { c.ExpiresAt = time.Time{} },
		"no iat":         func(c *Claims) { c.IssuedAt = time.Time{} },
		"no jti":         func(c *Claims) { c.ID = "" },
		"no client_id":   func(c *Claims) { c.ClientID = "" },
		"scope w/ space": func(c *Claims) { c.Scope = []string{"a b"} },
		"empty scope":    func(c *Claims) { c.Scope = []string{""} },
		"scope w/ quote": func(c *Claims) { c.Scope = []string{`a"`} },
		"bad utf-8 sub":  func(c *Claims) { c.Subject = "a\xffb" },
		"bad utf-8 role": func(c *Claims) { c.Roles = []string{"\xc3"} },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := testClaims()
			edit(c)
			if tok, err := Sign(k, c); err == nil {
				t.Fatalf("Sign = %q, nil; want an error", tok)
			}
		})
	}
}

func TestNewJTI(t *testing.T) {
	t.Parallel()
	a, b := NewJTI(), NewJTI()
	raw, err := b64.DecodeString(a)
	if err != nil || len(raw) != 16 || a == b {
		t.Fatalf("NewJTI = %q, %q: want distinct base64url of 16 bytes", a, b)
	}
}

func TestSignAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	k := newKey(t, keys.EdDSA)
	c := testClaims()
	if n := testing.AllocsPerRun(100, func() { Sign(k, c) }); n > 1 {
		t.Errorf("EdDSA Sign allocates %v times, want 1 (the token string)", n)
	}
}
