package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// Map draws features given in longitude and latitude (WGS84) in Web Mercator,
// fitted to bounds: hexagons filled by class, area boundaries over them, labels,
// a legend and a scale bar.
//
// The features of a layer are drawn grouped by style, one path a style in the
// order the styles first appear, so a layer's features should not overlap
// (hexagons do not); layers are drawn in order. Polygons are filled even-odd,
// so their holes stay empty whichever way the rings wind.
type Map struct {
	Title         string
	Desc          string // a sentence on what it shows; the legend's counts follow it
	ID            string
	Width, Height float64 // the viewBox; 720 wide, and as high as the bounds need (at most 1.25 times the width) when Height is zero
	HideTitle     bool
	Bounds        orb.Bound // the place to show, in degrees; the layers' bounds when zero
	Margin        float64   // room around the bounds inside the frame; 8 when zero
	Layers        []Layer
	Labels        []Label
	Legend        Legend
	NoScaleBar    bool
	Note          string // a line under the map: the source, the boundaries' copyright
}

// Layer is a set of features drawn together, above the layers before it.
type Layer struct {
	Name     string // what the features are ("hexagons", "wards"), for the description
	Features []Feature
}

// Feature is a geometry and the style it is drawn in. Polygons and
// multipolygons are filled and outlined, rings and line strings outlined, points
// drawn as dots.
type Feature struct {
	Geometry orb.Geometry
	Style    Style
}

// Style is how a feature is drawn.
type Style struct {
	Fill        string  // a colour; "" for none
	Stroke      string  // the outline's colour; "" for none
	StrokeWidth float64 // in viewBox units; 0 is 1
	Dash        string  // the outline's dash pattern, as stroke-dasharray
	Hatch       bool    // hatched over the fill: a withheld value
}

// Label is a text on the map, centred on a place.
type Label struct {
	At   orb.Point
	Text string
}

// BoundaryStyle is the outline of areas drawn over hexagons, as the map draws
// them: dark grey, unfilled.
func BoundaryStyle() Style { return Style{Stroke: "#2b2b2b", StrokeWidth: 1.2} }

const (
	earthRadius = 6378137.0
	maxLat      = 85.05112878
	scaleZone   = 150 // the width kept for the scale bar beside the legend
)

// mercator projects lon, lat in degrees to Web Mercator in radians (y up).
func mercator(p orb.Point) (float64, float64) {
	lat := math.Max(-maxLat, math.Min(maxLat, p[1]))
	return p[0] * math.Pi / 180, math.Log(math.Tan(math.Pi/4 + lat*math.Pi/360))
}

// mapFrame is a map's layout.
type mapFrame struct {
	width, height       float64
	top                 float64 // of the map's frame
	mapHeight           float64
	scale               float64 // viewBox units a radian of Mercator
	x0, y0              float64 // where the bounds' west and north edges fall
	minX, maxY          float64 // the bounds' west and north in Mercator
	bounds              orb.Bound
	legendTop, legendH  float64
	footTop             float64
	showTitle, hasScale bool
}

func (m Map) frame() mapFrame {
	f := mapFrame{width: m.Width, showTitle: !m.HideTitle && m.Title != "", hasScale: !m.NoScaleBar}
	if f.width <= 0 {
		f.width = defaultWidth
	}
	margin := m.Margin
	if margin <= 0 {
		margin = 8
	}
	b := m.Bounds
	if b == (orb.Bound{}) {
		b = m.layerBounds()
	}
	f.bounds = b
	minX, minY := mercator(b.Min)
	maxX, maxY := mercator(b.Max)
	// A point, or a line along a parallel or a meridian, is shown with some room
	// around it (about a kilometre).
	const minSpan = 1.6e-4
	if maxX-minX < minSpan {
		c := (minX + maxX) / 2
		minX, maxX = c-minSpan/2, c+minSpan/2
	}
	if maxY-minY < minSpan {
		c := (minY + maxY) / 2
		minY, maxY = c-minSpan/2, c+minSpan/2
	}
	dx, dy := maxX-minX, maxY-minY
	f.minX, f.maxY = minX, maxY

	inner := f.width - 2*pad
	f.top = pad
	if f.showTitle {
		f.top += titleSize + 6
	}
	legendWidth := inner
	if f.hasScale {
		legendWidth -= scaleZone
	}
	f.legendH = legendHeight(m.Legend, legendWidth)
	foot := math.Max(f.legendH, 0)
	if f.hasScale {
		foot = math.Max(foot, 34)
	}
	if foot > 0 {
		foot += 8
	}
	if m.Note != "" {
		foot += smallSize + 6
	}
	if m.Height > 0 {
		f.height = m.Height
		f.mapHeight = math.Max(60, f.height-f.top-foot-pad)
		f.scale = math.Min((inner-2*margin)/dx, (f.mapHeight-2*margin)/dy)
	} else {
		f.scale = (inner - 2*margin) / dx
		f.mapHeight = dy*f.scale + 2*margin
		if f.mapHeight > inner*1.25 {
			f.mapHeight = inner * 1.25
			f.scale = (f.mapHeight - 2*margin) / dy
		}
	}
	f.height = math.Max(f.height, f.top+f.mapHeight+foot+pad)
	f.x0 = pad + (inner-dx*f.scale)/2
	f.y0 = f.top + (f.mapHeight-dy*f.scale)/2
	f.legendTop = f.top + f.mapHeight + 8
	f.footTop = f.legendTop
	return f
}

