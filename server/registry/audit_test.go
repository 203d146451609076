package registry_test

import (
	"context"
	"testing"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// leavingClients and leavingUsers are the real stores, except that the
// caller leaves (its context is cancelled) the moment a write succeeds: a
// TCP reset right after the change reached the database.
type leavingClients struct {
	store.ClientStore
	leave context.CancelFunc
}

func (l leavingClients) CreateClient(ctx context.Context, c *store.Client) error {
	defer l.leave()
	return l.ClientStore.CreateClient(ctx, c)
}

func (l leavingClients) UpdateClient(ctx context.Context, c *store.Client) error {
	defer l.leave()
	return l.ClientStore.UpdateClient(ctx, c)
}

func (l leavingClients) DeleteClient(ctx context.Context, id string) error {
	defer l.leave()
	return l.ClientStore.DeleteClient(ctx, id)
}

type leavingUsers struct {
	store.UserStore
	leave context.CancelFunc
}

func (l leavingUsers) CreateUser(ctx context.Context, u *store.User) error {
	defer l.leave()
	return l.UserStore.CreateUser(ctx, u)
}

func (l leavingUsers) UpdateUser(ctx context.Context, u *store.User) error {
	defer l.leave()
	return l.UserStore.UpdateUser(ctx, u)
}

// TestCallerLeavingKeepsTheAudit: a change whose caller leaves right after
// it was written still gets its audit entry, for every kind of change.
func TestCallerLeavingKeepsTheAudit(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) *sqlstore.Store{"sqlite": sqltest.OpenSQLite, "postgres": sqltest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			// reg changes through the leaving stores with a fresh caller
			// context each time; setup uses the plain registry.
			var leave context.CancelFunc
			hasher := secret.NewHasher(make([]byte, 32))
			opts := registry.Options{Clients: st, Users: st, Revocations: revocation.Recorder{Store: st}, Audit: st, APIKeys: st, Hasher: hasher}
			plain := registry.New(opts)
			opts.Clients = leavingClients{ClientStore: st, leave: func() { leave() }}
			opts.Users = leavingUsers{UserStore: st, leave: func() { leave() }}
			reg := registry.New(opts)
			caller := func() context.Context {
				ctx, cancel := context.WithCancel(registry.WithActor(t.Context(), "test"))
				leave = cancel
				return ctx
			}

			c, _, err := reg.CreateClient(caller(), registry.ClientSpec{Name: "leaver"})
			if err != nil {
				t.Fatalf("create client: %v", err)
			}
			other, _, err := plain.CreateClient(t.Context(), registry.ClientSpec{Name: "other"})
			if err != nil {
				t.Fatal(err)
			}
			name := "renamed"
			u, err := plain.CreateUser(t.Context(), registry.UserSpec{Username: "erin", Password: "a long passphrase"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.CreateUser(caller(), registry.UserSpec{Username: "frank", Password: "a long passphrase"}); err != nil {
				t.Errorf("create user: %v", err)
			}
			steps := map[string]func() error{
				"client.update": func() error {
					_, err := reg.UpdateClient(caller(), c.ID, registry.ClientPatch{Name: &name})
					return err
				},
				"client.rotate_secret": func() error {
					_, _, err := reg.RotateClientSecret(caller(), c.ID, 0)
					return err
				},
				"client.revoke_tokens": func() error {
					_, err := reg.RevokeClientTokens(caller(), c.ID)
					return err
				},
				"client.delete":     func() error { return reg.DeleteClient(caller(), other.ID) },
				"user.set_password": func() error { return reg.SetPassword(caller(), u.ID, "another passphrase") },
				"user.revoke_tokens": func() error {
					_, err := reg.RevokeUserTokens(caller(), u.ID)
					return err
				},
			}
			for action, step := range steps {
				if err := step(); err != nil {
					t.Errorf("%s: %v", action, err)
				}
			}
			for _, action := range []string{"client.create", "user.create", "client.update", "client.rotate_secret", "client.revoke_tokens", "client.delete", "user.set_password", "user.revoke_tokens"} {
				es, err := st.ListAudit(t.Context(), store.AuditFilter{Action: action}, 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				want := 1
				if action == "client.create" {
					want = 2 // leaver and other
				} else if action == "user.create" {
					want = 2 // erin and frank
				}
				if len(es) != want {
					t.Errorf("%s: %d audit entries, want %d", action, len(es), want)
				}
			}
		})
	}
}
