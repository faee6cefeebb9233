package chart

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Marker is a vertical line across a chart at one of its positions, with a
// label: the day of a trigger event, the week an alert was raised.
type Marker struct {
	At    int // the position, an index into the chart's values
	Label string
}

// Band shades a run of a chart's positions, with a label: an alert's window, the
// days after an event.
type Band struct {
	From, To int // the first and last position shaded (inclusive)
	Label    string
}

// Default sizes in viewBox units: about the width of an A4 page's text at 96
// dots an inch, so that the text sizes read as points.
const (
	defaultWidth  = 720
	defaultHeight = 360
	pad           = 6
)

// cartesian lays out a chart with a category axis along the bottom and a value
// axis from zero up the left, and draws its furniture.
type cartesian struct {
	width, height float64
	title         string
	showTitle     bool
	entries       []entry
	yLabel        string
	note          string
	n             int
	ticks         []float64
	x             []string
	times         []time.Time
	markers       []Marker
	bands         []Band
	wrapLabels    bool    // every position labelled, in up to two lines (categories)
	headroom      float64 // room above the plot for labels over bars

	// The layout.
	left, top, right, bottom float64
	axis                     xAxis
	notes                    []note
	notesTop                 float64
	legendTop                float64
}

func (c *cartesian) layout() {
	if c.width <= 0 {
		c.width = defaultWidth
	}
	if c.height <= 0 {
		c.height = defaultHeight
	}
	if c.n < 1 {
		c.n = 1
	}
	labels := tickLabels(c.ticks)
	widest := 0.0
	for _, l := range labels {
		widest = math.Max(widest, textWidth(l, smallSize))
	}
	c.left = pad + widest + 6
	c.right = c.width - pad - 4
	y := float64(pad)
	if c.showTitle && c.title != "" {
		y += titleSize + 6
	}
	c.legendTop = y
	_, _, rows := rowLayout(c.entries, c.width-2*pad)
	y += float64(rows) * legendRow
	if c.yLabel != "" {
		y += textSize + 6
	}
	if c.wrapLabels {
		c.axis = wrappedAxis(c.n, c.x, (c.right-c.left)/float64(c.n))
	} else {
		c.axis = newXAxis(c.n, c.x, c.times, (c.right-c.left)/float64(c.n))
	}
	for _, m := range c.markers {
		if m.At >= 0 && m.At < c.n && m.Label != "" {
			c.notes = append(c.notes, note{x: c.xAt(float64(m.At)), text: m.Label, marker: true})
		}
	}
	for _, b := range c.bands {
		if from, _, ok := c.clampBand(b); ok && b.Label != "" {
			c.notes = append(c.notes, note{x: c.xAt(float64(from) - 0.5), text: b.Label})
		}
	}
	noteRows := placeNotes(c.notes, c.right)
	c.notesTop = y
	y += float64(noteRows) * (smallSize + 4)
	c.top = y + 4 + c.headroom
	bottom := c.height - pad - float64(c.axis.lineCount())*(smallSize+2) - 8
	if c.note != "" {
		bottom -= smallSize + 6
	}
	c.bottom = bottom
	if c.bottom-c.top < 40 {
		// Too little room for the plot: the chart grows rather than squashing it.
		c.height += 40 - (c.bottom - c.top)
		c.bottom = c.top + 40
	}
}

func (c *cartesian) clampBand(b Band) (from, to int, ok bool) {
	from, to = max(b.From, 0), min(b.To, c.n-1)
	return from, to, from <= to
}

func (c *cartesian) slot() float64 { return (c.right - c.left) / float64(c.n) }

// xAt is the centre of position i (fractions reach between positions).
func (c *cartesian) xAt(i float64) float64 { return c.left + (i+0.5)*c.slot() }

// yAt is the height of value v.
func (c *cartesian) yAt(v float64) float64 {
	top := c.ticks[len(c.ticks)-1]
	return c.bottom - v/top*(c.bottom-c.top)
}

// drawBack draws the title, legend, value label, bands and grid.
func (c *cartesian) drawBack(w *svg) {
	if c.showTitle && c.title != "" {
		w.text(pad, pad+titleSize-2, truncate(c.title, c.width-2*pad, titleSize), "font-size", num(titleSize), "font-weight", "bold")
	}
	w.drawEntries(c.entries, pad, c.legendTop, c.width-2*pad)
	if c.yLabel != "" {
		_, _, rows := rowLayout(c.entries, c.width-2*pad)
		w.text(pad, c.legendTop+float64(rows)*legendRow+textSize, c.yLabel, "fill", mutedColour)
	}
	for _, b := range c.bands {
		from, to, ok := c.clampBand(b)
		if !ok {
			continue
		}
		x0, x1 := c.xAt(float64(from)-0.5), c.xAt(float64(to)+0.5)
		w.rect(x0, c.top, x1-x0, c.bottom-c.top, "fill", bandColour)
	}
	labels := tickLabels(c.ticks)
	for i, t := range c.ticks {
		y := c.yAt(t)
		if i > 0 {
			w.line(c.left, y, c.right, y, "stroke", gridColour, "stroke-width", "1")
		}
		w.text(c.left-6, y+4, labels[i], "font-size", num(smallSize), "text-anchor", "end", "fill", axisColour)
	}
}