// project places lon, lat in the viewBox.
func (f *mapFrame) project(p orb.Point) (float64, float64) {
	x, y := mercator(p)
	return f.x0 + (x-f.minX)*f.scale, f.y0 + (f.maxY-y)*f.scale
}

// Project returns where the map draws a place given in longitude and latitude,
// in viewBox units.
func (m Map) Project(p orb.Point) (x, y float64) {
	f := m.frame()
	return f.project(p)
}

// layerBounds is the bounds of every feature of every layer.
func (m Map) layerBounds() orb.Bound {
	var b orb.Bound
	first := true
	for _, l := range m.Layers {
		for _, ft := range l.Features {
			if ft.Geometry == nil {
				continue
			}
			gb := ft.Geometry.Bound()
			if first {
				b, first = gb, false
			} else {
				b = b.Union(gb)
			}
		}
	}
	return b
}

// SVG draws the map.
func (m Map) SVG() template.HTML {
	f := m.frame()
	var d strings.Builder
	if m.Desc != "" {
		d.WriteString(strings.TrimSpace(m.Desc))
		d.WriteString(" ")
	}
	m.describe(&d)
	desc := strings.TrimSpace(d.String())

	w := &svg{id: chartID(m.ID, "map", m.Title, desc)}
	w.start("map", f.width, f.height, m.Title, desc)
	hatch := m.Legend.usesHatch()
	for _, l := range m.Layers {
		for _, ft := range l.Features {
			hatch = hatch || ft.Style.Hatch
		}
	}
	w.open("defs")
	w.open("clipPath", "id", w.id+"-clip")
	w.rect(pad, f.top, f.width-2*pad, f.mapHeight)
	w.close("clipPath")
	w.close("defs")
	if hatch {
		w.hatchDefs()
	}
	if f.showTitle {
		w.text(pad, pad+titleSize-2, truncate(m.Title, f.width-2*pad, titleSize), "font-size", num(titleSize), "font-weight", "bold")
	}
	// The visible place, a little beyond the frame, to leave out what is not in it.
	// Without bounds, everything is in view.
	view := orb.Bound{Min: f.unproject(pad-20, f.top+f.mapHeight+20), Max: f.unproject(f.width-pad+20, f.top-20)}
	clip := m.Bounds != (orb.Bound{})
	w.open("g", "clip-path", "url(#"+w.id+"-clip)", "stroke-linejoin", "round")
	for _, l := range m.Layers {
		var styles []Style
		groups := map[Style]*pathBuf{}
		for _, ft := range l.Features {
			if ft.Geometry == nil || clip && !ft.Geometry.Bound().Intersects(view) {
				continue
			}
			g := groups[ft.Style]
			if g == nil {
				g = &pathBuf{}
				groups[ft.Style] = g
				styles = append(styles, ft.Style)
			}
			g.geometry(&f, ft.Geometry)
		}
		for _, s := range styles {
			g := groups[s]
			if len(g.b) == 0 {
				continue
			}
			fill := paint(s.Fill)
			if fill == "" {
				fill = "none"
			}
			sw := s.StrokeWidth
			if sw == 0 {
				sw = 1
			}
			stroke := paint(s.Stroke)
			w.path(g.b, "fill", fill, "fill-rule", "evenodd", "stroke", stroke, "stroke-width", strokeIf(stroke, sw), "stroke-dasharray", dash(s.Dash))
			if s.Hatch {
				w.path(g.b, "fill", "url(#"+w.hatchID()+")", "fill-rule", "evenodd")
			}
		}
	}
	for _, lb := range m.Labels {
		x, y := f.project(lb.At)
		w.text(x, y+4, lb.Text, "text-anchor", "middle", "font-weight", "bold", "stroke", "#ffffff", "stroke-width", "3", "paint-order", "stroke", "stroke-linejoin", "round")
	}
	w.close("g")
	w.rect(pad, f.top, f.width-2*pad, f.mapHeight, "fill", "none", "stroke", frameColour, "stroke-width", "1")

	legendWidth := f.width - 2*pad
	if f.hasScale {
		legendWidth -= scaleZone
		m.drawScaleBar(w, &f)
	}
	w.drawLegendBlock(m.Legend, pad, f.legendTop, legendWidth)
	if m.Note != "" {
		w.text(pad, f.height-pad-2, truncate(m.Note, f.width-2*pad, smallSize), "font-size", num(smallSize), "fill", mutedColour)
	}
	return w.end()
}

