package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// ObservedExpected draws the evidence of an alert or of a trigger event's
// uplift: observed counts as bars, day by day or week by week, the expected
// count as a dashed line and, when given, the upper threshold as a dotted line;
// bars above the threshold are darker. A withheld count is a short hatched
// outline.
type ObservedExpected struct {
	Title         string
	Desc          string // a sentence on what it shows; a summary of the values follows it
	ID            string
	Width, Height float64 // the viewBox; 720 by 360 when zero
	HideTitle     bool
	X             []string    // the positions' labels
	Times         []time.Time // or their days or weeks (when X is empty)
	Observed      []float64
	Expected      []float64 // NaN where there is none
	Threshold     []float64 // the upper threshold, if any; NaN where there is none
	Markers       []Marker  // the event's day, the alert's day
	Bands         []Band    // the alert's window, the days after the event
	YLabel        string    // "Reports a day"
	Note          string

	// The legend's words, when other than "Observed", "Observed above the
	// threshold", "Expected", "Threshold" and "Withheld (a small count)".
	ObservedLabel, AboveLabel, ExpectedLabel, ThresholdLabel, WithheldLabel string
}

// The colours of the map's panel chart: observed bars in Okabe and Ito's blue
// (its 55% tint, solid for print), expected in vermilion, the threshold grey.
const (
	observedColour  = "#73b2d5"
	aboveColour     = "#0072B2"
	expectedColour  = "#D55E00"
	expectedDash    = "6 4"
	thresholdColour = "#555555"
	thresholdDash   = "2 3"
)

// SVG draws the chart.
func (c ObservedExpected) SVG() template.HTML {
	n := positions(c.X, c.Times, c.Observed, c.Expected, c.Threshold)
	above := make([]bool, n)
	var aboveAt []int
	for i := range n {
		o, t := at(c.Observed, i), at(c.Threshold, i)
		if o > t && !math.IsNaN(t) {
			above[i] = true
			aboveAt = append(aboveAt, i)
		}
	}
	hasThreshold := !allNaN(n, c.Threshold)
	hasExpected := !allNaN(n, c.Expected)
	withheld := hasNaN(n, c.Observed)

	p := cartesian{
		width: c.Width, height: c.Height, title: c.Title, showTitle: !c.HideTitle, yLabel: c.YLabel, note: c.Note,
		n: n, ticks: Ticks(maxOf(c.Observed, c.Expected, c.Threshold), allWhole(c.Observed)), x: c.X, times: c.Times,
		markers: c.Markers, bands: c.Bands,
	}
	p.entries = append(p.entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.ObservedLabel, "Observed"), Fill: observedColour}, symbol: -1})
	if len(aboveAt) > 0 {
		p.entries = append(p.entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.AboveLabel, "Observed above the threshold"), Fill: aboveColour}, symbol: -1})
	}
	if hasExpected {
		p.entries = append(p.entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.ExpectedLabel, "Expected"), Stroke: expectedColour, StrokeWidth: 2, Dash: expectedDash, Line: true}, symbol: -1})
	}
	if hasThreshold {
		p.entries = append(p.entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.ThresholdLabel, "Threshold"), Stroke: thresholdColour, StrokeWidth: 1.5, Dash: thresholdDash, Line: true}, symbol: -1})
	}
	if withheld {
		p.entries = append(p.entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.WithheldLabel, "Withheld (a small count)"), Stroke: mutedColour, Dash: "3 2", Hatch: true}, symbol: -1})
	}
	p.layout()

	var d strings.Builder
	if c.Desc != "" {
		d.WriteString(strings.TrimSpace(c.Desc))
		d.WriteString(" ")
	}
	fmt.Fprintf(&d, "Bars of the observed count over %s", count(n, p.axis.unit))
	if n > 0 {
		fmt.Fprintf(&d, ", %s to %s", p.axis.full[0], p.axis.full[n-1])
	}
	if hasExpected {
		d.WriteString(", with a line of the expected count")
	}
	if hasThreshold {
		d.WriteString(" and of the threshold")
	}
	d.WriteString(".")
	summarise(&d, withheldLabel(c.ObservedLabel, "Observed"), c.Observed, p.axis.full)
	if hasExpected {
		summarise(&d, withheldLabel(c.ExpectedLabel, "Expected"), c.Expected, p.axis.full)
	}
	if hasThreshold {
		switch len(aboveAt) {
		case 0:
			d.WriteString(" No observed count is above the threshold.")
		default:
			fmt.Fprintf(&d, " Above the threshold at %d:", len(aboveAt))
			for j, i := range aboveAt {
				if j == 10 {
					fmt.Fprintf(&d, " and %d more", len(aboveAt)-10)
					break
				}
				if j > 0 {
					d.WriteString(",")
				}
				fmt.Fprintf(&d, " %s (%s against %s)", p.axis.full[i], formatValue(at(c.Observed, i)), formatValue(at(c.Threshold, i)))
			}
			d.WriteString(".")
		}
	}
	p.describeAnnotations(&d)
	desc := strings.TrimSpace(d.String())

	w := &svg{id: chartID(c.ID, "observed-expected", c.Title, desc)}
	w.start("observed-expected", p.width, p.height, c.Title, desc)
	if withheld {
		w.hatchDefs()
	}
	p.drawBack(w)
	bw := p.slot() * 0.7
	gap := math.Min(1, p.slot()*0.1)
	if p.slot()-bw < gap {
		bw = p.slot() - gap
	}
	for i := range n {
		x := p.xAt(float64(i)) - bw/2
		v := at(c.Observed, i)
		if math.IsNaN(v) {
			h := math.Min(stub, (p.bottom-p.top)/4)
			w.rect(x, p.bottom-h, bw, h, "fill", "url(#"+w.hatchID()+")", "stroke", mutedColour, "stroke-width", "1", "stroke-dasharray", "3 2")
			continue
		}
		if v <= 0 {
			continue
		}
		fill := observedColour
		if above[i] {
			fill = aboveColour
		}
		y := p.yAt(v)
		w.rect(x, y, bw, p.bottom-y, "fill", fill)
	}
	if hasThreshold {
		w.seriesLine(&p, c.Threshold, thresholdColour, 1.5, thresholdDash)
	}
	if hasExpected {
		w.seriesLine(&p, c.Expected, expectedColour, 2, expectedDash)
	}
	p.drawFront(w)
	return w.end()
}

// seriesLine draws values as a line through the positions' centres, broken
// where a value is NaN; a lone value is a short level stroke across its slot.
func (w *svg) seriesLine(p *cartesian, vs []float64, colour string, width float64, dash string) {
	var path []byte
	for i := range p.n {
		v := at(vs, i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		x, y := p.xAt(float64(i)), p.yAt(v)
		prev, next := at(vs, i-1), at(vs, i+1)
		if math.IsNaN(prev) && math.IsNaN(next) {
			path = append(path, 'M')
			path = appendPair(path, x-p.slot()*0.4, y)
			path = append(path, 'L')
			path = appendPair(path, x+p.slot()*0.4, y)
			continue
		}
		if math.IsNaN(prev) {
			path = append(path, 'M')
		} else {
			path = append(path, 'L')
		}
		path = appendPair(path, x, y)
	}
	if len(path) > 0 {
		w.path(path, "fill", "none", "stroke", colour, "stroke-width", num(width), "stroke-dasharray", dash, "stroke-linejoin", "round")
	}
}

// allNaN reports whether none of the first n values is a number.
func allNaN(n int, vs []float64) bool {
	for i := range n {
		if !math.IsNaN(at(vs, i)) {
			return false
		}
	}
	return true
}
