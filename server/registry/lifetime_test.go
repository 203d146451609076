package registry_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// backends are the real stores these tests run on.
var backends = []struct {
	name string
	open func(testing.TB) *sqlstore.Store
}{
	{"sqlite", sqltest.OpenSQLite},
	{"postgres", sqltest.OpenPostgres},
}

const (
	skew   = 30 * time.Second
	issuer = "https://issuer.test"
)

// clock is a settable time source shared by every component of a node.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// rosterless hides the SQL store's roster from the revocation set: its
// lease runs on the set's clock, which these tests move by hours.
type rosterless struct{ store.RevocationStore }

// node is one Tollgate process on a store, wired as cmd/tollgate wires it,
// on an injected clock.
type node struct {
	reg    *registry.Registry
	engine *grant.Engine
	in     *introspection.Introspector
	set    *revocation.Set
}

// startNode starts a node whose default access-token lifetime is ttl,
// doing what a server does at start: raise the lifetime marks to it.
func startNode(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte, ttl time.Duration) *node {
	t.Helper()
	ctx := t.Context()
	if _, err := st.RaiseLifetimes(ctx, store.LifetimeMarks{Default: ttl}); err != nil {
		t.Fatal(err)
	}
	seal := make([]byte, 32)
	copy(seal, pepper)
	km, err := keys.New(st, keys.Options{SealKey: seal, Retain: ttl + skew, Lifetimes: st, ClockSkew: skew, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Load(ctx); err != nil {
		t.Fatal(err)
	}
	set := revocation.New(rosterless{st}, revocation.Options{Now: clk.Now, Resync: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { set.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); set.Ready(ctx) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("revocation set not ready")
		}
	}
	hasher := secret.NewHasher(pepper)
	return &node{
		reg: registry.New(registry.Options{
			Clients: st, Users: st, Revocations: set, APIKeys: st, Lifetimes: st, Hasher: hasher,
			AccessTTL: ttl, ClockSkew: skew, Now: clk.Now,
		}),
		engine: grant.New(grant.Options{
			Clients: st, Users: st, Refresh: st, APIKeys: st, Hasher: hasher, Keys: km,
			Issuer: issuer, Audience: []string{"api"}, AccessTTL: ttl, RefreshTTL: 2 * time.Hour, Now: clk.Now,
		}),
		in: introspection.New(introspection.Options{
			Keys: km, Revocations: set, Refresh: st, Clients: st, Issuer: issuer, Leeway: skew, Now: clk.Now,
		}),
		set: set,
	}
}

// issued is an access token and what revokes it.
type issued struct {
	token    string
	subjects []string // the subject revocation keys it carries
}

func (n *node) clientToken(t *testing.T, id, sec string) issued {
	t.Helper()
	tok, err := n.engine.Token(t.Context(), &grant.Request{GrantType: grant.ClientCredentials, ClientID: id, ClientSecret: sec,
		Form: url.Values{"grant_type": {grant.ClientCredentials}}})
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	return n.mustActive(t, issued{token: tok.AccessToken, subjects: []string{store.SubjectClient + id}})
}

func (n *node) passwordToken(t *testing.T, id, sec, user, pass string) issued {
	t.Helper()
	tok, err := n.engine.Token(t.Context(), &grant.Request{GrantType: grant.Password, ClientID: id, ClientSecret: sec,
		Form: url.Values{"grant_type": {grant.Password}, "username": {user}, "password": {pass}}})
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	return n.mustActive(t, issued{token: tok.AccessToken, subjects: []string{store.SubjectUser + tok.Subject}})
}

func (n *node) keyToken(t *testing.T, key, keyID string) issued {
	t.Helper()
	tok, err := n.engine.Exchange(t.Context(), &grant.Request{GrantType: grant.TokenExchange, Form: url.Values{"grant_type": {grant.TokenExchange}, "subject_token": {key},
		"subject_token_type": {grant.TokenTypeAPIKey}}})
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	return n.mustActive(t, issued{token: tok.AccessToken, subjects: []string{store.SubjectAPIKey + keyID}})
}

// state introspects tok and asks the revocation set (what every node and
// every resource server's feed holds) whether its subject entry is there.
func (n *node) state(t *testing.T, tok issued) (active, entry bool) {
	t.Helper()
	r, err := n.in.Introspect(t.Context(), tok.token, "")
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	revoked, sure := n.set.Check("", tok.subjects, time.Unix(r.IssuedAt, 0))
	if !sure {
		t.Fatal("revocation set cannot vouch")
	}
	return r.Active, revoked
}

// mustActive checks that a token just issued is active, so that a later
// inactive answer is the revocation's doing.
func (n *node) mustActive(t *testing.T, tok issued) issued {
	t.Helper()
	if active, entry := n.state(t, tok); !active || entry {
		t.Fatalf("new token: active %v, subject entry %v; want active, none", active, entry)
	}
	return tok
}

func ptr[T any](v T) *T { return &v }

// TestSubjectRevocationOutlivesLoweredLifetime: a token issued under a
// long lifetime stays covered by a revocation recorded after that
// lifetime was lowered (a client's access_token_ttl, or the server default
// across a restart), until the token's own exp.
func TestSubjectRevocationOutlivesLoweredLifetime(t *testing.T) {
	const long, short = 24 * time.Hour, time.Minute
	tests := []struct {
		name string
		// run issues a token on a node with a 5m default, lowers a
		// lifetime, revokes, and returns the token and the node to ask.
		run func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued)
	}{
		{"client revoke-tokens after its ttl was lowered", func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued) {
			n := startNode(t, st, clk, pepper, 5*time.Minute)
			c, sec := mustClient(t, n, registry.ClientSpec{Name: "svc", AccessTokenTTL: long})
			tok := n.clientToken(t, c.ID, sec)
			mustUpdateTTL(t, n, c.ID, short)
			if _, err := n.reg.RevokeClientTokens(t.Context(), c.ID); err != nil {
				t.Fatal(err)
			}
			return n, tok
		}},
		{"client deleted after its ttl was lowered", func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued) {
			n := startNode(t, st, clk, pepper, 5*time.Minute)
			c, sec := mustClient(t, n, registry.ClientSpec{Name: "svc", AccessTokenTTL: long})
			tok := n.clientToken(t, c.ID, sec)
			mustUpdateTTL(t, n, c.ID, short)
			if err := n.reg.DeleteClient(t.Context(), c.ID); err != nil {
				t.Fatal(err)
			}
			return n, tok
		}},
		{"user disabled after the client's ttl was lowered", func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued) {
			n := startNode(t, st, clk, pepper, 5*time.Minute)
			c, sec := mustClient(t, n, registry.ClientSpec{Name: "app", GrantTypes: []string{grant.Password}, AccessTokenTTL: long})
			u, err := n.reg.CreateUser(t.Context(), registry.UserSpec{Username: "alice", Password: "correct horse"})
			if err != nil {
				t.Fatal(err)
			}
			tok := n.passwordToken(t, c.ID, sec, "alice", "correct horse")
			mustUpdateTTL(t, n, c.ID, short)
			if _, err := n.reg.UpdateUser(t.Context(), u.ID, registry.UserPatch{Disabled: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			return n, tok
		}},
		{"api key revoked after its client's ttl was lowered", func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued) {
			n := startNode(t, st, clk, pepper, 5*time.Minute)
			c, _ := mustClient(t, n, registry.ClientSpec{Name: "svc", Scopes: []string{"read"}, AccessTokenTTL: long})
			k, key, err := n.reg.CreateAPIKey(t.Context(), registry.APIKeySpec{OwnerKind: store.OwnerClient, OwnerID: c.ID, Name: "ci"})
			if err != nil {
				t.Fatal(err)
			}
			tok := n.keyToken(t, key, k.ID)
			mustUpdateTTL(t, n, c.ID, short)
			if err := n.reg.RevokeAPIKey(t.Context(), k.ID); err != nil {
				t.Fatal(err)
			}
			return n, tok
		}},
		{"client revoke-tokens after a restart with a lower default", func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued) {
			before := startNode(t, st, clk, pepper, long)
			c, sec := mustClient(t, before, registry.ClientSpec{Name: "svc"})
			tok := before.clientToken(t, c.ID, sec)
			after := startNode(t, st, clk, pepper, short)
			if _, err := after.reg.RevokeClientTokens(t.Context(), c.ID); err != nil {
				t.Fatal(err)
			}
			return after, tok
		}},
		{"user deleted after a restart with a lower default", func(t *testing.T, st *sqlstore.Store, clk *clock, pepper []byte) (*node, issued) {
			before := startNode(t, st, clk, pepper, long)
			c, sec := mustClient(t, before, registry.ClientSpec{Name: "app", GrantTypes: []string{grant.Password}})
			u, err := before.reg.CreateUser(t.Context(), registry.UserSpec{Username: "bob", Password: "correct horse"})
			if err != nil {
				t.Fatal(err)
			}
			tok := before.passwordToken(t, c.ID, sec, "bob", "correct horse")
			after := startNode(t, st, clk, pepper, short)
			if err := after.reg.DeleteUser(t.Context(), u.ID); err != nil {
				t.Fatal(err)
			}
			return after, tok
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					clk := &clock{t: time.Now().UTC()}
					pepper := make([]byte, 32)
					_, _ = rand.Read(pepper)
					issuedAt := clk.Now()
					n, tok := tc.run(t, b.open(t), clk, pepper)
					// Well past the lowered lifetimes and the skew, well
					// before the token's exp.
					for _, at := range []time.Duration{10 * time.Minute, time.Hour, long - time.Minute} {
						clk.Set(issuedAt.Add(at))
						if active, entry := n.state(t, tok); active || !entry {
							t.Errorf("%v after issue: active %v, subject entry held %v; want inactive and held until the token's exp", at, active, entry)
						}
					}
				})
			}
		})
	}
}

func mustClient(t *testing.T, n *node, spec registry.ClientSpec) (*store.Client, string) {
	t.Helper()
	c, sec, err := n.reg.CreateClient(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return c, sec
}

func mustUpdateTTL(t *testing.T, n *node, id string, ttl time.Duration) {
	t.Helper()
	if _, err := n.reg.UpdateClient(t.Context(), id, registry.ClientPatch{AccessTokenTTL: &ttl}); err != nil {
		t.Fatal(err)
	}
}
