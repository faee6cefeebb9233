package chart

import (
	"html/template"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// noise is a deterministic stand-in for random numbers in [0, 1): the same on
// every machine and every version of Go.
func noise(i, salt int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 + uint64(salt)*0xBF58476D1CE4E5B9
	x ^= x >> 31
	x *= 0x94D049BB133111EB
	x ^= x >> 29
	return float64(x>>11) / (1 << 53)
}

func months(from time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.AddDate(0, i, 0)
	}
	return out
}

func days(from time.Time, n, step int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.AddDate(0, 0, i*step)
	}
	return out
}

var nan = math.NaN()

// example is a chart of the golden files and of the example page.
type example struct {
	name  string
	chart interface{ SVG() template.HTML }
}

func strandsLine() LineChart {
	strands := []string{"Race", "Religion", "Sexual orientation", "Disability", "Transgender"}
	c := LineChart{
		Title:  "Reports a month by strand, 2023 and 2024",
		Desc:   "Monthly counts of hate crimes and incidents for each strand.",
		Times:  months(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), 24),
		YLabel: "Reports a month",
		Markers: []Marker{
			{At: 14, Label: "Trigger event"},
		},
		Bands: []Band{{From: 18, To: 20, Label: "Summer campaign"}},
		Note:  "Source: tensionmap. Counts from 1 to 2 are withheld.",
	}
	base := []float64{60, 22, 14, 9, 5}
	for s, name := range strands {
		vs := make([]float64, 24)
		for i := range vs {
			vs[i] = math.Round(base[s] * (0.75 + 0.5*noise(i, s) + 0.3*math.Sin(float64(i)/3)))
			if i == 14 && s < 2 {
				vs[i] *= 1.8
			}
		}
		if s == 4 {
			vs[3], vs[9], vs[10], vs[16] = nan, nan, nan, nan
		}
		c.Series = append(c.Series, Series{Name: name, Values: vs})
	}
	return c
}

func dailyLine() LineChart {
	n := 730
	c := LineChart{
		Title:  "Reports a day, two years",
		Times:  days(time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), n, 1),
		YLabel: "Reports a day",
	}
	// Seven-day means of daily counts.
	rawA, rawB := make([]float64, n+6), make([]float64, n+6)
	for i := range rawA {
		rawA[i] = math.Round(4 + 3*noise(i, 7) + 2*math.Sin(float64(i)/58))
		rawB[i] = math.Round(1 + 2*noise(i, 8))
	}
	a, b := make([]float64, n), make([]float64, n)
	for i := range n {
		for j := range 7 {
			a[i] += rawA[i+j] / 7
			b[i] += rawB[i+j] / 7
		}
		a[i], b[i] = math.Round(a[i]*100)/100, math.Round(b[i]*100)/100
		if i >= 400 && i < 430 {
			b[i] = nan
		}
	}
	c.Series = []Series{{Name: "Crimes (7-day mean)", Values: a}, {Name: "Incidents (7-day mean)", Values: b}}
	return c
}

func yearsBar() BarChart {
	return BarChart{
		Title:       "Reports by strand: this year against last year",
		Categories:  []string{"Race", "Religion", "Sexual orientation", "Disability", "Transgender", "Sex", "Alternative subculture"},
		Series:      []Series{{Name: "Last year", Values: []float64{412, 131, 96, 58, 24, nan, 0}}, {Name: "This year", Values: []float64{465, 188, 90, 61, 31, 5, nan}}},
		ValueLabels: true,
		ValueAxis:   "Reports",
		Note:        "Counts rounded to multiples of 5 for strategic users.",
	}
}

func areasBar() BarChart {
	return BarChart{
		Title:      "Rate per 1,000 residents by ward",
		Categories: []string{"Bletchley East", "Central Milton Keynes", "Wolverton and Greenleys", "Stantonbury", "Newport Pagnell North and Hanslope", "Olney"},
		Series:     []Series{{Name: "Rate per 1,000", Values: []float64{4.21, 7.9, 2.35, 3.1, nan, 0.48}}},
		Horizontal: true, ValueLabels: true,
		ValueAxis: "Reports per 1,000 residents, last 12 months",
	}
}

