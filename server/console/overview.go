package console

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// card is one figure and its chart.
type card struct {
	Title, Value, Note string
	Chart              template.HTML
	Legend             []line
}

// overviewData is the overview's.
type overviewData struct {
	Cards []card
	// Sampling says how the figures are taken.
	Sampling string
}

// maxErrorLines bounds the error codes charted (the most frequent).
const maxErrorLines = 5

func (h *handlers) overview(c *gin.Context) {
	d := overviewData{}
	if h.Stats == nil {
		h.render(c, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Data: d})
		return
	}
	s := h.Stats.series()
	d.Sampling = "This node's figures over the last " + span(h.Stats.opts.Window) + " (or since it started), sampled every " + span(h.Stats.opts.Every) + "."
	d.Cards = append(d.Cards,
		card{Title: "Token requests", Value: last(s.requests, "/s"), Note: "per second", Chart: chart("Token requests per second", "", []line{{Name: "requests/s", Points: s.requests, Class: "c0"}}, s.from, s.to)},
		h.errorCard(s),
		card{Title: "p99 latency", Value: last(s.p99, " ms"), Note: "token endpoint", Chart: chart("99th percentile latency of the token endpoint, ms", " ms", []line{{Name: "p99", Points: s.p99, Class: "c2"}}, s.from, s.to)},
		card{Title: "Revocation set", Value: last(s.revocations, ""), Note: "entries on this node", Chart: chart("Revocation set size", "", []line{{Name: "entries", Points: s.revocations, Class: "c3"}}, s.from, s.to)},
		card{Title: "Nodes", Value: last(s.nodes, ""), Note: "on the revocation roster", Chart: chart("Nodes serving", "", []line{{Name: "nodes", Points: s.nodes, Class: "c4"}}, s.from, s.to)},
	)
	h.render(c, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Data: d})
}

// errorCard charts the most frequent error codes, one line each.
func (h *handlers) errorCard(s series) card {
	type total struct {
		code string
		n    float64
	}
	var totals []total
	for code, pts := range s.errors {
		n := 0.0
		for _, p := range pts {
			n += p.v
		}
		totals = append(totals, total{code, n})
	}
	slices.SortFunc(totals, func(a, b total) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		if a.code < b.code {
			return -1
		}
		return 1
	})
	var lines []line
	var now float64
	for i, t := range totals {
		if i == maxErrorLines {
			break
		}
		name := t.code
		if name == "" {
			name = "other"
		}
		pts := s.errors[t.code]
		lines = append(lines, line{Name: name, Points: pts, Class: "c" + strconv.Itoa(1+i%5)})
		if len(pts) > 0 {
			now += pts[len(pts)-1].v
		}
	}
	v := "0/s"
	if len(s.requests) == 0 {
		v = "—"
	} else if now > 0 {
		v = number(now) + "/s"
	}
	return card{Title: "Errors", Value: v, Note: "by OAuth error code", Chart: chart("Token errors per second by code", "", lines, s.from, s.to), Legend: lines}
}

// last is a line's latest value, "—" if it has none.
func last(pts []point, unit string) string {
	if len(pts) == 0 {
		return "—"
	}
	return number(pts[len(pts)-1].v) + unit
}

// span writes a sampling period the way people say it.
func span(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}
