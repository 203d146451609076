package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/store"
)

// maxAuditScan bounds the entries one audit page reads: the store lists
// oldest first, and the page shows the newest matches.
const maxAuditScan = 20000

// auditFilter is the audit page's filter form. Times are the form's
// datetime-local values, read as UTC.
type auditFilter struct {
	Actor, Action, Target, Since, Until string
	// Before is the cursor: entries with a lower ID (older ones).
	Before int64
}

// auditRow is one entry with its diff.
type auditRow struct {
	store.AuditEntry
	Diff []diffLine
}

// diffLine is one top-level field of the before and after documents.
type diffLine struct {
	Field, Before, After string
	Changed              bool
}

// auditData is the audit page's.
type auditData struct {
	Filter    auditFilter
	Rows      []auditRow
	Older     int64
	Truncated bool
	Actions   []string
	Error     string
}

// auditActions are the actions the filter offers.
var auditActions = []string{"client.create", "client.update", "client.rotate_secret", "client.delete", "client.revoke_tokens",
	"user.create", "user.update", "user.set_password", "user.delete", "user.revoke_tokens",
	"apikey.create", "apikey.update", "apikey.revoke", "apikey.revoke_subject", "signing_key.rotate"}

const formTime = "2006-01-02T15:04"

func (h *handlers) audit(c *gin.Context) {
	f := auditFilter{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")), Target: strings.TrimSpace(c.Query("target")),
		Since: c.Query("since"), Until: c.Query("until")}
	d := auditData{Filter: f, Actions: auditActions}
	for _, s := range []string{f.Actor, f.Action, f.Target, f.Since, f.Until, c.Query("before")} {
		if len(s) > 200 || !text(s) {
			h.fail(c, http.StatusBadRequest, "A filter value is too long or not valid text.")
			return
		}
	}
	sf := store.AuditFilter{Target: f.Target, Action: f.Action}
	var until time.Time
	var err error
	if f.Since != "" {
		if sf.Since, err = time.Parse(formTime, f.Since); err != nil {
			d.Error = "From must be a date and time, e.g. 2026-12-01T09:00."
		}
	}
	if f.Until != "" {
		if until, err = time.Parse(formTime, f.Until); err != nil {
			d.Error = "To must be a date and time, e.g. 2026-12-01T18:00."
		}
	}
	if b := c.Query("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil || f.Before < 0 {
			d.Error = "The page cursor is not one this page made."
		}
	}
	if d.Error != "" {
		h.render(c, http.StatusBadRequest, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
		return
	}
	d.Filter = f
	var keep []store.AuditEntry
	var after int64
	for scanned := 0; scanned < maxAuditScan; {
		rows, err := h.Audit.ListAudit(ctx(c), sf, after, 500)
		if err != nil {
			h.serverError(c, err)
			return
		}
		for _, e := range rows {
			scanned++
			if (f.Before > 0 && e.ID >= f.Before) || (!until.IsZero() && e.At.After(until)) || !contains(f.Actor, e.Actor) {
				continue
			}
			keep = append(keep, e)
			if len(keep) > 2*pageSize {
				keep = slices.Delete(keep, 0, len(keep)-pageSize-1)
			}
		}
		if len(rows) < 500 {
			break
		}
		after = rows[len(rows)-1].ID
		if scanned >= maxAuditScan {
			d.Truncated = true
		}
	}
	if len(keep) > pageSize {
		keep = keep[len(keep)-pageSize:]
		d.Older = keep[0].ID
	}
	for i := len(keep) - 1; i >= 0; i-- {
		d.Rows = append(d.Rows, auditRow{AuditEntry: keep[i], Diff: diff(keep[i].Before, keep[i].After)})
	}
	h.render(c, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
}

// diff lines up the top-level fields of two JSON objects.
func diff(before, after []byte) []diffLine {
	b, a := fields(before), fields(after)
	var keys []string
	for k := range b {
		keys = append(keys, k)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]diffLine, 0, len(keys))
	for _, k := range keys {
		out = append(out, diffLine{Field: k, Before: b[k], After: a[k], Changed: b[k] != a[k]})
	}
	return out
}

// fields decodes a JSON object into its fields' compact JSON texts.
func fields(doc []byte) map[string]string {
	m := map[string]json.RawMessage{}
	if len(doc) == 0 || json.Unmarshal(doc, &m) != nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s := string(v)
		var str string
		if json.Unmarshal(v, &str) == nil {
			s = str
		}
		out[k] = s
	}
	return out
}
