package console

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/store"
)

// keyRow is one signing key as the page shows it.
type keyRow struct {
	KID, Algorithm, State string
	CreatedAt, ActiveAt   time.Time
	RetiredAt             time.Time
}

// keyState says whether a key is "next" (published, not yet signing),
// "current" or "retired" at now (admin.KeyState's rule, with the
// console's word for the signing key).
func keyState(k store.SigningKey, now time.Time) string {
	switch {
	case !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt):
		return "retired"
	case now.Before(k.ActiveAt):
		return "next"
	}
	return "current"
}

// keysData is the signing-keys page's.
type keysData struct {
	Keys     []keyRow
	Timeline template.HTML
}

func (h *handlers) signingKeys(c *gin.Context) {
	now := h.Now()
	ks := h.Keys.Keys()
	rows := make([]keyRow, len(ks))
	for i, k := range ks {
		rows[i] = keyRow{KID: k.ID, Algorithm: k.Algorithm, State: keyState(k, now), CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: k.RetiredAt}
	}
	slices.SortFunc(rows, func(a, b keyRow) int { return b.ActiveAt.Compare(a.ActiveAt) })
	h.render(c, http.StatusOK, "signingkeys", view{Title: "Signing keys", Nav: "signing-keys", Data: keysData{Keys: rows, Timeline: timeline(rows, now)}})
}

func (h *handlers) rotateSigningKey(c *gin.Context) {
	vals, ok := h.form(c, nil)
	if !ok || !h.confirmed(c, vals, "Rotate the signing key? The new key is published now and signs after the pre-publication delay; the current one is retired then.", "Rotate") {
		return
	}
	k, err := h.Registry.RotateSigningKey(ctx(c), h.Keys)
	if err != nil {
		h.serverError(c, err)
		return
	}
	h.redirect(c, "/signing-keys", "Created the next signing key "+k.ID+"; it signs from "+k.ActiveAt.UTC().Format("15:04:05 UTC")+".")
}

// timeline draws the keys as bars on one time axis, from the oldest
// key's activation to a little after now, with a mark at now.
func timeline(rows []keyRow, now time.Time) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	// From the oldest key's activation (at least an hour back) to the
	// last retirement or activation (at least an hour ahead), so that now
	// is never at an edge.
	start, end := now.Add(-time.Hour), now.Add(time.Hour)
	for _, r := range rows {
		start = minTime(start, r.ActiveAt)
		end = maxTime(end, r.ActiveAt)
		if !r.RetiredAt.IsZero() {
			end = maxTime(end, r.RetiredAt)
		}
	}
	end = end.Add(end.Sub(start) / 10)
	const w, left, rowH, top = 720.0, 150.0, 30.0, 22.0
	x := func(t time.Time) float64 { return left + (w-left-10)*float64(t.Sub(start))/float64(end.Sub(start)) }
	height := top + rowH*float64(len(rows)) + 26
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" viewBox="0 0 %.0f %.0f" role="img" aria-label="Signing keys on a timeline">`, w, height)
	for i, r := range rows {
		y := top + rowH*float64(i)
		to := end
		if !r.RetiredAt.IsZero() {
			to = r.RetiredAt
		}
		x0, x1 := x(r.ActiveAt), x(to)
		fmt.Fprintf(&b, `<text class="tl-label" x="0" y="%.1f">%s</text>`, y+14, template.HTMLEscapeString(shortKID(r.KID)))
		fmt.Fprintf(&b, `<rect class="tl-bar tl-%s" x="%.1f" y="%.1f" width="%.1f" height="18" rx="4"><title>%s: %s, from %s</title></rect>`,
			r.State, x0, y, max(x1-x0, 3), template.HTMLEscapeString(r.KID), r.State, r.ActiveAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	nx := x(now)
	axisY := height - 10
	fmt.Fprintf(&b, `<line class="tl-now" x1="%.1f" x2="%.1f" y1="16" y2="%.1f"/>`, nx, nx, height-22)
	fmt.Fprintf(&b, `<text class="tl-axis tl-now-label" x="%.1f" y="12" text-anchor="middle">now</text>`, nx)
	fmt.Fprintf(&b, `<text class="tl-axis" x="%.1f" y="%.1f">%s</text>`, left, axisY, start.UTC().Format("Jan 2 15:04"))
	fmt.Fprintf(&b, `<text class="tl-axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, w-10, axisY, end.UTC().Format("Jan 2 15:04"))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every interpolated text is escaped above
}

func shortKID(kid string) string {
	if len(kid) > 18 {
		return kid[:18] + "…"
	}
	return kid
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
