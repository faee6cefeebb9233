package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// BarChart draws grouped bars: for each category (a strand, an area) one bar a
// series ("this year", "last year"). A withheld value is a short hatched
// outline, explained in the legend.
type BarChart struct {
	Title         string
	Desc          string // a sentence on what it shows; the values follow it
	ID            string
	Width, Height float64 // the viewBox; 720 by 360 when zero (horizontal charts as high as their bars need)
	HideTitle     bool
	Categories    []string
	Series        []Series
	Horizontal    bool   // bars run left to right, the categories listed down the left: for long names
	ValueLabels   bool   // writes each value by its bar (where it fits)
	ValueAxis     string // what the values are: "Reports"
	Note          string
	WithheldLabel string // "Withheld (a small count)" when empty
}

// barGap is the space between groups as a share of a category's room.
const barGap = 0.25

// stub is the length of the hatched outline drawn for a withheld value.
const stub = 12

// SVG draws the chart.
func (c BarChart) SVG() template.HTML {
	var all [][]float64
	for _, s := range c.Series {
		all = append(all, s.Values)
	}
	n := positions(c.Categories, nil, all...)
	var entries []entry
	if len(c.Series) > 1 || len(c.Series) == 1 && c.Series[0].Name != "" {
		for i, s := range c.Series {
			entries = append(entries, entry{LegendItem: LegendItem{Label: s.Name, Fill: s.colour(i)}, symbol: -1})
		}
	}
	withheld := hasNaN(n, all...)
	if withheld {
		entries = append(entries, entry{LegendItem: LegendItem{Label: withheldLabel(c.WithheldLabel, "Withheld (a small count)"), Stroke: mutedColour, Dash: "3 2", Hatch: true}, symbol: -1})
	}
	names := make([]string, n)
	for i := range names {
		if i < len(c.Categories) {
			names[i] = c.Categories[i]
		}
	}
	var d strings.Builder
	if c.Desc != "" {
		d.WriteString(strings.TrimSpace(c.Desc))
		d.WriteString(" ")
	}
	fmt.Fprintf(&d, "Bar chart of %s over %s.", count(len(c.Series), "series"), count(n, "category"))
	for _, s := range c.Series {
		if s.Name != "" {
			fmt.Fprintf(&d, " %s:", s.Name)
		}
		for i := range n {
			if i > 0 {
				d.WriteString(",")
			}
			fmt.Fprintf(&d, " %s %s", names[i], formatValue(at(s.Values, i)))
		}
		d.WriteString(".")
	}
	desc := strings.TrimSpace(d.String())
	w := &svg{id: chartID(c.ID, "bar", c.Title, desc)}
	ticks := Ticks(maxOf(all...), allWhole(all...))
	if c.Horizontal {
		c.horizontal(w, n, names, entries, ticks, desc, withheld)
	} else {
		c.vertical(w, n, entries, ticks, desc, withheld)
	}
	return w.end()
}

func (c BarChart) vertical(w *svg, n int, entries []entry, ticks []float64, desc string, withheld bool) {
	p := cartesian{
		width: c.Width, height: c.Height, title: c.Title, showTitle: !c.HideTitle, yLabel: c.ValueAxis, note: c.Note,
		n: n, ticks: ticks, x: c.Categories, entries: entries, wrapLabels: true,
	}
	if c.ValueLabels {
		p.headroom = smallSize + 4
	}
	p.layout()
	w.start("bar", p.width, p.height, c.Title, desc)
	if withheld {
		w.hatchDefs()
	}
	p.drawBack(w)
	k := max(len(c.Series), 1)
	group := p.slot() * (1 - barGap)
	bw := group / float64(k)
	gap := math.Min(1.5, bw*0.1)
	for j, s := range c.Series {
		colour := s.colour(j)
		for i := range n {
			x := p.left + float64(i)*p.slot() + p.slot()*barGap/2 + float64(j)*bw
			v := at(s.Values, i)
			if math.IsNaN(v) {
				h := math.Min(stub, (p.bottom-p.top)/4)
				w.rect(x+gap/2, p.bottom-h, bw-gap, h, "fill", "url(#"+w.hatchID()+")", "stroke", mutedColour, "stroke-width", "1", "stroke-dasharray", "3 2")
				continue
			}
			y := p.yAt(v)
			w.rect(x+gap/2, y, bw-gap, p.bottom-y, "fill", colour)
			if c.ValueLabels {
				label := formatValue(v)
				if textWidth(label, smallSize) <= bw+4 {
					w.text(x+bw/2, y-3, label, "font-size", num(smallSize), "text-anchor", "middle")
				}
			}
		}
	}
	p.drawFront(w)
}