// unproject is the place drawn at x, y.
func (f *mapFrame) unproject(x, y float64) orb.Point {
	mx := f.minX + (x-f.x0)/f.scale
	my := f.maxY - (y-f.y0)/f.scale
	lat := (2*math.Atan(math.Exp(my)) - math.Pi/2) * 180 / math.Pi
	return orb.Point{mx * 180 / math.Pi, lat}
}

// scaleLength is the length of the scale bar in metres, about a fifth of the
// map's width or less, and its label.
func (f *mapFrame) scaleLength() (metres float64, label string) {
	lat := f.bounds.Center()[1]
	perUnit := earthRadius * math.Cos(lat*math.Pi/180) / f.scale
	target := math.Min(0.2*(f.width-2*pad), scaleZone-20) * perUnit
	if !(target > 0) || math.IsInf(target, 0) {
		return 0, ""
	}
	p := math.Pow(10, math.Floor(math.Log10(target)))
	metres = p
	for _, m := range [...]float64{5, 2, 1} {
		if m*p <= target {
			metres = m * p
			break
		}
	}
	if metres >= 1000 {
		return metres, formatNumber(metres/1000, decimals(metres/1000)) + " km"
	}
	return metres, formatNumber(metres, decimals(metres)) + " m"
}

func (m Map) drawScaleBar(w *svg, f *mapFrame) {
	metres, label := f.scaleLength()
	if metres == 0 {
		return
	}
	lat := f.bounds.Center()[1]
	length := metres / (earthRadius * math.Cos(lat*math.Pi/180) / f.scale)
	x := f.width - pad - length - textWidth(label, smallSize)/2 - 2
	y := f.legendTop + 6
	w.rect(x, y, length/2, 5, "fill", inkColour, "stroke", inkColour, "stroke-width", "1")
	w.rect(x+length/2, y, length/2, 5, "fill", "#ffffff", "stroke", inkColour, "stroke-width", "1")
	w.text(x, y+18, "0", "font-size", num(smallSize), "text-anchor", "middle")
	w.text(x+length, y+18, label, "font-size", num(smallSize), "text-anchor", "middle")
}

