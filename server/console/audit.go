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
	for _, s := range []string{f.Actor, f.Action, f.Target, f.Since, f.Until, c.Query("before")} {
		if len(s) > 200 || !text(s) {
			h.fail(c, http.StatusBadRequest, "A filter value is too long or not valid text.")
			return
		}
	}
	d := auditData{Filter: f, Actions: auditActions}
	sf, until, msg := parseAuditFilter(&d.Filter, c.Query("before"))
	if msg != "" {
		d.Error = msg
		h.render(c, http.StatusBadRequest, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
		return
	}
	keep, truncated, err := h.newestAudit(c, sf, d.Filter, until)
	if err != nil {
		h.serverError(c, err)
		return
	}
	d.Truncated = truncated
	if len(keep) > pageSize {
		keep = keep[len(keep)-pageSize:]
		d.Older = keep[0].ID
	}
	for i := len(keep) - 1; i >= 0; i-- {
		d.Rows = append(d.Rows, auditRow{AuditEntry: keep[i], Diff: diff(keep[i].Before, keep[i].After)})
	}
	h.render(c, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
}

// parseAuditFilter reads the form's times and cursor into a store filter
// and the upper time bound; msg says what is wrong with them.
func parseAuditFilter(f *auditFilter, before string) (sf store.AuditFilter, until time.Time, msg string) {
	sf = store.AuditFilter{Target: f.Target, Action: f.Action}
	var err error
	if f.Since != "" {
		if sf.Since, err = time.Parse(formTime, f.Since); err != nil {
			return sf, until, "From must be a date and time, e.g. 2026-12-01T09:00."
		}
	}
	if f.Until != "" {
		if until, err = time.Parse(formTime, f.Until); err != nil {
			return sf, until, "To must be a date and time, e.g. 2026-12-01T18:00."
		}
	}
	if before != "" {
		if f.Before, err = strconv.ParseInt(before, 10, 64); err != nil || f.Before < 0 {
			return sf, until, "The page cursor is not one this page made."
		}
	}
	return sf, until, ""
}

// newestAudit reads the matching entries oldest first (the store's
// order) and keeps the newest pageSize+1 of them: one more tells that
// older ones exist. It reads at most maxAuditScan entries.
func (h *handlers) newestAudit(c *gin.Context, sf store.AuditFilter, f auditFilter, until time.Time) ([]store.AuditEntry, bool, error) {
	var keep []store.AuditEntry
	var after int64
	for scanned := 0; ; {
		rows, err := h.Audit.ListAudit(ctx(c), sf, after, 500)
		if err != nil {
			return nil, false, err
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
			return keep, false, nil
		}
		if scanned >= maxAuditScan {
			return keep, true, nil
		}
		after = rows[len(rows)-1].ID
	}
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