func upliftObserved() ObservedExpected {
	n := 42
	c := ObservedExpected{
		Title:    "Trigger event: reports a day before and after",
		Times:    days(time.Date(2024, 7, 15, 0, 0, 0, 0, time.UTC), n, 1),
		Markers:  []Marker{{At: 28, Label: "Event: 12 Aug 2024"}},
		Bands:    []Band{{From: 28, To: 41, Label: "14 days after"}},
		YLabel:   "Reports a day",
		Observed: make([]float64, n), Expected: make([]float64, n), Threshold: make([]float64, n),
	}
	for i := range n {
		c.Expected[i] = 3.2 + 0.4*math.Sin(float64(i)/4)
		c.Threshold[i] = c.Expected[i] + 2*math.Sqrt(c.Expected[i]) + 1
		c.Observed[i] = math.Round(c.Expected[i] + 3*(noise(i, 3)-0.5))
		if i >= 28 && i < 33 {
			c.Observed[i] += float64(12 - 2*(i-28))
		}
	}
	c.Observed[10] = nan
	return c
}

func alertWeekly() ObservedExpected {
	n := 26
	c := ObservedExpected{
		Title:    "Alert evidence: reports a week in Bletchley East",
		Times:    days(time.Date(2024, 1, 7, 0, 0, 0, 0, time.UTC), n, 7),
		Markers:  []Marker{{At: 24, Label: "Alert raised"}},
		Observed: make([]float64, n), Expected: make([]float64, n), Threshold: make([]float64, n),
	}
	for i := range n {
		c.Expected[i] = 6 + float64(i)/10
		c.Threshold[i] = c.Expected[i] * 1.9
		c.Observed[i] = math.Round(c.Expected[i] * (0.6 + 0.8*noise(i, 5)))
	}
	c.Observed[23], c.Observed[24] = 17, 21
	c.Expected[0], c.Threshold[0], c.Threshold[1] = nan, nan, nan
	return c
}

// hexagons returns the cells of a disk of k rings around Bletchley at
// resolution res, sorted, and each one's polygon.
func hexagons(k, res int) ([]h3.Cell, []orb.Polygon) {
	cells := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), res).GridDisk(k)
	slices.Sort(cells)
	polys := make([]orb.Polygon, len(cells))
	for i, c := range cells {
		b := c.Boundary()
		r := make(orb.Ring, 0, len(b)+1)
		for _, p := range b {
			r = append(r, orb.Point{p.Lng, p.Lat})
		}
		r = append(r, r[0])
		polys[i] = orb.Polygon{r}
	}
	return cells, polys
}

// countMap is a count map of the hexagons of k rings, with a few withheld, two
// area outlines and labels.
func countMap(k int) Map {
	cells, polys := hexagons(k, 9)
	values := make([]float64, len(cells))
	centre := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 9)
	for i, c := range cells {
		d := float64(h3.GridDistance(centre, c))
		values[i] = math.Floor(40 * math.Exp(-d/5) * (0.4 + 1.2*noise(i, 11)))
		if values[i] > 0 && values[i] < 3 && noise(i, 12) < 0.5 {
			values[i] = nan
		}
	}
	classes := Classify(values, ClassOptions{Classes: 5, Integer: true})
	hex := Layer{Name: "hexagons"}
	for i, p := range polys {
		if values[i] == 0 {
			continue
		}
		hex.Features = append(hex.Features, Feature{Geometry: p, Style: classes.Style(values[i])})
	}
	// Two areas: the west and east halves of the disk, cut along the centre's longitude.
	b := orb.MultiPolygon{}
	for _, p := range polys {
		b = append(b, p)
	}
	bb := b.Bound()
	mid := -0.76
	west := orb.Polygon{{{bb.Min[0], bb.Min[1]}, {mid, bb.Min[1]}, {mid + 0.01, bb.Max[1]}, {bb.Min[0], bb.Max[1]}, {bb.Min[0], bb.Min[1]}}}
	east := orb.Polygon{{{mid, bb.Min[1]}, {bb.Max[0], bb.Min[1]}, {bb.Max[0], bb.Max[1]}, {mid + 0.01, bb.Max[1]}, {mid, bb.Min[1]}}}
	areas := Layer{Name: "wards", Features: []Feature{{Geometry: west, Style: BoundaryStyle()}, {Geometry: east, Style: BoundaryStyle()}}}
	l := classes.Legend("Reports per hexagon (H3 resolution 9), last 12 months")
	l.Note = "Counts from 1 to 2 are withheld."
	return Map{
		Title:  "Reports per hexagon, last 12 months",
		Layers: []Layer{hex, areas},
		Labels: []Label{{At: orb.Point{-0.80, 52.06}, Text: "West ward"}, {At: orb.Point{-0.72, 52.06}, Text: "East ward"}},
		Legend: l,
		Note:   "Boundaries: Office for National Statistics, Open Government Licence.",
	}
}

