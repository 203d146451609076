package accesstoken

import (
	"strings"
	"testing"

	"github.com/tollgate/tollgate/server/keys"
)

// TestExtraClaims: an application's claims are appended to the payload;
// a name Tollgate sets itself, or anything but an object, is refused, so
// extra claims can never override sub, aud or scope.
func TestExtraClaims(t *testing.T) {
	t.Parallel()
	k := newKey(t, keys.EdDSA)
	c := testClaims()
	c.Extra = []byte(`{"plan":{"tier":2},"tenant":"acme"}`)
	tok, err := Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := b64.DecodeString(strings.Split(tok, ".")[1])
	if want := `"api_key_id":"tgk_id","plan":{"tier":2},"tenant":"acme"}`; !strings.HasSuffix(string(p), want) {
		t.Errorf("payload = %s, want it to end with %s", p, want)
	}
	for _, tc := range []struct{ name, extra string }{
		{"Sub", `{"sub":"admin"}`},
		{"Aud", `{"x":1,"aud":"other"}`},
		{"Scope", `{"scope":"tollgate:admin"}`},
		{"Array", `[1]`},
		{"String", `"acme"`},
		{"Broken", `{"a":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testClaims()
			c.Extra = []byte(tc.extra)
			if _, err := Sign(k, c); err == nil {
				t.Errorf("Sign accepted extra claims %s", tc.extra)
			}
		})
	}
}

// TestMergeExtra: a subject's public and private claims join into one
// object; an absent side leaves the other as it is, and a side that is not
// an object still makes Sign refuse the result.
func TestMergeExtra(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, a, b, want string }{
		{"both", `{"tenant":"acme"}`, ` { "email":"ops@acme.example" } `, `{"tenant":"acme","email":"ops@acme.example"}`},
		{"no private", `{"tenant":"acme"}`, ``, `{"tenant":"acme"}`},
		{"empty private", `{"tenant":"acme"}`, `{}`, `{"tenant":"acme"}`},
		{"no public", ``, `{"email":"x"}`, `{"email":"x"}`},
		{"neither", ``, ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(MergeExtra([]byte(tt.a), []byte(tt.b))); got != tt.want {
				t.Errorf("MergeExtra(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
			}
		})
	}
	k := newKey(t, keys.EdDSA)
	for _, bad := range [][2]string{{`[1]`, `{"a":1}`}, {`{"a":1}`, `"acme"`}, {`{"a":1}`, `{"sub":"admin"}`}} {
		c := testClaims()
		c.Extra = MergeExtra([]byte(bad[0]), []byte(bad[1]))
		if _, err := Sign(k, c); err == nil {
			t.Errorf("Sign accepted %s merged with %s: %s", bad[0], bad[1], c.Extra)
		}
	}
}
