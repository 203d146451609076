package registry

import (
	"context"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Token lifetimes only ever shrink for tokens issued from now on: a token
// issued before a lifetime was lowered (a client's access_token_ttl, or
// TOLLGATE_ACCESS_TOKEN_TTL across a restart) keeps its exp. A subject
// revocation must outlive every token it covers, so it is sized by
// high-water marks that never fall (store.LifetimeMarks, and each
// client's MaxAccessTokenTTL), never by the lifetimes configured now.
// Issuance reads nothing new: the marks are raised where lifetimes are
// set: client create and update here, and server start (which raises
// both marks to its default before it issues a token).

// raiseClientMark raises c's mark to its lifetime and, before the client is
// stored with it, the server-wide mark: a token with the new lifetime can
// then never be issued without a mark that covers it. A raise whose write
// then fails leaves a mark higher than needed, which only keeps entries
// longer.
func (r *Registry) raiseClientMark(ctx context.Context, c *store.Client) error {
	if c.AccessTokenTTL <= c.MaxAccessTokenTTL {
		return nil
	}
	c.MaxAccessTokenTTL = c.AccessTokenTTL
	if r.lifetimes == nil {
		return nil
	}
	_, err := r.lifetimes.RaiseLifetimes(ctx, store.LifetimeMarks{Longest: c.AccessTokenTTL})
	return err
}

// marks returns the server-wide marks, at least this process's default.
func (r *Registry) marks(ctx context.Context) (store.LifetimeMarks, error) {
	var m store.LifetimeMarks
	if r.lifetimes != nil {
		var err error
		if m, err = r.lifetimes.Lifetimes(ctx); err != nil {
			return m, err
		}
	}
	m.Default = max(m.Default, r.accessTTL)
	m.Longest = max(m.Longest, m.Default)
	return m, nil
}

// clientAccessTTL is the longest lifetime a token of c may have been
// issued with: its own lifetime's mark, or a server default it used.
func (r *Registry) clientAccessTTL(ctx context.Context, c *store.Client) (time.Duration, error) {
	m, err := r.marks(ctx)
	if err != nil {
		return 0, err
	}
	return max(m.Default, c.AccessTokenTTL, c.MaxAccessTokenTTL), nil
}

// longestAccessTTL is the longest lifetime any access token may have been
// issued with, through any client, API key or server default.
func (r *Registry) longestAccessTTL(ctx context.Context) (time.Duration, error) {
	m, err := r.marks(ctx)
	return m.Longest, err
}