func (c BarChart) horizontal(w *svg, n int, names []string, entries []entry, ticks []float64, desc string, withheld bool) {
	width := c.Width
	if width <= 0 {
		width = defaultWidth
	}
	labelWidth := 0.0
	for _, name := range names {
		labelWidth = math.Max(labelWidth, textWidth(name, textSize))
	}
	labelWidth = math.Min(labelWidth, width*0.35)
	left := pad + labelWidth + 8
	right := width - pad - 4
	if c.ValueLabels {
		widest := 0.0
		for _, s := range c.Series {
			for _, v := range s.Values {
				if !math.IsNaN(v) {
					widest = math.Max(widest, textWidth(formatValue(v), smallSize))
				}
			}
		}
		right -= widest + 4
	}
	top := float64(pad)
	showTitle := !c.HideTitle && c.Title != ""
	if showTitle {
		top += titleSize + 6
	}
	legendTop := top
	_, _, rows := rowLayout(entries, width-2*pad)
	top += float64(rows)*legendRow + 4
	k := max(len(c.Series), 1)
	foot := smallSize + 10.0
	if c.ValueAxis != "" {
		foot += textSize + 6
	}
	if c.Note != "" {
		foot += smallSize + 6
	}
	// A category's room: its bars, 14 high, and a gap between categories.
	room := float64(k) * 14 / (1 - barGap)
	room = math.Max(room, 2*(textSize+2)+4)
	height := c.Height
	if height <= 0 {
		height = top + room*float64(n) + foot + pad
	} else {
		room = math.Max(4, (height-top-foot-pad)/float64(max(n, 1)))
	}
	bottom := top + room*float64(n)

	w.start("bar", width, height, c.Title, desc)
	if withheld {
		w.hatchDefs()
	}
	if showTitle {
		w.text(pad, pad+titleSize-2, truncate(c.Title, width-2*pad, titleSize), "font-size", num(titleSize), "font-weight", "bold")
	}
	w.drawEntries(entries, pad, legendTop, width-2*pad)
	xAt := func(v float64) float64 { return left + v/ticks[len(ticks)-1]*(right-left) }
	labels := tickLabels(ticks)
	for i, t := range ticks {
		x := xAt(t)
		if i > 0 {
			w.line(x, top, x, bottom, "stroke", gridColour, "stroke-width", "1")
		}
		w.text(x, bottom+smallSize+4, labels[i], "font-size", num(smallSize), "text-anchor", "middle", "fill", axisColour)
	}
	if c.ValueAxis != "" {
		w.text((left+right)/2, bottom+2*smallSize+10, c.ValueAxis, "text-anchor", "middle", "fill", mutedColour)
	}
	bh := room * (1 - barGap) / float64(k)
	gap := math.Min(1.5, bh*0.1)
	for i := range n {
		y0 := top + float64(i)*room
		ls := wrap(names[i], labelWidth, textSize, 2)
		ly := y0 + room/2 + 4 - float64(len(ls)-1)*(textSize+2)/2
		w.lines(left-8, ly, textSize+2, ls, "text-anchor", "end")
		for j, s := range c.Series {
			y := y0 + room*barGap/2 + float64(j)*bh
			v := at(s.Values, i)
			if math.IsNaN(v) {
				w.rect(left, y+gap/2, stub, bh-gap, "fill", "url(#"+w.hatchID()+")", "stroke", mutedColour, "stroke-width", "1", "stroke-dasharray", "3 2")
				continue
			}
			x := xAt(v)
			w.rect(left, y+gap/2, x-left, bh-gap, "fill", s.colour(j))
			if c.ValueLabels {
				w.text(x+4, y+bh/2+4, formatValue(v), "font-size", num(smallSize))
			}
		}
	}
	w.line(left, top, left, bottom, "stroke", axisColour, "stroke-width", "1")
	if c.Note != "" {
		w.text(pad, height-pad-2, truncate(c.Note, width-2*pad, smallSize), "font-size", num(smallSize), "fill", mutedColour)
	}
}
