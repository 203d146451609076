package clientcache

import (
	"context"

	"github.com/tollgate/tollgate/store"
)

// Feed is a Notifier without Redis: the database's own change log (the
// embedded default's). The store logs every client change in the write's
// own transaction, so publishing is nothing more; the watch polls the log,
// so another process's change (the CLI on the same SQLite file) reaches
// the cache within one poll.
type Feed struct{ Changes store.ChangeFeed }

var _ Notifier = Feed{}

// PublishClientChange does nothing: the change is in the log already.
func (Feed) PublishClientChange(context.Context, string) error { return nil }

// WatchClientChanges passes on the log's client changes. A change it
// cannot name (ID unknown, or changes missed) calls ready again, which
// drops every cached record.
func (f Feed) WatchClientChanges(ctx context.Context, ready func(), changed func(id string)) error {
	return f.Changes.WatchChanges(ctx, ready, func(c store.Change) {
		switch {
		case c.Kind != store.ChangeClient:
		case c.ID == "":
			ready()
		default:
			changed(c.ID)
		}
	})
}
