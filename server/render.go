package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// realm is sent in WWW-Authenticate challenges.
const realm = "tollgate"

// status maps an OAuth error code to its HTTP status (RFC 6749 §5.2).
func status(e *oauth.Error) int {
	if e.RetryAfter > 0 && !e.Overloaded {
		return http.StatusTooManyRequests
	}
	switch e.Code {
	case oauth.InvalidClient:
		return http.StatusUnauthorized
	case oauth.TemporarilyUnavailable:
		return http.StatusServiceUnavailable
	case oauth.ServerError:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// renderOAuthError writes err as an RFC 6749 §5.2 response. An error that is
// not an *oauth.Error is the server's: its cause is logged, never sent, and
// the client gets server_error (or temporarily_unavailable when a store is
// down, so it retries instead of discarding its credentials).
func renderOAuthError(c *gin.Context, log *slog.Logger, err error, usedBasic bool) {
	if errors.Is(err, errAnswered) {
		return
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		if callerGone(c) {
			answerCanceled(c, log, err)
			return
		}
		if errors.Is(err, store.ErrUnavailable) {
			log.LogAttrs(c.Request.Context(), slog.LevelWarn, "store unavailable", slog.String("error", err.Error()), requestID(c))
			oe = oauth.New(oauth.TemporarilyUnavailable, "the service is temporarily unavailable; retry shortly")
			c.Header("Retry-After", "1")
		} else {
			log.LogAttrs(c.Request.Context(), slog.LevelError, "server error", slog.String("error", err.Error()), requestID(c))
			oe = oauth.New(oauth.ServerError, "internal error; it has been logged")
		}
	}
	c.Set(ctxErrorCode, oe.Code)
	if oe.RetryAfter > 0 {
		c.Set(ctxErrorCode, "rate_limited")
		if oe.Overloaded {
			c.Set(ctxErrorCode, "overloaded")
		}
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(oe.RetryAfter.Seconds()))))
	}
	if oe.Code == oauth.InvalidClient && usedBasic {
		c.Header("WWW-Authenticate", `Basic realm="`+realm+`", error="invalid_client"`)
	}
	noStore(c)
	c.JSON(status(oe), gin.H{"error": oe.Code, "error_description": oe.Description})
}

// statusClientClosed is the status logged for a request whose caller left
// before it was answered (nginx's 499): neither the server's fault (5xx)
// nor anything the caller can read.
const statusClientClosed = 499

// callerGone reports whether the request's caller left (closed or
// half-closed its connection, or gave up): whatever failed then failed
// because of it.
func callerGone(c *gin.Context) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled)
}

// answerCanceled ends a request whose caller left: logged at Info, counted
// apart (store_errors_total{kind="canceled"}), and answered 499 in case a
// half-closed connection still reads.
func answerCanceled(c *gin.Context, log *slog.Logger, err error) {
	log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request canceled by the caller", slog.String("error", err.Error()), requestID(c))
	c.Set(ctxErrorCode, errCanceled)
	noStore(c)
	c.JSON(statusClientClosed, gin.H{"error": oauth.InvalidRequest, "error_description": "the connection was closed before the answer was sent; keep it open until the answer arrives"})
}

// errCanceled is the request-log and metrics code of a caller that left.
const errCanceled = "canceled"

// noStore marks a response as holding credentials (RFC 6749 §5.1).
func noStore(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// isAdmin reports a request for the admin API, whose errors are
// problem+json.
func isAdmin(c *gin.Context) bool {
	p := c.Request.URL.Path
	return p == admin.Prefix || strings.HasPrefix(p, admin.Prefix+"/")
}

func notFound(c *gin.Context) {
	if isAdmin(c) {
		admin.NotFound(c)
		return
	}
	c.JSON(http.StatusNotFound, gin.H{"error": "not_found", "error_description": "no such endpoint; see " + pathMetadata})
}

func methodNotAllowed(c *gin.Context) {
	if isAdmin(c) {
		admin.MethodNotAllowed(c)
		return
	}
	noStore(c)
	c.JSON(http.StatusMethodNotAllowed, gin.H{"error": oauth.InvalidRequest, "error_description": "method " + c.Request.Method + " is not allowed here; see the Allow header"})
}
