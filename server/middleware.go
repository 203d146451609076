package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/metrics"
	"github.com/tollgate/tollgate/server/oauth"
)

// Keys under which handlers leave facts for the request log.
const (
	ctxRequestID = "tollgate.request_id"
	ctxClientID  = "tollgate.client_id"
	ctxGrantType = "tollgate.grant_type"
	ctxJTI       = "tollgate.jti"
	ctxErrorCode = "tollgate.error"
)

// requestLog assigns a request id and logs one line per request. It logs
// the path, never the query, headers or body, which may carry credentials.
func requestLog(log *slog.Logger, m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := newRequestID()
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
		st := c.Writer.Status()
		observe(c, m, st, time.Since(start))
		level := slog.LevelInfo
		if st >= 500 {
			level = slog.LevelError
		}
		if !log.Enabled(c.Request.Context(), level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", st),
			slog.Duration("duration", time.Since(start)),
		}
		for _, k := range [...]struct{ ctx, log string }{
			{ctxClientID, "client_id"}, {ctxGrantType, "grant_type"}, {ctxJTI, "jti"}, {ctxErrorCode, "error"},
		} {
			if v := c.GetString(k.ctx); v != "" {
				attrs = append(attrs, slog.String(k.log, v))
			}
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// recovery turns a panic into a 500 without leaking its value to the client.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.LogAttrs(c.Request.Context(), slog.LevelError, "panic", slog.Any("panic", p), requestID(c))
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "server_error", "error_description": "internal error; it has been logged"})
			}
		}()
		c.Next()
	}
}

func requestID(c *gin.Context) slog.Attr {
	return slog.String("request_id", c.GetString(ctxRequestID))
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe records the request's metrics. Routes are Gin's patterns
// ("/admin/v1/clients/:id"), never raw paths, so the label set is bounded.
func observe(c *gin.Context, m *metrics.Metrics, status int, d time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.RequestDuration.WithLabelValues(route, c.Request.Method, metrics.StatusClass(status)).Observe(d.Seconds())
	if route == pathToken {
		gt := c.GetString(ctxGrantType)
		if !knownGrant(gt) {
			gt = "other"
		}
		result, code := "success", c.GetString(ctxErrorCode)
		if status >= 400 {
			result = "error"
		}
		m.TokenRequests.WithLabelValues(gt, result, code).Inc()
	}
	switch code := c.GetString(ctxErrorCode); code {
	case "locked_out", "rate_limited", "revocation_budget", "stream_limit", "overloaded":
		m.Throttled.WithLabelValues(code).Inc()
	case oauth.TemporarilyUnavailable:
		m.StoreErrors.WithLabelValues("unavailable").Inc()
	case oauth.ServerError:
		m.StoreErrors.WithLabelValues("error").Inc()
	case errCanceled:
		m.StoreErrors.WithLabelValues(errCanceled).Inc()
	}
}

func knownGrant(gt string) bool {
	return gt == grant.TokenExchange || slices.Contains(grant.Supported, gt)
}
