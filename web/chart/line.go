package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Series is a named run of values, one for each position of a chart: counts or
// rates, zero or more. NaN is a value withheld or missing; a series shorter
// than the chart is missing at the end.
type Series struct {
	Name   string
	Values []float64
	Color  string // "" takes Categorical of the series' index
}

func (s Series) colour(i int) string {
	if s.Color != "" {
		return paint(s.Color)
	}
	return Categorical(i)
}

// symbolsUpTo is the most positions a line chart marks every point of; beyond
// it only isolated points are marked.
const symbolsUpTo = 40

// LineChart draws series as lines over positions named by months, days or
// labels: monthly counts by strand over two years, say. Each series has its
// colour, dash pattern and point symbol; a withheld value leaves a gap.
type LineChart struct {
	Title         string      // the chart's name, drawn above it and read by screen readers
	Desc          string      // a sentence on what it shows; a summary of the values follows it
	ID            string      // the prefix of its element ids, unique on the page; derived when empty
	Width, Height float64     // the viewBox; 720 by 360 when zero
	HideTitle     bool        // leaves the title out of the drawing (the page shows it)
	X             []string    // the positions' labels
	Times         []time.Time // or their times: firsts of months, or days (when X is empty)
	Series        []Series
	YLabel        string // what the values are: "Reports a month"
	Markers       []Marker
	Bands         []Band
	Note          string // a line under the chart: the source, rounding
	WithheldLabel string // the legend of a gap; "Gap: withheld or missing" when empty
}

// SVG draws the chart.
func (c LineChart) SVG() template.HTML {
	var all [][]float64
	for _, s := range c.Series {
		all = append(all, s.Values)
	}
	n := positions(c.X, c.Times, all...)
	many := n > symbolsUpTo
	// Lines over hundreds of positions are thinner, so that their dashes still show.
	width := "2"
	if n > 200 {
		width = "1.4"
	}
	p := cartesian{
		width: c.Width, height: c.Height, title: c.Title, showTitle: !c.HideTitle, yLabel: c.YLabel, note: c.Note,
		n: n, ticks: Ticks(maxOf(all...), allWhole(all...)), x: c.X, times: c.Times, markers: c.Markers, bands: c.Bands,
	}
	for i, s := range c.Series {
		e := entry{LegendItem: LegendItem{Label: s.Name, Stroke: s.colour(i), StrokeWidth: 2, Dash: Dash(i), Line: true}, symbol: i}
		if many {
			e.symbol = -1
		}
		p.entries = append(p.entries, e)
	}
	gaps := hasNaN(n, all...)
	if gaps {
		p.entries = append(p.entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.WithheldLabel, "Gap: withheld or missing")}, gap: true, symbol: -1})
	}
	p.layout()

	var d strings.Builder
	if c.Desc != "" {
		d.WriteString(strings.TrimSpace(c.Desc))
		d.WriteString(" ")
	}
	fmt.Fprintf(&d, "Line chart of %s over %s", count(len(c.Series), "series"), count(n, p.axis.unit))
	if n > 0 {
		fmt.Fprintf(&d, ", %s to %s", p.axis.full[0], p.axis.full[n-1])
	}
	d.WriteString(".")
	for _, s := range c.Series {
		summarise(&d, s.Name, s.Values, p.axis.full)
	}
	p.describeAnnotations(&d)
	desc := strings.TrimSpace(d.String())

	w := &svg{id: chartID(c.ID, "line", c.Title, desc)}
	w.start("line", p.width, p.height, c.Title, desc)
	p.drawBack(w)
	for i, s := range c.Series {
		colour := s.colour(i)
		var path []byte
		var marks []byte
		for j := range n {
			v := at(s.Values, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			x, y := p.xAt(float64(j)), p.yAt(v)
			prev, next := at(s.Values, j-1), at(s.Values, j+1)
			if j == 0 || math.IsNaN(prev) || math.IsInf(prev, 0) {
				path = append(path, 'M')
			} else {
				path = append(path, 'L')
			}
			path = appendPair(path, x, y)
			isolated := (j == 0 || math.IsNaN(prev)) && (j == n-1 || math.IsNaN(next))
			if !many || isolated {
				marks = symbolPath(marks, i, x, y)
			}
		}
		if len(path) > 0 {
			w.path(path, "fill", "none", "stroke", colour, "stroke-width", width,
				"stroke-dasharray", Dash(i), "stroke-linejoin", "round", "stroke-linecap", "butt")
		}
		if len(marks) > 0 {
			if hollowSymbol(i) {
				w.path(marks, "fill", "#ffffff", "stroke", colour, "stroke-width", "1.5")
			} else {
				w.path(marks, "fill", colour, "stroke", "#ffffff", "stroke-width", "0.8")
			}
		}
	}
	p.drawFront(w)
	return w.end()
}

func withheldLabel(given, fallback string) string {
	if given != "" {
		return given
	}
	return fallback
}