// bigMap is a count map of every hexagon of k rings at resolution 9 (3k(k+1)+1
// of them: 2,977 for 31 rings), a few withheld, with two area outlines.
func bigMap(k int) Map {
	cells, polys := hexagons(k, 9)
	values := make([]float64, len(cells))
	centre := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 9)
	for i, c := range cells {
		d := float64(h3.GridDistance(centre, c))
		values[i] = math.Floor(1 + 60*math.Exp(-d/10)*(0.4+1.2*noise(i, 13)))
		if values[i] < 3 && noise(i, 14) < 0.5 {
			values[i] = nan
		}
	}
	classes := Classify(values, ClassOptions{Classes: 6, Integer: true})
	hex := Layer{Name: "hexagons"}
	for i, p := range polys {
		hex.Features = append(hex.Features, Feature{Geometry: p, Style: classes.Style(values[i])})
	}
	m := countMap(k)
	m.Layers[0] = hex
	m.Legend = classes.Legend("Reports per hexagon (H3 resolution 9)")
	m.Labels = nil
	return m
}

func categoryMap() Map {
	cells, polys := hexagons(12, 8)
	names := []string{"new_hot_spot", "consecutive_hot_spot", "intensifying_hot_spot", "persistent_hot_spot", "diminishing_hot_spot",
		"sporadic_hot_spot", "oscillating_hot_spot", "historical_hot_spot", "persistent_cold_spot", "no_pattern"}
	hex := Layer{Name: "hexagons"}
	for i := range cells {
		r := noise(i, 21)
		name := "no_pattern"
		if r < 0.45 {
			name = names[int(noise(i, 22)*float64(len(names)))]
		}
		hex.Features = append(hex.Features, Feature{Geometry: polys[i], Style: CategoryStyle(name)})
	}
	return Map{
		Title:  "Emerging hot spots, last 52 weeks",
		Height: 520,
		Layers: []Layer{hex},
		Legend: CategoryLegend(),
	}
}

// holeMap is a square with a square hole, and a line across.
func holeMap() Map {
	outer := orb.Ring{{0, 0}, {0.02, 0}, {0.02, 0.02}, {0, 0.02}, {0, 0}}
	hole := orb.Ring{{0.005, 0.005}, {0.005, 0.015}, {0.015, 0.015}, {0.015, 0.005}, {0.005, 0.005}}
	return Map{
		Title:  "A polygon with a hole",
		Width:  300,
		Height: 300,
		Layers: []Layer{
			{Name: "areas", Features: []Feature{{Geometry: orb.Polygon{outer, hole}, Style: Style{Fill: Categorical(0), Stroke: inkColour}}}},
			{Name: "lines", Features: []Feature{{Geometry: orb.LineString{{-0.001, 0.01}, {0.021, 0.01}}, Style: Style{Stroke: Categorical(1), StrokeWidth: 2, Dash: "4 2"}}}},
		},
		Legend:     Legend{Items: []LegendItem{{Label: "Area", Fill: Categorical(0), Stroke: inkColour}, {Label: "Line", Stroke: Categorical(1), StrokeWidth: 2, Dash: "4 2", Line: true}}},
		NoScaleBar: true,
	}
}

const hostile = `</svg><script>alert("x")</script> & 'y' <b>`

func hostileCharts() []example {
	return []example{
		{"hostile-line", LineChart{Title: hostile, Desc: hostile, X: []string{hostile, "b"}, Series: []Series{{Name: hostile, Values: []float64{1, 2}}}, YLabel: hostile, Markers: []Marker{{At: 1, Label: hostile}}, Note: hostile, ID: `"><script>`}},
		{"hostile-bar", BarChart{Title: hostile, Categories: []string{hostile}, Series: []Series{{Name: hostile, Values: []float64{3}, Color: `red"/><script>`}}, ValueAxis: hostile}},
		{"hostile-map", Map{Title: hostile, Layers: []Layer{{Name: hostile, Features: []Feature{{Geometry: orb.Point{0, 0}, Style: Style{Fill: `#000" onload="x`}}}}}, Labels: []Label{{At: orb.Point{0, 0}, Text: hostile}}, Legend: Legend{Title: hostile, Items: []LegendItem{{Label: hostile, Fill: "#000"}}}}},
	}
}

func examples() []example {
	return []example{
		{"line-strands", strandsLine()},
		{"line-daily", dailyLine()},
		{"bar-years", yearsBar()},
		{"bar-horizontal", areasBar()},
		{"observed-uplift", upliftObserved()},
		{"observed-alert", alertWeekly()},
		{"map-counts", countMap(12)},
		{"map-categories", categoryMap()},
		{"map-hole", holeMap()},
	}
}
