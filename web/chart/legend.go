package chart

import "math"

// Legend is a map's key: a title, swatches with their labels, and a note.
type Legend struct {
	Title string
	Items []LegendItem
	Note  string // a line under the swatches, such as "Counts are rounded to multiples of 5."
}

// LegendItem is one swatch of a legend.
type LegendItem struct {
	Label       string
	Fill        string  // the swatch's fill; "" leaves it empty
	Stroke      string  // its outline; "" for none
	StrokeWidth float64 // the outline's width; 0 is 1
	Dash        string  // a dash pattern of the outline or line
	Hatch       bool    // hatched over the fill: a withheld value
	Line        bool    // drawn as a line, not a box: a boundary or an alert outline
}

// entry is a swatch of a chart's legend row: an item, or a line series with its
// dash and symbol.
type entry struct {
	LegendItem
	symbol int  // the point symbol of a line series, -1 for none
	gap    bool // a line with a gap: a value withheld in a line series
}

const (
	swatchBox  = 12
	swatchLine = 28
	legendRow  = 18
)

func (e entry) swatchWidth() float64 {
	if e.Line || e.gap {
		return swatchLine
	}
	return swatchBox
}

// rowLayout places the entries left to right in rows of at most width, and
// returns their offsets from the left and their rows, and the number of rows.
func rowLayout(es []entry, width float64) (xs []float64, rows []int, n int) {
	x, row := 0.0, 0
	for i, e := range es {
		w := e.swatchWidth() + 5 + textWidth(e.Label, textSize)
		if i > 0 && x+w > width {
			x, row = 0, row+1
		}
		xs = append(xs, x)
		rows = append(rows, row)
		x += w + 16
	}
	if len(es) > 0 {
		n = row + 1
	}
	return xs, rows, n
}

// drawEntries draws a legend row laid out by rowLayout from left, top.
func (w *svg) drawEntries(es []entry, left, top, width float64) {
	xs, rows, _ := rowLayout(es, width)
	for i, e := range es {
		x := left + xs[i]
		y := top + float64(rows[i])*legendRow
		w.swatch(e, x, y)
		w.text(x+e.swatchWidth()+5, y+10, e.Label)
	}
}

// swatch draws an entry's swatch with its top left at x, y (a row is 14 high).
func (w *svg) swatch(e entry, x, y float64) {
	e.Fill, e.Stroke, e.Dash = paint(e.Fill), paint(e.Stroke), dash(e.Dash)
	sw := e.StrokeWidth
	if sw == 0 {
		sw = 1
	}
	mid := y + 6
	switch {
	case e.gap:
		w.line(x, mid, x+10, mid, "stroke", axisColour, "stroke-width", "2")
		w.line(x+18, mid, x+swatchLine, mid, "stroke", axisColour, "stroke-width", "2")
	case e.Line:
		w.line(x, mid, x+swatchLine, mid, "stroke", e.Stroke, "stroke-width", num(sw), "stroke-dasharray", e.Dash)
		if e.symbol >= 0 {
			w.symbol(e.symbol, x+swatchLine/2, mid, e.Stroke)
		}
	default:
		fill := e.Fill
		if fill == "" {
			fill = "none"
		}
		stroke := e.Stroke
		if stroke == "" && (e.Fill == "" || e.Hatch) {
			stroke = axisColour
		}
		w.rect(x+0.5, y+0.5, swatchBox-1, swatchBox-1, "fill", fill, "stroke", stroke, "stroke-width", strokeIf(stroke, sw), "stroke-dasharray", e.Dash)
		if e.Hatch {
			w.rect(x+0.5, y+0.5, swatchBox-1, swatchBox-1, "fill", "url(#"+w.hatchID()+")")
		}
	}
}

func strokeIf(stroke string, width float64) string {
	if stroke == "" {
		return ""
	}
	return num(width)
}

// legendBlock lays out a map's legend in columns within width: the item at i
// goes to column col[i], row row[i]. It returns the column width and the number
// of rows.
func legendBlock(l Legend, width float64) (colWidth float64, cols, rows int) {
	if len(l.Items) == 0 {
		return 0, 0, 0
	}
	for _, it := range l.Items {
		e := entry{LegendItem: it}
		colWidth = math.Max(colWidth, e.swatchWidth()+5+textWidth(it.Label, textSize)+18)
	}
	cols = max(1, min(len(l.Items), int(width/colWidth)))
	rows = (len(l.Items) + cols - 1) / cols
	// As few rows as that many columns need, and no more columns than those rows need.
	cols = (len(l.Items) + rows - 1) / rows
	return colWidth, cols, rows
}

// drawLegendBlock draws a map's legend at left, top within width and returns its
// height.
func (w *svg) drawLegendBlock(l Legend, left, top, width float64) float64 {
	y := top
	if l.Title != "" {
		w.text(left, y+11, l.Title, "font-weight", "bold")
		y += legendRow
	}
	colWidth, _, rows := legendBlock(l, width)
	for i, it := range l.Items {
		col, row := i/rows, i%rows
		x := left + float64(col)*colWidth
		yy := y + float64(row)*legendRow
		e := entry{LegendItem: it, symbol: -1}
		w.swatch(e, x, yy)
		w.text(x+e.swatchWidth()+5, yy+10, it.Label)
	}
	y += float64(rows) * legendRow
	if l.Note != "" {
		w.text(left, y+10, l.Note, "font-size", num(smallSize), "fill", mutedColour)
		y += legendRow
	}
	return y - top
}

// legendHeight is the height drawLegendBlock takes.
func legendHeight(l Legend, width float64) float64 {
	h := 0.0
	if l.Title != "" {
		h += legendRow
	}
	_, _, rows := legendBlock(l, width)
	h += float64(rows) * legendRow
	if l.Note != "" {
		h += legendRow
	}
	return h
}

// usesHatch reports whether the legend draws a hatched swatch.
func (l Legend) usesHatch() bool {
	for _, it := range l.Items {
		if it.Hatch {
			return true
		}
	}
	return false
}
