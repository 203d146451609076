package main

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// curvePlot is one PNG: a metric of a curve against its size, one line
// per series.
type curvePlot struct {
	File   string // name under the image directory
	Title  string
	XLabel string
	YLabel string
	Steps  []int // the curve's sizes, the x ticks
	Series []plotSeries
}

type plotSeries struct {
	Name string
	Y    []float64 // one per step; a missing step is left out
	N    []int
}

// xOf places size n on the logarithmic x axis: 0 (an empty revocation set)
// sits where 1 would.
func xOf(n int) float64 { return float64(max(n, 1)) }

// write renders the plot as a PNG of 6 × 3.5 inches into dir.
func (cp curvePlot) write(dir string) (string, error) {
	p := plot.New()
	p.Title.Text = cp.Title
	p.X.Label.Text = cp.XLabel
	p.Y.Label.Text = cp.YLabel
	p.X.Scale = plot.LogScale{}
	ticks := make([]plot.Tick, 0, len(cp.Steps))
	for _, n := range cp.Steps {
		ticks = append(ticks, plot.Tick{Value: xOf(n), Label: fmtInt(n)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	var lines []any
	maxY := 0.0
	for _, s := range cp.Series {
		xys := make(plotter.XYs, len(s.Y))
		for i := range s.Y {
			xys[i] = plotter.XY{X: xOf(s.N[i]), Y: s.Y[i]}
			maxY = max(maxY, s.Y[i])
		}
		if len(xys) > 0 {
			lines = append(lines, s.Name, xys)
		}
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return "", fmt.Errorf("plot %s: %w", cp.File, err)
	}
	// Head room for the legend above the lines.
	p.Y.Max = maxY * 1.35
	if p.Y.Max == 0 {
		p.Y.Max = 1
	}
	if len(cp.Steps) == 1 {
		p.X.Min, p.X.Max = xOf(cp.Steps[0])/2, xOf(cp.Steps[0])*2
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, cp.File)
	if err := p.Save(6*vg.Inch, 3.5*vg.Inch, path); err != nil {
		return "", fmt.Errorf("plot %s: %w", cp.File, err)
	}
	return path, nil
}
