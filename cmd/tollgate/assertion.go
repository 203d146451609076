package main

import (
	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/assertion"
	"github.com/tollgate/tollgate/store"
)

// newAssertions builds the private_key_jwt verifier. Assertion IDs are
// remembered in Redis when it is configured, so that every node refuses a
// replay to any other, else in the database.
func newAssertions(cfg config.Config, st *stores) *assertion.Verifier {
	var replays store.ReplayStore = st.sql
	if st.redis != nil {
		replays = st.redis
	}
	// RFC 7523 §3 item 3: the token endpoint URL or the issuer; the
	// introspection and revocation URLs too, for assertions made for them.
	auds := []string{cfg.Issuer + "/oauth2/token", cfg.Issuer, cfg.Issuer + "/oauth2/introspect", cfg.Issuer + "/oauth2/revoke"}
	return assertion.New(assertion.Options{
		Audiences:   auds,
		MaxLifetime: cfg.Tokens.AssertionMaxLifetime,
		Skew:        cfg.Tokens.ClockSkew,
		Replays:     replays,
		Issuers:     st.sql,
		Fetcher:     assertion.NewFetcher(assertion.FetchOptions{Timeout: cfg.Tokens.JWKSFetchTimeout}),
	})
}
