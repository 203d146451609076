package redisstore

import "context"

// clientChannel carries the IDs of changed clients to every node.
func (s *Store) clientChannel() string { return s.prefix + "clients:changed" }

// PublishClientChange tells every node that the client changed (created,
// updated or deleted), so they drop their cached copy.
func (s *Store) PublishClientChange(ctx context.Context, id string) error {
	return s.wrap("publish client change", s.client.Publish(ctx, s.clientChannel(), id).Err())
}

// WatchClientChanges calls ready once subscribed, then changed for every
// published client ID, until ctx is done (ctx.Err()) or the connection
// fails (an error wrapping store.ErrUnavailable): changes published while
// not subscribed are lost, so the caller must drop its cache and watch
// again.
func (s *Store) WatchClientChanges(ctx context.Context, ready func(), changed func(id string)) error {
	return s.subscribe(ctx, s.clientChannel(), ready, changed)
}