// drawFront draws the markers, the axis line, the labels along the bottom, the
// notes above the plot and the note under it.
func (c *cartesian) drawFront(w *svg) {
	for _, m := range c.markers {
		if m.At < 0 || m.At >= c.n {
			continue
		}
		x := c.xAt(float64(m.At))
		top := c.top
		for _, n := range c.notes {
			if n.marker && n.x == x && n.text == m.Label {
				top = c.notesTop + float64(n.row)*(smallSize+4) + 2
			}
		}
		// A white casing keeps the line visible where it crosses a dark bar.
		w.line(x, top, x, c.bottom, "stroke", "#ffffff", "stroke-width", "3.5", "stroke-opacity", "0.8")
		w.line(x, top, x, c.bottom, "stroke", inkColour, "stroke-width", "1.5", "stroke-dasharray", "5 3")
	}
	w.line(c.left, c.bottom, c.right, c.bottom, "stroke", axisColour, "stroke-width", "1")
	for i, l := range c.axis.labels {
		if l == nil {
			continue
		}
		x := c.xAt(float64(i))
		w.line(x, c.bottom, x, c.bottom+4, "stroke", axisColour, "stroke-width", "1")
		w.lines(x, c.bottom+6+smallSize, smallSize+2, l, "font-size", num(smallSize), "text-anchor", "middle", "fill", axisColour)
	}
	for _, n := range c.notes {
		y := c.notesTop + float64(n.row)*(smallSize+4) + smallSize
		if n.right {
			w.text(n.x-3, y, n.text, "font-size", num(smallSize), "text-anchor", "end")
		} else {
			w.text(n.x+3, y, n.text, "font-size", num(smallSize))
		}
	}
	if c.note != "" {
		w.text(pad, c.height-pad-2, truncate(c.note, c.width-2*pad, smallSize), "font-size", num(smallSize), "fill", mutedColour)
	}
}

// describeAnnotations says in words where the markers and bands are.
func (c *cartesian) describeAnnotations(b *strings.Builder) {
	for _, m := range c.markers {
		if m.At >= 0 && m.At < c.n {
			fmt.Fprintf(b, " A line marks %s: %s.", c.axis.full[m.At], orDash(m.Label))
		}
	}
	for _, band := range c.bands {
		if from, to, ok := c.clampBand(band); ok {
			fmt.Fprintf(b, " Shaded from %s to %s: %s.", c.axis.full[from], c.axis.full[to], orDash(band.Label))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// positions is the number of positions of a chart: its labels, or else its
// longest series.
func positions(x []string, ts []time.Time, series ...[]float64) int {
	if len(x) > 0 {
		return len(x)
	}
	if len(ts) > 0 {
		return len(ts)
	}
	n := 0
	for _, s := range series {
		n = max(n, len(s))
	}
	return n
}

// at is s[i], NaN beyond its end.
func at(s []float64, i int) float64 {
	if i < 0 || i >= len(s) {
		return math.NaN()
	}
	return s[i]
}

// summarise describes a series in words over the positions named by full:
// its first and last values, its highest, and how many are withheld.
func summarise(b *strings.Builder, name string, vs []float64, full []string) {
	n := len(full)
	first, last, hi, hiAt, withheld := math.NaN(), math.NaN(), math.Inf(-1), -1, 0
	for i := range n {
		v := at(vs, i)
		if math.IsNaN(v) {
			withheld++
			continue
		}
		if math.IsNaN(first) {
			first = v
		}
		last = v
		if v > hi {
			hi, hiAt = v, i
		}
	}
	if name != "" {
		fmt.Fprintf(b, " %s:", name)
	}
	if hiAt < 0 {
		b.WriteString(" every value withheld.")
		return
	}
	fmt.Fprintf(b, " %s at first, %s at last, highest %s (%s)", formatValue(first), formatValue(last), formatValue(hi), full[hiAt])
	switch withheld {
	case 0:
		b.WriteString(".")
	case 1:
		b.WriteString("; 1 value withheld.")
	default:
		fmt.Fprintf(b, "; %d values withheld.", withheld)
	}
}

// hasNaN reports whether any of the first n values of any series is NaN.
func hasNaN(n int, series ...[]float64) bool {
	for _, s := range series {
		for i := range n {
			if math.IsNaN(at(s, i)) {
				return true
			}
		}
	}
	return false
}
