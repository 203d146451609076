package registry_test

import (
	"strings"
	"testing"

	"github.com/tollgate/tollgate/server/registry"
)

// TestSubjectClaimsCaseFolded: a claim name equal to a registered one
// under case folding is refused like the name itself (Go's encoding/json
// matches struct fields case-insensitively, the last member winning, so
// "SUB" would replace sub for a Go API), and a public and a private name
// may not differ only by case (one object would carry both).
func TestSubjectClaimsCaseFolded(t *testing.T) {
	t.Parallel()
	reg, _ := newTestRegistry(t, nil)
	for _, tc := range []struct{ name, claims, priv, field, message string }{
		{"SUB", `{"SUB":"admin"}`, ``, "claims", "registered claim"},
		{"Roles, privately", ``, `{"Roles":["root"]}`, "private_claims", "registered claim"},
		{"Aud", `{"Aud":"other"}`, ``, "claims", "registered claim"},
		{"public and private by case", `{"Tenant":"a"}`, `{"tenant":"b"}`, "private_claims", "also a public claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := reg.CreateClient(t.Context(), registry.ClientSpec{Name: "c-" + tc.name, Claims: raw(tc.claims), PrivateClaims: raw(tc.priv)})
			if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("create client: %v, want %s: %s", err, tc.field, tc.message)
			}
			_, err = reg.CreateUser(t.Context(), registry.UserSpec{Username: "u-" + strings.ReplaceAll(tc.name, " ", "-"), Password: "correct horse", Claims: raw(tc.claims), PrivateClaims: raw(tc.priv)})
			if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("create user: %v, want %s: %s", err, tc.field, tc.message)
			}
		})
	}
}
