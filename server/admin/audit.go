package admin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/store"
)

// auditView is one audit entry as listed.
type auditView struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// listAudit serves GET /audit[?target=…&action=…&since=RFC3339].
func listAudit(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		cursor, limit, ok := pageParams(c)
		if !ok {
			return
		}
		var after int64
		if cursor != "" {
			n, err := strconv.ParseInt(cursor, 10, 64)
			if err != nil || n < 0 {
				badRequest(c, "cursor", "is not a cursor this API returned")
				return
			}
			after = n
		}
		f := store.AuditFilter{Target: c.Query("target"), Action: c.Query("action")}
		if v := c.Query("since"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				badRequest(c, "since", "must be an RFC 3339 time, e.g. 2026-12-01T09:00:00Z")
				return
			}
			f.Since = t
		}
		rows, err := d.Audit.ListAudit(c.Request.Context(), f, after, limit+1)
		if err != nil {
			fail(c, d.Logger, err)
			return
		}
		views := make([]auditView, len(rows))
		for i, e := range rows {
			views[i] = auditView{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Before: e.Before, After: e.After}
		}
		c.JSON(http.StatusOK, paged(views, limit, func(v auditView) string { return strconv.FormatInt(v.ID, 10) }))
	}
}
