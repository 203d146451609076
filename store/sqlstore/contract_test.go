package sqlstore_test

import (
	"testing"

	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/sqlstore"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
	"github.com/tollgate/tollgate/store/storetest"
)

// backends lists the databases every test here runs against.
var backends = []struct {
	name string
	open func(testing.TB) *sqlstore.Store
}{
	{"sqlite", sqltest.OpenSQLite},
	{"postgres", sqltest.OpenPostgres},
}

func TestContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// Each backend opens its own database or schema per test.
			t.Parallel()
			t.Run("Clients", func(t *testing.T) {
				storetest.RunClients(t, func(t *testing.T) store.ClientStore { return b.open(t) })
			})
			t.Run("Users", func(t *testing.T) {
				storetest.RunUsers(t, func(t *testing.T) store.UserStore { return b.open(t) })
			})
			t.Run("SigningKeys", func(t *testing.T) {
				storetest.RunSigningKeys(t, func(t *testing.T) store.SigningKeyStore { return b.open(t) })
			})
			t.Run("RefreshTokens", func(t *testing.T) {
				storetest.RunRefreshTokens(t, func(t *testing.T) store.RefreshTokenStore { return b.open(t) })
			})
			t.Run("Revocations", func(t *testing.T) { storetest.RunRevocations(t, openRevocationPair(b.name)) })
			t.Run("RevocationRoster", func(t *testing.T) {
				storetest.RunRevocationRoster(t, func(t *testing.T) (store.RevocationRoster, store.RevocationRoster) {
					stores := openShared(t, b.name, 2, sqlstore.Options{})
					mustDo(t, "Migrate", stores[0].Migrate(t.Context()))
					return stores[0], stores[1]
				})
			})
			t.Run("APIKeys", func(t *testing.T) { storetest.RunAPIKeys(t, openAPIKeyStores(b.open)) })
			t.Run("Audit", func(t *testing.T) { storetest.RunAudit(t, func(t *testing.T) store.AuditStore { return b.open(t) }) })
			t.Run("Lifetimes", func(t *testing.T) {
				storetest.RunLifetimes(t, func(t *testing.T) store.LifetimeStore { return b.open(t) })
			})
		})
	}
}

// TestChangeContract runs the change-feed contract with two instances on
// one database, as the server and the CLI are.
func TestChangeContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunChanges(t, func(t *testing.T) storetest.ChangeStores {
				st := openShared(t, b.name, 2, sqlstore.Options{})
				mustDo(t, "Migrate", st[0].Migrate(t.Context()))
				return storetest.ChangeStores{Feed: st[0], Clients: st[0], Keys: st[0], Users: st[0], OtherClients: st[1], OtherKeys: st[1]}
			})
		})
	}
}
