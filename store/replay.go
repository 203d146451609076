package store

import (
	"context"
	"time"
)

// ReplayStore remembers single-use identifiers, such as the jti of a
// client assertion (RFC 7523 §3 item 7), for as long as they could be
// presented again.
type ReplayStore interface {
	// UseOnce records id as used until until and reports true the first
	// time; false, nil while an earlier record of id is unexpired. Once
	// until has passed, id may be recorded again. Concurrent calls with
	// the same id: exactly one reports true.
	UseOnce(ctx context.Context, id string, until time.Time) (bool, error)
}
