package server

import (
	"encoding/json"
	"fmt"
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
func feedAuth(c *gin.Context, auth ClientAuthenticator, g *guard, set RevocationSet, log *slog.Logger) bool {
	cl, err := authenticateBasic(c, auth, g)
	if err != nil {
		renderOAuthError(c, log, err, true)
		return false
	}
	if !requireIntrospector(c, cl) {
		return false
	}
	// A node that cannot vouch for its set must not hand it out as complete.
	if err := set.Ready(c.Request.Context()); err != nil {
		c.Header("Retry-After", "1")
		renderOAuthError(c, log, oauth.New(oauth.TemporarilyUnavailable, "this node's revocation set is resynchronising; retry shortly"), true)
		return false
	}
	return true
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

// revocationsHandler serves GET /oauth2/revocations: the node's current
// revocation set (or the entries after ?cursor=) and the cursor to resume
// from, for resource servers that check tokens locally.
func revocationsHandler(auth ClientAuthenticator, g *guard, set RevocationSet, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !feedAuth(c, auth, g, set, log) {
			return
		}
		cursor, ok := cursorParam(c)
		if !ok {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "cursor must be a cursor value returned by this endpoint"), true)
			return
		}
		rs, next, _ := set.Since(cursor)
		out := make([]revocationEntry, len(rs))
		for i, r := range rs {
			out[i] = entryOf(r)
		}
		noStore(c)
		c.JSON(http.StatusOK, gin.H{"revocations": out, "cursor": strconv.FormatInt(next, 10)})
	}
}

// heartbeat keeps idle SSE connections (and proxies) alive.
const heartbeat = 15 * time.Second

// revocationStreamHandler serves GET /oauth2/revocations/stream: Server-Sent
// Events, one "revocation" event per entry with the cursor as its id, so a
// client that reconnects with Last-Event-ID resumes without gaps. The
// stream ends if this node loses its own feed, or starts shutting down
// (draining closed); the client reconnects (to another node) and resumes.
func revocationStreamHandler(auth ClientAuthenticator, g *guard, set RevocationSet, draining <-chan struct{}, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !feedAuth(c, auth, g, set, log) {
			return
		}
		cursor, ok := cursorParam(c)
		if !ok {
			renderOAuthError(c, log, oauth.New(oauth.InvalidRequest, "Last-Event-ID must be an event id from this stream"), true)
			return
		}
		// The server's write timeout bounds ordinary responses, not this one.
		rc := http.NewResponseController(c.Writer)
		_ = rc.SetWriteDeadline(time.Time{})
		h := c.Writer.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		c.Status(http.StatusOK)
		ctx := c.Request.Context()
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		for {
			rs, next, changed := set.Since(cursor)
			for _, r := range rs {
				b, _ := json.Marshal(entryOf(r))
				fmt.Fprintf(c.Writer, "id: %d\nevent: revocation\ndata: %s\n\n", r.Seq, b)
			}
			cursor = next
			if err := rc.Flush(); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-draining:
				return
			case <-changed:
			case <-tick.C:
				if _, err := fmt.Fprint(c.Writer, ": keep-alive\n\n"); err != nil {
					return
				}
			}
			if set.Ready(ctx) != nil {
				return
			}
		}
	}
}
