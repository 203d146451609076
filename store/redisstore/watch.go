package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate/tollgate/store"
)

// subscribe listens on channel on a connection of its own: it calls ready
// once the subscription is confirmed, then onMessage for every message. It
// pings when the connection has been quiet for watchPingEvery, so a dead
// one is noticed within about twice that. It returns ctx.Err() once ctx is
// done; any connection failure ends it with an error wrapping
// store.ErrUnavailable, rather than letting go-redis resubscribe in
// silence: messages published meanwhile are lost, so the caller must catch
// up and subscribe again.
func (s *Store) subscribe(ctx context.Context, channel string, ready func(), onMessage func(payload string)) error {
	ps := s.client.Subscribe(ctx)
	defer func() { _ = ps.Close() }()
	// Receive does not watch ctx; closing the PubSub interrupts it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	if err := ps.Subscribe(ctx, channel); err != nil {
		return watchErr(ctx, err)
	}
	for subscribed := false; !subscribed; {
		msg, err := ps.ReceiveTimeout(ctx, watchSubscribeTimeout)
		if err != nil {
			return watchErr(ctx, err)
		}
		sub, ok := msg.(*redis.Subscription)
		subscribed = ok && sub.Kind == "subscribe"
	}
	ready()

	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, watchPingEvery)
		switch {
		case err == nil:
			pinged = false // any reply shows the connection is alive
			if m, ok := msg.(*redis.Message); ok {
				onMessage(m.Payload)
			}
		case isTimeout(err) && !pinged && ctx.Err() == nil:
			if err := ps.Ping(ctx); err != nil {
				return watchErr(ctx, err)
			}
			pinged = true
		case isTimeout(err) && ctx.Err() == nil:
			return watchErr(ctx, fmt.Errorf("no reply to PING within %v: %w", watchPingEvery, err))
		default:
			return watchErr(ctx, err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// watchErr is ctx.Err() when the watch was cancelled, and otherwise err
// wrapping store.ErrUnavailable.
func watchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}
