package registry_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// newAudienceRegistry returns a registry whose audiences live in a real
// ring on a migrated SQLite store; rotations pre-publish for an hour.
func newAudienceRegistry(t *testing.T) (*registry.Registry, *sqlstore.Store) {
	t.Helper()
	st := sqltest.OpenSQLite(t)
	ring, err := encryption.New(st, encryption.Options{SealKey: make([]byte, 32), PrePublish: time.Hour, Retain: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return registry.New(registry.Options{Clients: st, Users: st, Audit: st, Audiences: ring}), st
}

// auditActions lists the audit log's actions on target, oldest first.
func auditActions(t *testing.T, st store.AuditStore, target string) []string {
	t.Helper()
	es, err := st.ListAudit(t.Context(), store.AuditFilter{Target: target}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func keyStates(v registry.AudienceView) string {
	var s []string
	for _, k := range v.Keys {
		s = append(s, k.Algorithm+":"+k.State)
	}
	return strings.Join(s, ",")
}

func TestAudienceInputRefused(t *testing.T) {
	t.Parallel()
	reg, _ := newAudienceRegistry(t)
	tests := []struct {
		name  string
		spec  registry.AudienceSpec
		field string
	}{
		{"empty name", registry.AudienceSpec{Encrypted: true}, "name"},
		{"space in name", registry.AudienceSpec{Name: "my api"}, "name"},
		{"control byte", registry.AudienceSpec{Name: "api\x01"}, "name"},
		{"non-ASCII", registry.AudienceSpec{Name: "ápi"}, "name"},
		{"too long", registry.AudienceSpec{Name: strings.Repeat("a", 201)}, "name"},
		{"unknown algorithm", registry.AudienceSpec{Name: "api", Encrypted: true, KeyAlgorithm: "dir"}, "key_algorithm"},
		{"A256KW", registry.AudienceSpec{Name: "api", KeyAlgorithm: "A256KW"}, "key_algorithm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := reg.CreateAudience(t.Context(), tc.spec)
			if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field {
				t.Errorf("fields = %q, want [%s]", got, tc.field)
			}
		})
	}
	list, err := reg.ListAudiences(t.Context())
	if err != nil || len(list) != 0 {
		t.Errorf("after refusals: %v, %v; want none stored", list, err)
	}
}

// TestAudienceLifecycle: create, rotate, change algorithm, turn off and
// delete, each audited, with the keys' states as the ring reports them.
func TestAudienceLifecycle(t *testing.T) {
	t.Parallel()
	reg, st := newAudienceRegistry(t)
	ctx := registry.WithActor(t.Context(), "test")
	const name = "https://payments.example.com"

	a, err := reg.CreateAudience(ctx, registry.AudienceSpec{Name: name, Encrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Encrypted || a.KeyAlgorithm != store.KeyECDHES || keyStates(a) != "ECDH-ES+A256KW:active" {
		t.Fatalf("created %+v, want encrypted with one active ECDH-ES key", a)
	}
	if _, err := reg.CreateAudience(ctx, registry.AudienceSpec{Name: name}); !isConflict(err) {
		t.Errorf("duplicate: err = %v, want a conflict", err)
	}
	plain, err := reg.CreateAudience(ctx, registry.AudienceSpec{Name: "urn:plain"})
	if err != nil || plain.Encrypted || len(plain.Keys) != 0 {
		t.Fatalf("plain audience %+v, %v: want no keys", plain, err)
	}
	if _, err := reg.RotateAudienceKey(ctx, "urn:plain"); !isConflict(err) {
		t.Errorf("rotate a plain audience: err = %v, want a conflict", err)
	}

	a, err = reg.RotateAudienceKey(ctx, name)
	if err != nil || keyStates(a) != "ECDH-ES+A256KW:active,ECDH-ES+A256KW:pending" {
		t.Fatalf("after rotation %q, %v; want the old key active and a pending one", keyStates(a), err)
	}
	if a.Keys[0].RetiredAt == nil || !a.Keys[0].RetiredAt.Equal(a.Keys[1].ActiveAt) {
		t.Errorf("the old key retires at %v, want when the new one activates (%v)", a.Keys[0].RetiredAt, a.Keys[1].ActiveAt)
	}
	rsa := store.KeyRSAOAEP256
	a, err = reg.UpdateAudience(ctx, name, registry.AudiencePatch{KeyAlgorithm: &rsa})
	if err != nil || a.KeyAlgorithm != rsa || !strings.Contains(keyStates(a), "RSA-OAEP-256:pending") {
		t.Fatalf("after switching to RSA: %+v (%s), %v", a, keyStates(a), err)
	}
	off := false
	a, err = reg.UpdateAudience(ctx, name, registry.AudiencePatch{Encrypted: &off})
	if err != nil || a.Encrypted || strings.Contains(keyStates(a), "active") || strings.Contains(keyStates(a), "pending") {
		t.Fatalf("after turning off: %+v (%s), %v; want every key retiring", a, keyStates(a), err)
	}
	got, err := reg.GetAudience(ctx, name)
	if err != nil || got.Encrypted || got.KeyAlgorithm != rsa {
		t.Errorf("get: %+v, %v", got, err)
	}
	list, err := reg.ListAudiences(ctx)
	if err != nil || len(list) != 2 || list[0].Name != name || list[1].Name != "urn:plain" {
		t.Errorf("list: %+v, %v; want both in name order", list, err)
	}
	if err := reg.DeleteAudience(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.GetAudience(ctx, name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get deleted: err = %v, want ErrNotFound", err)
	}
	keys, err := st.ListAudienceKeys(ctx)
	if err != nil || len(keys) != 0 {
		t.Errorf("stored keys after delete: %d, %v; want none", len(keys), err)
	}
	want := "audience.create,audience.rotate_key,audience.update,audience.update,audience.delete"
	if got := strings.Join(auditActions(t, st, "audience:"+name), ","); got != want {
		t.Errorf("audit = %s, want %s", got, want)
	}
}

func TestAudienceUnknownNotFound(t *testing.T) {
	t.Parallel()
	reg, _ := newAudienceRegistry(t)
	ctx := t.Context()
	on := true
	for what, err := range map[string]error{
		"get": func() error { _, err := reg.GetAudience(ctx, "missing"); return err }(),
		"update": func() error {
			_, err := reg.UpdateAudience(ctx, "missing", registry.AudiencePatch{Encrypted: &on})
			return err
		}(),
		"rotate": func() error { _, err := reg.RotateAudienceKey(ctx, "missing"); return err }(),
		"delete": reg.DeleteAudience(ctx, "missing"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", what, err)
		}
	}
}

// TestAudiencesWithoutRing: a registry without a ring lists none and
// refuses to create one, saying why.
func TestAudiencesWithoutRing(t *testing.T) {
	t.Parallel()
	reg, _ := newTestRegistry(t, nil)
	_, err := reg.CreateAudience(t.Context(), registry.AudienceSpec{Name: "api", Encrypted: true})
	if got := fieldsOf(t, err); len(got) != 1 || !strings.Contains(err.Error(), "no encrypted audiences") {
		t.Errorf("create: %v", err)
	}
	if list, err := reg.ListAudiences(t.Context()); err != nil || len(list) != 0 {
		t.Errorf("list: %v, %v", list, err)
	}
	if _, err := reg.GetAudience(t.Context(), "api"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get: err = %v, want ErrNotFound", err)
	}
}

func isConflict(err error) bool {
	var ve *registry.ValidationError
	return errors.As(err, &ve) && ve.Conflict
}
