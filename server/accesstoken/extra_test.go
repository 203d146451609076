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
