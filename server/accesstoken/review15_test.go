package accesstoken

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/server/keys"
)

// TestExtraClaimsCaseFolded: an extra claim whose name equals one of
// Tollgate's own under case folding ("SUB", "Roles", "ſub") is refused.
// encoding/json matches struct fields case-insensitively and lets the
// last member win, so such a claim, written after Tollgate's, replaces
// sub, aud, exp or roles for every Go verifier (clients/verify among
// them) while the exact-name check lets it through.
func TestExtraClaimsCaseFolded(t *testing.T) {
	t.Parallel()
	k := newKey(t, keys.EdDSA)
	for _, extra := range []string{
		`{"SUB":"admin"}`, `{"Aud":"https://other.example.com"}`, `{"Roles":["root"]}`,
		`{"EXP":4102444800}`, `{"Client_ID":"tgc_other"}`, `{"Scope":"tollgate:admin"}`,
		`{"\u017fub":"admin"}`, // U+017F folds to "s"
	} {
		t.Run(extra, func(t *testing.T) {
			t.Parallel()
			c := testClaims()
			c.Extra = []byte(extra)
			tok, err := Sign(k, c)
			if err == nil {
				var w struct {
					Sub   string   `json:"sub"`
					Aud   any      `json:"aud"`
					Roles []string `json:"roles"`
				}
				p, _ := b64.DecodeString(strings.Split(tok, ".")[1])
				_ = json.Unmarshal(p, &w)
				t.Errorf("Sign accepted extra claims %s; a Go verifier reads sub %q aud %v roles %v", extra, w.Sub, w.Aud, w.Roles)
			}
		})
	}
}