// describe says in words what the map shows: its layers, and how many features
// each swatch of the legend colours.
func (m Map) describe(b *strings.Builder) {
	b.WriteString("Map")
	var parts []string
	for _, l := range m.Layers {
		if l.Name != "" {
			parts = append(parts, fmt.Sprintf("%s %s", formatNumber(float64(len(l.Features)), 0), l.Name))
		}
	}
	if len(parts) > 0 {
		b.WriteString(" of ")
		b.WriteString(strings.Join(parts, " and "))
	}
	b.WriteString(".")
	if len(m.Legend.Items) > 0 {
		b.WriteString(" ")
		if m.Legend.Title != "" {
			b.WriteString(m.Legend.Title)
		} else {
			b.WriteString("Legend")
		}
		b.WriteString(":")
		for i, it := range m.Legend.Items {
			n := 0
			for _, l := range m.Layers {
				for _, ft := range l.Features {
					if it.Fill != "" && ft.Style.Fill == it.Fill && ft.Style.Hatch == it.Hatch {
						n++
					}
				}
			}
			if i > 0 {
				b.WriteString(";")
			}
			if it.Fill != "" {
				fmt.Fprintf(b, " %s, %s", it.Label, formatNumber(float64(n), 0))
			} else {
				fmt.Fprintf(b, " %s", it.Label)
			}
		}
		b.WriteString(".")
	}
	if m.Legend.Note != "" {
		b.WriteString(" ")
		b.WriteString(m.Legend.Note)
	}
}

// pathBuf builds one path from many geometries, in tenths of a unit: each ring
// or line starts with a move relative to the end of the last, then relative
// lines, so that a hexagon takes some fifty bytes.
type pathBuf struct {
	b      []byte
	cx, cy int64 // the current point, in tenths
	moved  bool
	pts    [][2]int64
}

func (g *pathBuf) geometry(f *mapFrame, geom orb.Geometry) {
	switch v := geom.(type) {
	case orb.Polygon:
		for _, r := range v {
			g.ring(f, r, true)
		}
	case orb.MultiPolygon:
		for _, p := range v {
			for _, r := range p {
				g.ring(f, r, true)
			}
		}
	case orb.Ring:
		g.ring(f, v, true)
	case orb.LineString:
		g.ring(f, orb.Ring(v), false)
	case orb.MultiLineString:
		for _, l := range v {
			g.ring(f, orb.Ring(l), false)
		}
	case orb.Bound:
		g.ring(f, v.ToRing(), true)
	case orb.Point:
		g.dot(f, v)
	case orb.MultiPoint:
		for _, p := range v {
			g.dot(f, p)
		}
	case orb.Collection:
		for _, c := range v {
			g.geometry(f, c)
		}
	}
}

// ring appends a ring (closed) or a line.
func (g *pathBuf) ring(f *mapFrame, r orb.Ring, closed bool) {
	g.pts = g.pts[:0]
	for _, p := range r {
		x, y := f.project(p)
		t := [2]int64{tenths(x), tenths(y)}
		if n := len(g.pts); n > 0 && g.pts[n-1] == t {
			continue
		}
		g.pts = append(g.pts, t)
	}
	if closed && len(g.pts) > 1 && g.pts[0] == g.pts[len(g.pts)-1] {
		g.pts = g.pts[:len(g.pts)-1]
	}
	if len(g.pts) < 2 || closed && len(g.pts) < 3 {
		return
	}
	g.moveTo(g.pts[0])
	g.b = append(g.b, 'l')
	for i, p := range g.pts[1:] {
		g.b = appendDelta(g.b, p[0]-g.cx, p[1]-g.cy, i > 0)
		g.cx, g.cy = p[0], p[1]
	}
	if closed {
		g.b = append(g.b, 'z')
		g.cx, g.cy = g.pts[0][0], g.pts[0][1]
	}
}

func (g *pathBuf) moveTo(p [2]int64) {
	if g.moved {
		g.b = append(g.b, 'm')
		g.b = appendDelta(g.b, p[0]-g.cx, p[1]-g.cy, false)
	} else {
		g.b = append(g.b, 'M')
		g.b = appendDelta(g.b, p[0], p[1], false)
		g.moved = true
	}
	g.cx, g.cy = p[0], p[1]
}

// dot appends a dot of radius 3 at a point.
func (g *pathBuf) dot(f *mapFrame, p orb.Point) {
	x, y := f.project(p)
	c := [2]int64{tenths(x) - 30, tenths(y)}
	g.moveTo(c)
	g.b = append(g.b, "a3 3 0 1 0 6 0a3 3 0 1 0-6 0z"...)
}

// appendDelta appends a pair of tenths; sep says a number precedes it.
func appendDelta(b []byte, dx, dy int64, sep bool) []byte {
	if sep && dx >= 0 {
		b = append(b, ' ')
	}
	b = appendTenths(b, dx)
	if dy >= 0 {
		b = append(b, ' ')
	}
	return appendTenths(b, dy)
}
