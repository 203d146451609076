package console

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// line is one series of a chart.
type line struct {
	Name   string
	Points []point
	// Class picks its colour in the stylesheet (c0…c5).
	Class string
}

// chartBox is a chart's drawing area in SVG units.
const (
	chartW, chartH               = 600.0, 200.0
	padL, padR, padTop, padBelow = 60.0, 14.0, 14.0, 28.0
)

// chart draws lines over [from, to] as an SVG, with a y axis from 0 to a
// round maximum, three grid lines and the times of the x axis. Every text
// in it is escaped, so the result is safe HTML.
func chart(label, unit string, lines []line, from, to time.Time) template.HTML {
	top := 0.0
	for _, l := range lines {
		for _, p := range l.Points {
			top = math.Max(top, p.v)
		}
	}
	top = roundUp(top)
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 { return padL + (chartW-padL-padR)*t.Sub(from).Seconds()/span }
	y := func(v float64) float64 { return chartH - padBelow - (chartH-padTop-padBelow)*v/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(label))
	for i := 0; i <= 2; i++ {
		v := top * float64(i) / 2
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(v)+4, template.HTMLEscapeString(number(v)+unit))
	}
	step := tickStep(to.Sub(from))
	for m := time.Duration(0); m <= to.Sub(from); m += step {
		txt := "now"
		if m > 0 {
			txt = "−" + strconv.Itoa(int(m/time.Minute)) + "m"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(to.Add(-m)), chartH-6, txt)
	}
	empty := true
	for _, l := range lines {
		var pts []string
		for _, p := range l.Points {
			if p.at.Before(from) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.at), y(p.v)))
		}
		switch len(pts) {
		case 0:
			continue
		case 1:
			xy := strings.Split(pts[0], ",")
			fmt.Fprintf(&b, `<circle class="dot %s" cx="%s" cy="%s" r="3"/>`, l.Class, xy[0], xy[1])
		default:
			fmt.Fprintf(&b, `<polyline class="series %s" points="%s"><title>%s</title></polyline>`, l.Class, strings.Join(pts, " "), template.HTMLEscapeString(l.Name))
		}
		empty = false
	}
	if empty {
		fmt.Fprintf(&b, `<text class="empty" x="%.1f" y="%.1f" text-anchor="middle">No data yet</text>`, (padL+chartW-padR)/2, chartH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// tickStep spaces the x axis's labels: a round number of minutes giving
// at most five labels over span.
func tickStep(span time.Duration) time.Duration {
	for _, m := range []time.Duration{1, 2, 5, 10, 15, 30, 60} {
		if span/(m*time.Minute) <= 4 {
			return m * time.Minute
		}
	}
	return span
}

// roundUp returns a round number at or above v (1, 2 or 5 times a power
// of ten), at least 1.
func roundUp(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// number formats a chart value briefly.
func number(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	case v < 10 && v != math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
