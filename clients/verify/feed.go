package verify

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Reconnection backoff of the feed: short, because the fail-closed rule
// starts after MaxFeedGap (seconds).
const (
	minFeedBackoff = 250 * time.Millisecond
	maxFeedBackoff = 5 * time.Second
	// stableStream is how long a stream must have lasted for the next
	// failure to start again from the shortest delay.
	stableStream = 10 * time.Second
)

var (
	errStreamIdle  = errors.New("verify: revocation stream silent for too long")
	errStreamEnded = errors.New("verify: revocation stream ended")
)

// feed follows the issuer's revocation feed: the set and a cursor from
// GET /oauth2/revocations, then Server-Sent Events from the stream,
// resumed with Last-Event-ID after every reconnection.
type feed struct {
	o                  *Options
	listURL, streamURL string
	set                *revocationSet
	// cursor is touched only by Open, then by the feed goroutine.
	cursor int64
	// lost is when the gap began (unix ns): the last moment the feed was
	// known to be complete. 0 while connected.
	lost atomic.Int64
	// lastRead is when the stream last delivered a line (unix ns).
	lastRead atomic.Int64
}

// load reads the entries after the cursor (the whole set at first) and
// applies them, page by page: the issuer answers a bounded page and sets
// next_cursor while more follow.
func (f *feed) load(ctx context.Context) error {
	for {
		more, err := f.loadPage(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// loadPage reads and applies one page after the cursor, and reports
// whether the issuer said more follow.
func (f *feed) loadPage(ctx context.Context) (more bool, err error) {
	u := f.listURL
	if f.cursor > 0 {
		pu, err := url.Parse(u)
		if err != nil {
			return false, err
		}
		q := pu.Query()
		q.Set("cursor", strconv.FormatInt(f.cursor, 10))
		pu.RawQuery = q.Encode()
		u = pu.String()
	}
	var doc struct {
		Revocations []revocation `json:"revocations"`
		Cursor      string       `json:"cursor"`
		NextCursor  string       `json:"next_cursor"`
	}
	if err := getJSON(ctx, f.o, u, true, maxFeedBody, &doc); err != nil {
		return false, err
	}
	cursor, err := strconv.ParseInt(doc.Cursor, 10, 64)
	if err != nil || cursor < 0 {
		return false, fmt.Errorf("verify: revocation feed returned cursor %.40q", doc.Cursor)
	}
	valid := doc.Revocations[:0]
	for _, r := range doc.Revocations {
		if f.understood(ctx, &r) {
			valid = append(valid, r)
		}
	}
	f.set.apply(valid, f.o.Now().Unix())
	before := f.cursor
	f.cursor = max(f.cursor, cursor)
	if doc.NextCursor == "" {
		return false, nil
	}
	if f.cursor <= before {
		return false, fmt.Errorf("verify: revocation feed page did not advance the cursor past %d", before)
	}
	return true, nil
}

// understood reports whether r can be applied, logging entries of a kind
// this version does not know (a newer issuer): they are skipped.
func (f *feed) understood(ctx context.Context, r *revocation) bool {
	if r.valid() {
		return true
	}
	f.o.Logger.LogAttrs(ctx, slog.LevelWarn, "skipping a revocation entry of unknown form; upgrade clients/verify",
		slog.Int64("seq", r.Seq), slog.String("kind", r.Kind))
	return false
}

// run follows the stream until ctx ends, reconnecting with backoff (or
// the issuer's Retry-After) and catching up with load before each new
// stream.
func (f *feed) run(ctx context.Context) {
	delay := minFeedBackoff
	caughtUp := true // Open has just loaded
	for {
		var lasted time.Duration
		err := error(nil)
		if !caughtUp {
			err = f.load(ctx)
		}
		if err == nil {
			lasted, err = f.stream(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		caughtUp = false
		f.markLost(ctx, err)
		if lasted >= stableStream {
			delay = minFeedBackoff
		}
		wait := jitter(delay)
		var se *statusError
		if errors.As(err, &se) && se.retryAfter > wait {
			wait = se.retryAfter
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		delay = min(delay*2, maxFeedBackoff)
	}
}

// stream follows the event stream from the cursor until it fails, and
// reports how long it was connected.
func (f *feed) stream(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(f.o.StreamIdleTimeout, func() { cancel(errStreamIdle) })
	defer idle.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.streamURL, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatInt(f.cursor, 10))
	setBasic(req, f.o)
	resp, err := f.o.HTTPClient.Do(req)
	if err != nil {
		return 0, streamErr(ctx, err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return 0, err
	}
	// Everything up to the cursor is applied and the stream resumes after
	// it: the copy is complete again.
	f.markConnected(ctx)
	since := f.o.Now()
	err = readSSE(resp.Body, func() {
		idle.Reset(f.o.StreamIdleTimeout)
		f.lastRead.Store(f.o.Now().UnixNano())
	}, func(ev sseEvent) error { return f.event(ctx, ev) })
	return f.o.Now().Sub(since), streamErr(ctx, err)
}

func streamErr(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errStreamIdle) {
		return errStreamIdle
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errStreamEnded
	}
	return err
}

// event applies one "revocation" event; its id is the new cursor.
func (f *feed) event(ctx context.Context, ev sseEvent) error {
	if ev.name != "" && ev.name != "revocation" {
		return nil // an event type of a newer issuer
	}
	var r revocation
	if err := json.Unmarshal(ev.data, &r); err != nil {
		return fmt.Errorf("verify: revocation event is not JSON: %w", err)
	}
	if f.understood(ctx, &r) {
		f.set.apply([]revocation{r}, f.o.Now().Unix())
	}
	seq := r.Seq
	if id, err := strconv.ParseInt(ev.id, 10, 64); err == nil {
		seq = id
	}
	f.cursor = max(f.cursor, seq)
	return nil
}

// markLost records the start of a gap, unless one is already running. A
// stream that went silent may have been dead since its last line; any
// other failure is noticed as it happens.
func (f *feed) markLost(ctx context.Context, err error) {
	at := f.o.Now().UnixNano()
	if errors.Is(err, errStreamIdle) {
		if last := f.lastRead.Load(); last != 0 && last < at {
			at = last
		}
	}
	if f.lost.CompareAndSwap(0, at) {
		f.o.Logger.LogAttrs(ctx, slog.LevelWarn, "revocation feed lost; reconnecting",
			slog.String("error", err.Error()), slog.Duration("fail_closed_after", f.o.MaxFeedGap))
	} else {
		f.o.Logger.LogAttrs(ctx, slog.LevelDebug, "revocation feed still unreachable", slog.String("error", err.Error()))
	}
}

func (f *feed) markConnected(ctx context.Context) {
	f.lastRead.Store(f.o.Now().UnixNano())
	if since := f.lost.Swap(0); since != 0 {
		f.o.Logger.LogAttrs(ctx, slog.LevelInfo, "revocation feed restored",
			slog.Duration("gap", f.o.Now().Sub(time.Unix(0, since))), slog.Int64("cursor", f.cursor))
	}
}

// jitter returns a random duration in [d/2, d], so that many resource
// servers do not reconnect in step.
func jitter(d time.Duration) time.Duration {
	var b [8]byte
	_, _ = rand.Read(b[:])
	half := uint64(d / 2)
	return d/2 + time.Duration(binary.LittleEndian.Uint64(b[:])%(half+1))
}
