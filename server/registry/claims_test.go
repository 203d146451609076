package registry_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// newTestRegistry returns a registry on a migrated SQLite store.
func newTestRegistry(t *testing.T, aud registry.Audiences) (*registry.Registry, *sqlstore.Store) {
	t.Helper()
	st := sqltest.OpenSQLite(t)
	return registry.New(registry.Options{
		Clients: st, Users: st, Revocations: revocation.Recorder{Store: st}, Audit: st, APIKeys: st,
		Hasher: secret.NewHasher(make([]byte, 32)), Audiences: aud,
	}), st
}

// fieldsOf returns the fields a validation error names, or fails.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *registry.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *registry.ValidationError", err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

// TestSubjectClaimsRefused: claims that would break or override a token
// are refused for clients and users alike, naming the field.
func TestSubjectClaimsRefused(t *testing.T) {
	t.Parallel()
	many := map[string]int{}
	for i := range 17 {
		many[strings.Repeat("k", i+1)] = i
	}
	manyJSON, _ := json.Marshal(many)
	tests := []struct {
		name          string
		claims, priv  string
		field         string
		messageSubstr string
	}{
		{"not an object", `["a"]`, ``, "claims", "JSON object"},
		{"a string", `"tenant"`, ``, "claims", "JSON object"},
		{"broken JSON", `{"a":`, ``, "claims", "JSON object"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", ``, "claims", "UTF-8"},
		{"Tollgate's own sub", `{"sub":"root"}`, ``, "claims", `"sub"`},
		{"Tollgate's own scope, privately", ``, `{"scope":"tollgate:admin"}`, "private_claims", `"scope"`},
		{"registered cnf", `{"cnf":{"jkt":"x"}}`, ``, "claims", `"cnf"`},
		{"too many members", string(manyJSON), ``, "claims", "at most 16 members"},
		{"too large", `{"blob":"` + strings.Repeat("x", 1100) + `"}`, ``, "claims", "at most 1024 bytes"},
		{"unprintable name", `{"te\nant":"a"}`, ``, "claims", "printable"},
		{"empty name", `{"":"a"}`, ``, "claims", "printable"},
		{"both public and private", `{"tenant":"a","plan":"x"}`, `{"tenant":"b"}`, "private_claims", `"tenant" is also a public claim`},
	}
	reg, _ := newTestRegistry(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			check := func(what string, err error) {
				t.Helper()
				if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field {
					t.Errorf("%s: fields = %q, want [%s]", what, got, tc.field)
				}
				if !strings.Contains(err.Error(), tc.messageSubstr) {
					t.Errorf("%s: err = %q, want it to say %q", what, err, tc.messageSubstr)
				}
			}
			_, _, err := reg.CreateClient(t.Context(), registry.ClientSpec{Name: "c-" + tc.name, Claims: raw(tc.claims), PrivateClaims: raw(tc.priv)})
			check("create client", err)
			_, err = reg.CreateUser(t.Context(), registry.UserSpec{Username: "u-" + tc.name, Password: "correct horse", Claims: raw(tc.claims), PrivateClaims: raw(tc.priv)})
			check("create user", err)
		})
	}
}

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// TestSubjectClaimsStored: valid claims are stored compacted with sorted
// names, shown in the views, replaced or removed by a patch, and kept by
// a patch that does not name them.
func TestSubjectClaimsStored(t *testing.T) {
	t.Parallel()
	reg, st := newTestRegistry(t, nil)
	ctx := t.Context()
	c, _, err := reg.CreateClient(ctx, registry.ClientSpec{Name: "app",
		Claims: raw(`{ "tenant": "acme", "plan": {"tier": 2} }`), PrivateClaims: raw(`{"internal_id": 42}`)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := reg.CreateUser(ctx, registry.UserSpec{Username: "alice", Password: "correct horse",
		Claims: raw(`{}`), PrivateClaims: raw(`{"email":"alice@example.com"}`)})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	storedUser, err := st.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for what, tc := range map[string]struct{ got, want []byte }{
		"client claims":         {stored.Claims, []byte(`{"plan":{"tier":2},"tenant":"acme"}`)},
		"client private claims": {stored.PrivateClaims, []byte(`{"internal_id":42}`)},
		"user claims":           {storedUser.Claims, nil},
		"user private claims":   {storedUser.PrivateClaims, []byte(`{"email":"alice@example.com"}`)},
	} {
		if string(tc.got) != string(tc.want) || (tc.want == nil) != (tc.got == nil) {
			t.Errorf("%s = %q, want %q", what, tc.got, tc.want)
		}
	}
	view, _ := json.Marshal(registry.ViewClient(stored))
	if !strings.Contains(string(view), `"claims":{"plan":{"tier":2},"tenant":"acme"},"private_claims":{"internal_id":42}`) {
		t.Errorf("client view = %s, want its claims", view)
	}
	if view, _ := json.Marshal(registry.ViewUser(storedUser)); strings.Contains(string(view), `"claims"`) ||
		!strings.Contains(string(view), `"private_claims":{"email":"alice@example.com"}`) {
		t.Errorf("user view = %s, want private_claims and no claims", view)
	}

	// A patch naming other fields keeps the claims.
	name := "app2"
	c2, err := reg.UpdateClient(ctx, c.ID, registry.ClientPatch{Name: &name})
	if err != nil || string(c2.Claims) != `{"plan":{"tier":2},"tenant":"acme"}` || string(c2.PrivateClaims) != `{"internal_id":42}` {
		t.Fatalf("rename: claims %q, private %q, err %v; want both kept", c2.Claims, c2.PrivateClaims, err)
	}
	// Moving a claim from public to private in one patch is no collision.
	c2, err = reg.UpdateClient(ctx, c.ID, registry.ClientPatch{Claims: raw(`null`), PrivateClaims: raw(`{"tenant":"acme"}`)})
	if err != nil || c2.Claims != nil || string(c2.PrivateClaims) != `{"tenant":"acme"}` {
		t.Fatalf("move: claims %q, private %q, err %v", c2.Claims, c2.PrivateClaims, err)
	}
	// A new public claim that collides with a kept private one is refused.
	_, err = reg.UpdateClient(ctx, c.ID, registry.ClientPatch{Claims: raw(`{"tenant":"x"}`)})
	if got := fieldsOf(t, err); len(got) != 1 || got[0] != "private_claims" {
		t.Errorf("collision by patch: fields %q, want [private_claims]", got)
	}
	u2, err := reg.UpdateUser(ctx, u.ID, registry.UserPatch{Claims: raw(`{"tenant":"acme"}`), PrivateClaims: raw(`null`)})
	if err != nil || string(u2.Claims) != `{"tenant":"acme"}` || u2.PrivateClaims != nil {
		t.Fatalf("user patch: claims %q, private %q, err %v", u2.Claims, u2.PrivateClaims, err)
	}
	disabled := true
	u2, err = reg.UpdateUser(ctx, u.ID, registry.UserPatch{Disabled: &disabled})
	if err != nil || string(u2.Claims) != `{"tenant":"acme"}` {
		t.Fatalf("disable: claims %q, err %v; want kept", u2.Claims, err)
	}
	_, err = reg.UpdateUser(ctx, u.ID, registry.UserPatch{PrivateClaims: raw(`{"iss":"evil"}`)})
	if got := fieldsOf(t, err); len(got) != 1 || got[0] != "private_claims" {
		t.Errorf("user registered claim: fields %q, want [private_claims]", got)
	}
	if got, _ := st.GetUser(ctx, u.ID); string(got.Claims) != `{"tenant":"acme"}` || got.PrivateClaims != nil {
		t.Errorf("refused patch changed the user: %q %q", got.Claims, got.PrivateClaims)
	}
}
