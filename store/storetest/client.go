package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// RunClients runs the store.ClientStore contract. open is called once per
// subtest and must return an empty store.
func RunClients(t *testing.T, open func(t *testing.T) store.ClientStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.ClientStore)
	}{
		{"RoundTripEveryField", clientRoundTrip},
		{"RoundTripZeroValues", clientRoundTripZero},
		{"CallerSlicesNotAliased", clientNoAliasing},
		{"UnknownIDNotFound", clientUnknown},
		{"UnstorableIDNotFound", clientUnstorable},
		{"DuplicateIDConflict", clientDuplicateID},
		{"DuplicateNameConflict", clientDuplicateName},
		{"UpdateReplacesAllButIDAndCreatedAt", clientUpdate},
		{"UpdateToTakenNameConflict", clientUpdateTakenName},
		{"UpdateNeverLowersMaxAccessTokenTTL", clientMaxAccessTTL},
		{"UpdateDisablesAndEnables", clientDisable},
		{"DeleteThenGetNotFound", clientDelete},
		{"ListPagesInIDOrder", clientList},
		{"ConcurrentCreateSameNameOneWins", clientConcurrentName},
		{"ConcurrentCreateSameIDOneWins", clientConcurrentID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// clientFull returns a client with every field set.
func clientFull(t *testing.T, id, name string) *store.Client {
	return &store.Client{
		ID:                  id,
		Name:                name,
		SecretHash:          fixtureBytes(t, 32),
		PrevSecretHash:      fixtureBytes(t, 32),
		PrevSecretExpiresAt: fixtureTime(48 * time.Hour),
		GrantTypes:          []string{"client_credentials", "refresh_token", "password"},
		Scopes:              []string{"read", "write", "admin:all", "ünïcode scope"},
		DefaultScopes:       []string{"read"},
		Audience:            []string{"https://api.example.com", "urn:billing"},
		Roles:               []string{"reader", "writer"},
		AccessTokenTTL:      15*time.Minute + 1500*time.Millisecond,
		RefreshTokenTTL:     30 * 24 * time.Hour,
		MaxAccessTokenTTL:   2*time.Hour + 1500*time.Millisecond,
		TokensRevokedAt:     fixtureTime(30 * time.Minute),
		RateLimit:           250,
		Disabled:            true,
		DPoPBound:           true,
		AuthMethod:          store.AuthPrivateKeyJWT,
		JWKS:                []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`),
		JWKSURI:             "https://keys.example.com/jwks.json",
		FederatedIssuer:     "cluster-1",
		FederatedSubject:    "system:serviceaccount:payments:*",
		FederatedClaims:     map[string]string{"repository": "org/repo", "ref": "refs/heads/main"},
		Claims:              []byte(`{"tenant":"acme","plan":{"tier":2,"seats":[1,2]}}`),
		PrivateClaims:       []byte(`{"internal_id":"ünï-42","risk":0.25}`),
		CreatedAt:           fixtureTime(0),
		UpdatedAt:           fixtureTime(time.Hour),
	}
}

// clientMinimal returns a client with only what any client has.
func clientMinimal(t *testing.T, id, name string) *store.Client {
	return &store.Client{ID: id, Name: name, SecretHash: fixtureBytes(t, 32), CreatedAt: fixtureTime(0), UpdatedAt: fixtureTime(0)}
}

// clientCompare reports every field of got that differs from want;
// createdAt is what CreatedAt must be.
func clientCompare(t *testing.T, what string, want, got *store.Client, createdAt time.Time) {
	t.Helper()
	var d fixtureDiff
	d.value("ID", want.ID, got.ID)
	d.value("Name", want.Name, got.Name)
	d.bytes("SecretHash", want.SecretHash, got.SecretHash)
	d.bytes("PrevSecretHash", want.PrevSecretHash, got.PrevSecretHash)
	d.time("PrevSecretExpiresAt", want.PrevSecretExpiresAt, got.PrevSecretExpiresAt)
	d.time("TokensRevokedAt", want.TokensRevokedAt, got.TokensRevokedAt)
	d.value("RateLimit", want.RateLimit, got.RateLimit)
	d.value("Disabled", want.Disabled, got.Disabled)
	d.value("DPoPBound", want.DPoPBound, got.DPoPBound)
	d.value("AuthMethod", want.AuthMethod, got.AuthMethod)
	d.bytes("JWKS", want.JWKS, got.JWKS)
	d.value("JWKSURI", want.JWKSURI, got.JWKSURI)
	d.value("FederatedIssuer", want.FederatedIssuer, got.FederatedIssuer)
	d.value("FederatedSubject", want.FederatedSubject, got.FederatedSubject)
	if len(want.FederatedClaims) != len(got.FederatedClaims) || !maps.Equal(want.FederatedClaims, got.FederatedClaims) {
		d.problems = append(d.problems, fmt.Sprintf("FederatedClaims = %v, want %v", got.FederatedClaims, want.FederatedClaims))
	}
	d.claims("Claims", want.Claims, got.Claims)
	d.claims("PrivateClaims", want.PrivateClaims, got.PrivateClaims)
	d.strings("GrantTypes", want.GrantTypes, got.GrantTypes)
	d.strings("Scopes", want.Scopes, got.Scopes)
	d.strings("DefaultScopes", want.DefaultScopes, got.DefaultScopes)
	d.strings("Audience", want.Audience, got.Audience)
	d.strings("Roles", want.Roles, got.Roles)
	d.value("AccessTokenTTL", want.AccessTokenTTL, got.AccessTokenTTL)
	d.value("RefreshTokenTTL", want.RefreshTokenTTL, got.RefreshTokenTTL)
	d.value("MaxAccessTokenTTL", want.MaxAccessTokenTTL, got.MaxAccessTokenTTL)
	d.time("CreatedAt", createdAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	d.report(t, what)
}

func clientRoundTrip(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	want := clientFull(t, "client-1", "Billing Service")
	fixtureNoErr(t, "create", s.CreateClient(ctx, want))

	got, err := s.GetClient(ctx, want.ID)
	fixtureNoErr(t, "get", err)
	clientCompare(t, "get", want, got, want.CreatedAt)

	list, err := s.ListClients(ctx, "", 10)
	fixtureNoErr(t, "list", err)
	if len(list) != 1 {
		t.Fatalf("list returned %d clients, want 1", len(list))
	}
	clientCompare(t, "list", want, &list[0], want.CreatedAt)
}

func clientRoundTripZero(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	want := clientMinimal(t, "client-1", "minimal")
	fixtureNoErr(t, "create", s.CreateClient(ctx, want))
	got, err := s.GetClient(ctx, want.ID)
	fixtureNoErr(t, "get", err)
	clientCompare(t, "get", want, got, want.CreatedAt)
	if !got.PrevSecretExpiresAt.IsZero() {
		t.Errorf("PrevSecretExpiresAt = %v, want zero", got.PrevSecretExpiresAt)
	}
}

func clientNoAliasing(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := clientFull(t, "client-1", "aliasing")
	want := clientClone(c)
	fixtureNoErr(t, "create", s.CreateClient(ctx, c))
	c.Scopes[0] = "mutated"
	c.SecretHash[0] ^= 0xff
	c.Claims[1] = 'X'

	got, err := s.GetClient(ctx, c.ID)
	fixtureNoErr(t, "get", err)
	got.Roles[0] = "mutated"
	got.PrevSecretHash[0] ^= 0xff
	got.PrivateClaims[1] = 'X'

	again, err := s.GetClient(ctx, c.ID)
	fixtureNoErr(t, "get again", err)
	clientCompare(t, "get again", want, again, want.CreatedAt)
}

// clientClone deep-copies c.
func clientClone(c *store.Client) *store.Client {
	d := *c
	d.SecretHash = slices.Clone(c.SecretHash)
	d.PrevSecretHash = slices.Clone(c.PrevSecretHash)
	d.JWKS = slices.Clone(c.JWKS)
	d.FederatedClaims = maps.Clone(c.FederatedClaims)
	d.Claims = slices.Clone(c.Claims)
	d.PrivateClaims = slices.Clone(c.PrivateClaims)
	d.GrantTypes = slices.Clone(c.GrantTypes)
	d.Scopes = slices.Clone(c.Scopes)
	d.DefaultScopes = slices.Clone(c.DefaultScopes)
	d.Audience = slices.Clone(c.Audience)
	d.Roles = slices.Clone(c.Roles)
	return &d
}

func clientUnknown(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create other", s.CreateClient(ctx, clientMinimal(t, "known", "known")))
	_, err := s.GetClient(ctx, "missing")
	fixtureWantErr(t, "get", err, store.ErrNotFound)
	fixtureWantErr(t, "update", s.UpdateClient(ctx, clientMinimal(t, "missing", "missing")), store.ErrNotFound)
	fixtureWantErr(t, "delete", s.DeleteClient(ctx, "missing"), store.ErrNotFound)
	// The failed update must not have created the client.
	_, err = s.GetClient(ctx, "missing")
	fixtureWantErr(t, "get after update", err, store.ErrNotFound)
}

// unstorableTexts are lookups no store can hold (store.StorableText):
// PostgreSQL refuses them outright, which must read as not found.
var unstorableTexts = map[string]string{"nul": "tgc_x\x00", "inner nul": "a\x00b", "invalid utf-8": "tgc_\xff"}

func clientUnstorable(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create other", s.CreateClient(ctx, clientMinimal(t, "tgc_x", "known")))
	for name, id := range unstorableTexts {
		_, err := s.GetClient(ctx, id)
		fixtureWantErr(t, "get "+name, err, store.ErrNotFound)
		fixtureWantErr(t, "delete "+name, s.DeleteClient(ctx, id), store.ErrNotFound)
	}
}

func clientDuplicateID(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	first := clientFull(t, "client-1", "first")
	fixtureNoErr(t, "create", s.CreateClient(ctx, first))
	fixtureWantErr(t, "create same ID", s.CreateClient(ctx, clientMinimal(t, "client-1", "second")), store.ErrConflict)
	got, err := s.GetClient(ctx, first.ID)
	fixtureNoErr(t, "get", err)
	clientCompare(t, "after conflict", first, got, first.CreatedAt)
}

func clientDuplicateName(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateClient(ctx, clientMinimal(t, "client-1", "shared")))
	fixtureWantErr(t, "create same name", s.CreateClient(ctx, clientMinimal(t, "client-2", "shared")), store.ErrConflict)
	_, err := s.GetClient(ctx, "client-2")
	fixtureWantErr(t, "get loser", err, store.ErrNotFound)
	// Names are compared exactly.
	fixtureNoErr(t, "create other case", s.CreateClient(ctx, clientMinimal(t, "client-3", "Shared")))
}

func clientUpdate(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	orig := clientFull(t, "client-1", "before")
	fixtureNoErr(t, "create", s.CreateClient(ctx, orig))

	upd := clientFull(t, "client-1", "after")
	upd.GrantTypes = []string{"client_credentials"}
	upd.Scopes = []string{"other"}
	upd.DefaultScopes = nil
	upd.Audience = []string{"urn:new"}
	upd.Roles = nil
	upd.AccessTokenTTL = 0
	upd.RefreshTokenTTL = time.Hour
	upd.AuthMethod = store.AuthClientSecretPost
	upd.JWKS = nil
	upd.JWKSURI = ""
	upd.FederatedClaims = map[string]string{"ref": "refs/tags/v1"}
	upd.Claims = []byte(`{"tenant":"globex"}`)
	upd.PrivateClaims = nil
	upd.CreatedAt = fixtureTime(-100 * time.Hour) // must be ignored
	upd.UpdatedAt = fixtureTime(2 * time.Hour)
	fixtureNoErr(t, "update", s.UpdateClient(ctx, upd))
	got, err := s.GetClient(ctx, upd.ID)
	fixtureNoErr(t, "get", err)
	clientCompare(t, "after update", upd, got, orig.CreatedAt)

	// Clearing the previous secret stores zero values; keeping the name is
	// no conflict with itself.
	upd.PrevSecretHash = nil
	upd.PrevSecretExpiresAt = time.Time{}
	upd.Claims, upd.PrivateClaims = nil, []byte(`{"email":"ops@example.com"}`)
	fixtureNoErr(t, "update again", s.UpdateClient(ctx, upd))
	got, err = s.GetClient(ctx, upd.ID)
	fixtureNoErr(t, "get again", err)
	clientCompare(t, "after clearing", upd, got, orig.CreatedAt)
}

// clientDisable: a new client is enabled; disabling and enabling again
// are stored, every other field untouched.
func clientDisable(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := clientMinimal(t, "client-1", "toggled")
	fixtureNoErr(t, "create", s.CreateClient(ctx, c))
	for _, disabled := range []bool{false, true, false} {
		c.Disabled = disabled
		fixtureNoErr(t, "update", s.UpdateClient(ctx, c))
		got, err := s.GetClient(ctx, c.ID)
		fixtureNoErr(t, "get", err)
		clientCompare(t, fmt.Sprintf("after setting Disabled=%v", disabled), c, got, c.CreatedAt)
	}
}

func clientUpdateTakenName(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	a := clientFull(t, "client-a", "alpha")
	fixtureNoErr(t, "create a", s.CreateClient(ctx, a))
	b := clientFull(t, "client-b", "beta")
	fixtureNoErr(t, "create b", s.CreateClient(ctx, b))

	upd := *b
	upd.Name = "alpha"
	upd.Scopes = []string{"changed"}
	fixtureWantErr(t, "update to taken name", s.UpdateClient(ctx, &upd), store.ErrConflict)
	got, err := s.GetClient(ctx, b.ID)
	fixtureNoErr(t, "get b", err)
	clientCompare(t, "b after conflict", b, got, b.CreatedAt)
}

func clientDelete(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	fixtureNoErr(t, "create", s.CreateClient(ctx, clientMinimal(t, "client-1", "doomed")))
	fixtureNoErr(t, "create other", s.CreateClient(ctx, clientMinimal(t, "client-2", "kept")))
	fixtureNoErr(t, "delete", s.DeleteClient(ctx, "client-1"))
	_, err := s.GetClient(ctx, "client-1")
	fixtureWantErr(t, "get deleted", err, store.ErrNotFound)
	fixtureWantErr(t, "delete again", s.DeleteClient(ctx, "client-1"), store.ErrNotFound)
	_, err = s.GetClient(ctx, "client-2")
	fixtureNoErr(t, "get other", err)
	// The name is free again.
	fixtureNoErr(t, "reuse name", s.CreateClient(ctx, clientMinimal(t, "client-3", "doomed")))
}

func clientList(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	empty, err := s.ListClients(ctx, "", 5)
	fixtureNoErr(t, "list empty", err)
	if len(empty) != 0 {
		t.Fatalf("empty store listed %d clients", len(empty))
	}
	// IDs whose byte order differs from a case-insensitive order.
	want := []string{"A-7", "B-1", "a-2", "a-3", "b", "c-0", "c-00", "z"}
	for _, i := range rand.Perm(len(want)) {
		id := want[i]
		fixtureNoErr(t, "create "+id, s.CreateClient(ctx, clientMinimal(t, id, "name "+id)))
	}
	for _, limit := range []int{1, 3, 8, 20} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			pages := fixturePages(t, limit, func(after string, limit int) ([]string, error) {
				cs, err := s.ListClients(ctx, after, limit)
				ids := make([]string, len(cs))
				for i, c := range cs {
					ids[i] = c.ID
				}
				return ids, err
			})
			fixtureCheckPages(t, pages, want, limit)
		})
	}
	// A cursor need not be a stored ID.
	got, err := s.ListClients(ctx, "a-25", 2)
	fixtureNoErr(t, "list after a-25", err)
	if len(got) != 2 || got[0].ID != "a-3" || got[1].ID != "b" {
		t.Errorf("list after a-25 = %v, want a-3, b", got)
	}
}

func clientConcurrentName(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	const n = 16
	cs := make([]*store.Client, n)
	for i := range cs {
		cs[i] = clientMinimal(t, fmt.Sprintf("client-%02d", i), "contested")
	}
	errs := fixtureRace(n, func(i int) error { return s.CreateClient(ctx, cs[i]) })
	win := fixtureOneWinner(t, errs, store.ErrConflict)
	list, err := s.ListClients(ctx, "", n+1)
	fixtureNoErr(t, "list", err)
	if len(list) != 1 || list[0].ID != cs[win].ID {
		t.Errorf("stored %v, want only the winner %s", list, cs[win].ID)
	}
}

func clientConcurrentID(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	const n = 16
	cs := make([]*store.Client, n)
	for i := range cs {
		cs[i] = clientMinimal(t, "contested", fmt.Sprintf("name-%02d", i))
	}
	errs := fixtureRace(n, func(i int) error { return s.CreateClient(ctx, cs[i]) })
	win := fixtureOneWinner(t, errs, store.ErrConflict)
	got, err := s.GetClient(ctx, "contested")
	fixtureNoErr(t, "get", err)
	if got.Name != cs[win].Name {
		t.Errorf("stored name %q, want the winner's %q", got.Name, cs[win].Name)
	}
}

// clientMaxAccessTTL: the high-water mark of a client's access-token
// lifetime only rises, whatever an update carries, even when updates race.
func clientMaxAccessTTL(t *testing.T, s store.ClientStore) {
	ctx := t.Context()
	c := clientMinimal(t, "client-1", "mark")
	c.AccessTokenTTL, c.MaxAccessTokenTTL = 24*time.Hour, 24*time.Hour
	fixtureNoErr(t, "create", s.CreateClient(ctx, c))
	steps := []struct {
		name      string
		give, ttl time.Duration
		want      time.Duration
	}{
		{"lower is ignored", time.Minute, time.Minute, 24 * time.Hour},
		{"zero is ignored", 0, 0, 24 * time.Hour},
		{"higher is kept", 48 * time.Hour, time.Minute, 48 * time.Hour},
	}
	for _, st := range steps {
		c.MaxAccessTokenTTL, c.AccessTokenTTL = st.give, st.ttl
		fixtureNoErr(t, st.name, s.UpdateClient(ctx, c))
		got, err := s.GetClient(ctx, c.ID)
		fixtureNoErr(t, st.name+": get", err)
		if got.MaxAccessTokenTTL != st.want || got.AccessTokenTTL != st.ttl {
			t.Errorf("%s: MaxAccessTokenTTL, AccessTokenTTL = %v, %v; want %v, %v", st.name, got.MaxAccessTokenTTL, got.AccessTokenTTL, st.want, st.ttl)
		}
	}
	errs := fixtureRace(8, func(i int) error {
		u := clientClone(c)
		u.MaxAccessTokenTTL = time.Duration(i+1) * 24 * time.Hour
		return s.UpdateClient(ctx, u)
	})
	for i, err := range errs {
		fixtureNoErr(t, fmt.Sprintf("racing update %d", i), err)
	}
	got, err := s.GetClient(ctx, c.ID)
	fixtureNoErr(t, "get after race", err)
	if got.MaxAccessTokenTTL != 8*24*time.Hour {
		t.Errorf("after racing updates MaxAccessTokenTTL = %v, want the largest, %v", got.MaxAccessTokenTTL, 8*24*time.Hour)
	}
}
