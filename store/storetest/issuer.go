package storetest

import (
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunIssuers runs the store.IssuerStore contract. open is called once per
// subtest and must return an empty store.
func RunIssuers(t *testing.T, open func(t *testing.T) store.IssuerStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.IssuerStore)
	}{
		{"RoundTripEveryField", issuerRoundTrip},
		{"DuplicateNameConflict", issuerDuplicate},
		{"UnknownNotFound", issuerUnknown},
		{"ListInNameOrderThenDelete", issuerList},
		{"UpdateReplacesAllButNameAndCreatedAt", issuerUpdate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

func issuerFull(name string) *store.TrustedIssuer {
	return &store.TrustedIssuer{
		Name: name, Issuer: "https://kubernetes.default.svc", JWKSURI: "https://k8s.example/openid/v1/jwks",
		JWKS: []byte(`{"keys":[]}`), Audience: "https://tollgate.example", MaxLifetime: 24*time.Hour + 1500*time.Millisecond,
		CreatedAt: fixtureTime(0), UpdatedAt: fixtureTime(time.Hour),
	}
}

func issuerCompare(t *testing.T, what string, want, got *store.TrustedIssuer) {
	t.Helper()
	var d fixtureDiff
	d.value("Name", want.Name, got.Name)
	d.value("Issuer", want.Issuer, got.Issuer)
	d.value("JWKSURI", want.JWKSURI, got.JWKSURI)
	d.bytes("JWKS", want.JWKS, got.JWKS)
	d.value("Audience", want.Audience, got.Audience)
	d.value("MaxLifetime", want.MaxLifetime, got.MaxLifetime)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	d.report(t, what)
}

func issuerRoundTrip(t *testing.T, s store.IssuerStore) {
	ctx := t.Context()
	want := issuerFull("cluster-1")
	fixtureNoErr(t, "create", s.CreateIssuer(ctx, want))
	got, err := s.GetIssuer(ctx, want.Name)
	fixtureNoErr(t, "get", err)
	issuerCompare(t, "get", want, got)
	bare := &store.TrustedIssuer{Name: "gha", Issuer: "https://token.actions.githubusercontent.com", Audience: "a", CreatedAt: fixtureTime(0), UpdatedAt: fixtureTime(0)}
	fixtureNoErr(t, "create bare", s.CreateIssuer(ctx, bare))
	got, err = s.GetIssuer(ctx, bare.Name)
	fixtureNoErr(t, "get bare", err)
	issuerCompare(t, "get bare", bare, got)
	if got.JWKS != nil {
		t.Errorf("JWKS = %q, want nil", got.JWKS)
	}
}

func issuerDuplicate(t *testing.T, s store.IssuerStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateIssuer(ctx, issuerFull("dup")))
	other := issuerFull("dup")
	other.Issuer = "https://other.example"
	fixtureWantErr(t, "create again", s.CreateIssuer(ctx, other), store.ErrConflict)
	got, err := s.GetIssuer(ctx, "dup")
	fixtureNoErr(t, "get", err)
	issuerCompare(t, "after conflict", issuerFull("dup"), got)
}

func issuerUnknown(t *testing.T, s store.IssuerStore) {
	ctx := t.Context()
	_, err := s.GetIssuer(ctx, "missing")
	fixtureWantErr(t, "get", err, store.ErrNotFound)
	fixtureWantErr(t, "delete", s.DeleteIssuer(ctx, "missing"), store.ErrNotFound)
	fixtureWantErr(t, "update", s.UpdateIssuer(ctx, issuerFull("missing")), store.ErrNotFound)
	for name, id := range unstorableTexts {
		_, err := s.GetIssuer(ctx, id)
		fixtureWantErr(t, "get "+name, err, store.ErrNotFound)
	}
}

func issuerList(t *testing.T, s store.IssuerStore) {
	ctx := t.Context()
	for _, n := range []string{"b", "a", "c"} {
		fixtureNoErr(t, "create "+n, s.CreateIssuer(ctx, issuerFull(n)))
	}
	list, err := s.ListIssuers(ctx)
	fixtureNoErr(t, "list", err)
	var names []string
	for _, i := range list {
		names = append(names, i.Name)
	}
	var d fixtureDiff
	d.strings("names", []string{"a", "b", "c"}, names)
	d.report(t, "list")
	fixtureNoErr(t, "delete", s.DeleteIssuer(ctx, "b"))
	_, err = s.GetIssuer(ctx, "b")
	fixtureWantErr(t, "get deleted", err, store.ErrNotFound)
	list, err = s.ListIssuers(ctx)
	fixtureNoErr(t, "list again", err)
	if len(list) != 2 {
		t.Fatalf("%d issuers after a delete, want 2", len(list))
	}
}

func issuerUpdate(t *testing.T, s store.IssuerStore) {
	ctx := t.Context()
	orig := issuerFull("u")
	fixtureNoErr(t, "create", s.CreateIssuer(ctx, orig))
	upd := &store.TrustedIssuer{
		Name: "u", Issuer: "https://other.example", JWKSURI: "", JWKS: []byte(`{"keys":[{"kty":"OKP"}]}`), Audience: "aud-2",
		MaxLifetime: time.Hour, CreatedAt: fixtureTime(-50 * time.Hour), UpdatedAt: fixtureTime(3 * time.Hour),
	}
	fixtureNoErr(t, "update", s.UpdateIssuer(ctx, upd))
	got, err := s.GetIssuer(ctx, "u")
	fixtureNoErr(t, "get", err)
	want := *upd
	want.CreatedAt = orig.CreatedAt
	issuerCompare(t, "after update", &want, got)
}
