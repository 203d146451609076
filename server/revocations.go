package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// revocationEntry is one entry of the revocation feed.
type revocationEntry struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	// JTI is set for kind "token"; Subject ("client:<id>", "user:<id>" or
	// "apikey:<id>") for kind "subject", which revokes every token of that
	// client (client_id), user (sub) or API key (api_key_id) whose iat is
	// at or before RevokedAt.
	JTI       string `json:"jti,omitempty"`
	Subject   string `json:"subject,omitempty"`
	RevokedAt int64  `json:"revoked_at"`
	ExpiresAt int64  `json:"expires_at"`
}

func entryOf(r store.Revocation) revocationEntry {
	e := revocationEntry{Seq: r.Seq, Kind: string(r.Kind), RevokedAt: r.RevokedAt.Unix(), ExpiresAt: r.ExpiresAt.Unix()}
	if r.Kind == store.RevokedToken {
		e.JTI = r.Key
	} else {
		e.Subject = r.Key
	}
	return e
}

// feedAuth authenticates a feed reader: like introspection, a client with
// the tollgate:introspect scope, over HTTP Basic.
func feedAuth(c *gin.Context, auth ClientAuthenticator, g *guard, set RevocationSet, log *slog.Logger) (*store.Client, bool) {
	cl, err := authenticateBasic(c, auth, g)
	if err != nil {
		renderOAuthError(c, log, err, true)
		return nil, false
	}
	if !requireIntrospector(c, cl) {
		return nil, false
	}
	// A node that cannot vouch for its set must not hand it out as complete.
	if err := set.Ready(c.Request.Context()); err != nil {
		c.Header("Retry-After", "1")
		renderOAuthError(c, log, oauth.New(oauth.TemporarilyUnavailable, "this node's revocation set is resynchronising; retry shortly"), true)
		return nil, false
	}
	return cl, true
}

// cursorParam reads a cursor from the query (?cursor=) or, for SSE, the
// Last-Event-ID header; absent means from the start.
func cursorParam(c *gin.Context) (int64, bool) {
	raw := c.Query("cursor")
	if raw == "" {
		raw = c.GetHeader("Last-Event-ID")
	}
	if raw == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	return n, err == nil && n >= 0
}

// Feed page sizes: GET /oauth2/revocations answers at most limit entries
// (?limit=, default and cap below), so that no one answer, however large
// the set, costs the node more than a bounded copy.
const (
	defaultFeedLimit = 1000
	maxFeedLimit     = 10000
	// streamBatch is how many events the stream writes per batch.
	streamBatch = 500
)

// limitParam reads ?limit=: absent means the default, above the cap the
// cap.
func limitParam(c *gin.Context) (int, bool) {
	raw := c.Query("limit")
	if raw == "" {
		return defaultFeedLimit, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, false
	}
	return min(n, maxFeedLimit), true
}

// revocationsHandler serves GET /oauth2/revocations: one page of the
// node's revocation set (the entries after ?cursor=, at most ?limit=) and
// the cursor to resume from. While more entries follow, next_cursor is
// set too (to the same value): a reader asks again with it until the
// answer has none, then follows the stream from cursor.
func revocationsHandler(auth ClientAuthenticator, g *guard, set RevocationSet, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := feedAuth(c, auth, g, set, log); !ok {
			return
		}
		cursor, ok := cursorParam(c)
		if !ok {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "cursor must be a cursor value returned by this endpoint"), true)
			return
		}
		limit, ok := limitParam(c)
		if !ok {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "limit must be a positive integer (at most "+strconv.Itoa(maxFeedLimit)+" are returned)"), true)
			return
		}
		rs, next, more, _ := set.Page(cursor, limit)
		out := make([]revocationEntry, len(rs))
		for i, r := range rs {
			out[i] = entryOf(r)
		}
		doc := gin.H{"revocations": out, "cursor": strconv.FormatInt(next, 10)}
		if more {
			doc["next_cursor"] = strconv.FormatInt(next, 10)
		}
		noStore(c)
		c.JSON(http.StatusOK, doc)
	}
}

// heartbeat keeps idle SSE connections (and proxies) alive.
const heartbeat = 15 * time.Second

// revocationStreamHandler serves GET /oauth2/revocations/stream: Server-Sent
// Events, one "revocation" event per entry with the cursor as its id, so a
// client that reconnects with Last-Event-ID resumes without gaps. The
// stream ends if this node loses its own feed, or starts shutting down
// (draining closed); the client reconnects (to another node) and resumes.
// Streams are capped per client and per node (429 beyond), and a client
// that does not read its events within the write timeout is dropped.
func revocationStreamHandler(auth ClientAuthenticator, g *guard, set RevocationSet, slots *streamSlots, draining <-chan struct{}, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, ok := feedAuth(c, auth, g, set, log)
		if !ok {
			return
		}
		cursor, ok := cursorParam(c)
		if !ok {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "Last-Event-ID must be an event id from this stream"), true)
			return
		}
		release, why := slots.acquire(cl.ID)
		if release == nil {
			c.Set(ctxErrorCode, "stream_limit")
			tooMany(c, streamRetry, why)
			return
		}
		defer release()
		h := c.Writer.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		c.Status(http.StatusOK)
		w := streamWriter{rc: http.NewResponseController(c.Writer), w: c.Writer, timeout: slots.lim.WriteTimeout}
		streamEvents(c.Request.Context(), set, w, cursor, draining)
	}
}

// streamWriter writes to one stream, each batch under its own deadline:
// the server's write timeout bounds ordinary responses, not a stream's
// life, but no single write may hang on a client that stopped reading.
type streamWriter struct {
	rc      *http.ResponseController
	w       io.Writer
	timeout time.Duration
}

// send writes the entries (or, with none, a keep-alive comment) and
// flushes them, within the write timeout.
func (sw streamWriter) send(rs []store.Revocation, keepAlive bool) error {
	if err := sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout)); err != nil {
		return err
	}
	for _, r := range rs {
		b, _ := json.Marshal(entryOf(r))
		if _, err := fmt.Fprintf(sw.w, "id: %d\nevent: revocation\ndata: %s\n\n", r.Seq, b); err != nil {
			return err
		}
	}
	if keepAlive {
		if _, err := fmt.Fprint(sw.w, ": keep-alive\n\n"); err != nil {
			return err
		}
	}
	return sw.rc.Flush()
}

// streamEvents sends the entries after cursor, in batches, then every new
// one, until the client goes, the write fails, the node drains or loses
// its feed.
func streamEvents(ctx context.Context, set RevocationSet, w streamWriter, cursor int64, draining <-chan struct{}) {
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	keepAlive := false
	for {
		rs, next, more, changed := set.Page(cursor, streamBatch)
		if err := w.send(rs, keepAlive); err != nil {
			return
		}
		cursor, keepAlive = next, false
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-draining:
			return
		case <-changed:
		case <-tick.C:
			keepAlive = true
		}
		if set.Ready(ctx) != nil {
			return
		}
	}
}
