package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout bounds all readiness checks together.
const readyTimeout = 2 * time.Second

// healthHandler reports that the process is up (liveness).
func healthHandler(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyHandler runs every check; any failure makes the node not ready, so a
// load balancer stops sending it traffic.
func readyHandler(checks []Check, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		res := make(map[string]string, len(checks))
		code := http.StatusOK
		for _, ch := range checks {
			if err := ch.Func(ctx); err != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", ch.Name), slog.String("error", err.Error()))
				res[ch.Name] = "unavailable"
				code = http.StatusServiceUnavailable
				continue
			}
			res[ch.Name] = "ok"
		}
		st := "ok"
		if code != http.StatusOK {
			st = "unavailable"
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(code, gin.H{"status": st, "checks": res})
	}
}
