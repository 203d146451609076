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
			// Every suite opens its own database or schema per test, so
			// the backends and their suites all run at once.
			t.Parallel()
			suites := []struct {
				name string
				run  func(t *testing.T)
			}{
				{"Clients", func(t *testing.T) {
					storetest.RunClients(t, func(t *testing.T) store.ClientStore { return b.open(t) })
				}},
				{"Users", func(t *testing.T) {
					storetest.RunUsers(t, func(t *testing.T) store.UserStore { return b.open(t) })
				}},
				{"SigningKeys", func(t *testing.T) {
					storetest.RunSigningKeys(t, func(t *testing.T) store.SigningKeyStore { return b.open(t) })
				}},
				{"RefreshTokens", func(t *testing.T) {
					storetest.RunRefreshTokens(t, func(t *testing.T) store.RefreshTokenStore { return b.open(t) })
				}},
				{"Revocations", func(t *testing.T) { storetest.RunRevocations(t, openRevocationPair(b.name)) }},
				{"RevocationRoster", func(t *testing.T) {
					storetest.RunRevocationRoster(t, func(t *testing.T) (store.RevocationRoster, store.RevocationRoster) {
						stores := openShared(t, b.name, 2, sqlstore.Options{})
						mustDo(t, "Migrate", stores[0].Migrate(t.Context()))
						return stores[0], stores[1]
					})
				}},
				{"APIKeys", func(t *testing.T) { storetest.RunAPIKeys(t, openAPIKeyStores(b.open)) }},
				{"Audit", func(t *testing.T) { storetest.RunAudit(t, func(t *testing.T) store.AuditStore { return b.open(t) }) }},
				{"Lifetimes", func(t *testing.T) {
					storetest.RunLifetimes(t, func(t *testing.T) store.LifetimeStore { return b.open(t) })
				}},
				{"Issuers", func(t *testing.T) {
					storetest.RunIssuers(t, func(t *testing.T) store.IssuerStore { return b.open(t) })
				}},
				{"Replays", func(t *testing.T) {
					storetest.RunReplays(t, func(t *testing.T) store.ReplayStore { return b.open(t) })
				}},
				{"Audiences", func(t *testing.T) {
					storetest.RunAudiences(t, func(t *testing.T) store.AudienceStore { return b.open(t) })
				}},
			}
			for _, s := range suites {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					s.run(t)
				})
			}
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
