package web

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/web/chart"
)

// The printable pages' charts and maps, drawn as SVG on the server from what the
// caller may see (a withheld count is a gap, never a zero).

func countValue(n *int) float64 {
	if n == nil {
		return math.NaN()
	}
	return float64(*n)
}

func roundingNote(d disclosure) string {
	if d.exact {
		return ""
	}
	return fmt.Sprintf("Counts are perturbed slightly; fewer than %d (or none) are withheld; others are rounded to a multiple of %d.", d.k, d.roundTo)
}

// reviewCharts draws the review's charts: monthly counts by strand over two
// years, this period against a year earlier by strand, and the hot spot and
// emerging hot spot maps of the period.
func (s *Server) reviewCharts(ctx context.Context, rv *geo.Review, view reviewJSON, hs *tension.Report, d disclosure) map[string]template.HTML {
	out := map[string]template.HTML{}
	note := roundingNote(d)

	// Monthly by strand.
	var times []time.Time
	for _, m := range rv.Months {
		times = append(times, m.Month)
	}
	line := chart.LineChart{Title: "Reports each month by strand, over two years", ID: "months",
		Desc: "Monthly counts of hate crimes and hate incidents for each strand, and all strands together.", Times: times,
		YLabel: "Reports a month", Note: note}
	total := chart.Series{Name: "All strands", Color: "#000000"}
	for _, m := range view.Months {
		total.Values = append(total.Values, countValue(m["total"].(*int)))
	}
	line.Series = append(line.Series, total)
	for _, st := range rv.Strands {
		ser := chart.Series{Name: words(st)}
		for _, m := range view.Months {
			ser.Values = append(ser.Values, countValue(m[st].(*int)))
		}
		line.Series = append(line.Series, ser)
	}
	out["MonthsSVG"] = line.SVG()

	// Year on year by strand.
	bar := chart.BarChart{Title: "This period against the same period a year earlier, by strand", ID: "yoy", Horizontal: true, ValueLabels: true,
		Desc:      fmt.Sprintf("Reports by strand from %s to %s, and from %s to %s.", view.From, view.To, view.PreviousFrom, view.PreviousTo),
		ValueAxis: "Reports", Note: note}
	cur, prev := chart.Series{Name: view.From + " to " + view.To}, chart.Series{Name: view.PreviousFrom + " to " + view.PreviousTo}
	for _, f := range view.Strands {
		bar.Categories = append(bar.Categories, f.Label)
		cur.Values = append(cur.Values, countValue(f.Count))
		prev.Values = append(prev.Values, countValue(f.Previous))
	}
	bar.Series = []chart.Series{cur, prev}
	out["YoYSVG"] = bar.SVG()

	// The hot spot maps.
	areas, err := s.areasOf(ctx, mustVersion(s, ctx))
	if err == nil && hs != nil {
		boundaries := boundaryLayer(areas, coarsestLevel(areas))
		var gi, emerging chart.Layer
		gi.Name, emerging.Name = "hexagons", "hexagons"
		for _, h := range hs.Hotspots {
			poly := geo.CellPolygon(h.Cell)
			if h.Confidence != 0 {
				gi.Features = append(gi.Features, chart.Feature{Geometry: poly, Style: chart.Style{Fill: chart.ConfidenceColor(h.Confidence), Stroke: "#ffffff", StrokeWidth: 0.3}})
			}
			if h.Category != "" && h.Category != tension.CategoryNoPattern {
				emerging.Features = append(emerging.Features, chart.Feature{Geometry: poly, Style: chart.CategoryStyle(string(h.Category))})
			}
		}
		bound, _ := geo.AreasBound(areas)
		mapNote := fmt.Sprintf("H3 resolution %d hexagons, Gi* over the period's reports with each hexagon and its neighbours; FDR-corrected.", hs.HotspotRes)
		giMap := chart.Map{Title: "Hot and cold spots of the period (Getis-Ord Gi*)", ID: "gimap", Bounds: bound,
			Desc:   "Hexagons where reports cluster more (hot) or less (cold) than chance would give, at 90, 95 and 99% confidence.",
			Layers: []chart.Layer{gi, boundaries}, Legend: chart.ConfidenceLegend(), Note: mapNote}
		out["HotspotSVG"] = giMap.SVG()
		emNote := fmt.Sprintf("%d weeks ending %s; hexagons with no pattern are left out.", max(10, (int(rv.Query.To.Sub(rv.Query.From).Hours()/24)+7)/7), view.To)
		if !d.exact && !hs.HotspotTo.IsZero() {
			first, last, weeks := PublishedWeeks(hs.HotspotFrom, hs.HotspotTo)
			emNote = fmt.Sprintf("%d calendar weeks, %s, from each hexagon's published weekly counts (as the map's panel gives them); hexagons with no pattern are left out.",
				weeks, tension.DayRange(first, last))
		}
		emMap := chart.Map{Title: "Emerging hot spots over the period's weeks", ID: "emmap", Bounds: bound,
			Desc:   "The emerging hot spot pattern of each hexagon, from its Gi* week by week and the Mann-Kendall trend.",
			Layers: []chart.Layer{emerging, boundaries}, Legend: chart.CategoryLegend(),
			Note: emNote}
		out["EmergingSVG"] = emMap.SVG()
	}
	return out
}

func mustVersion(s *Server, ctx context.Context) string {
	v, _ := s.dataVersion(ctx)
	return v
}

// coarsestLevel is the level with the fewest areas (wards rather than LSOAs): its
// boundaries keep a town map readable.
func coarsestLevel(areas []geo.Area) string {
	n := map[string]int{}
	for _, a := range areas {
		n[a.Level]++
	}
	best := ""
	for l, c := range n {
		if best == "" || c < n[best] || c == n[best] && l < best {
			best = l
		}
	}
	return best
}

func boundaryLayer(areas []geo.Area, level string) chart.Layer {
	l := chart.Layer{Name: level + " boundaries"}
	for _, a := range areas {
		if a.Level == level && len(a.Geometry) > 0 {
			l.Features = append(l.Features, chart.Feature{Geometry: a.Geometry, Style: chart.BoundaryStyle()})
		}
	}
	return l
}

// eventChart draws a trigger event's daily counts around its day, beside the same
// days a year earlier.
func eventChart(e *tension.TriggerEventDetail, daily map[string]any, d disclosure) template.HTML {
	days, _ := daily["days"].([]map[string]any)
	if len(days) == 0 {
		return ""
	}
	c := chart.ObservedExpected{Title: "Reports each day around the event", ID: "eventdaily", YLabel: "Reports a day", Note: roundingNote(d),
		ExpectedLabel: "The same days a year earlier"}
	first, _ := time.Parse(time.DateOnly, days[0]["day"].(string))
	last, _ := time.Parse(time.DateOnly, days[len(days)-1]["day"].(string))
	c.Desc = "Reports a day over the " + tension.DaysWord(len(days)) + " " + tension.DayRange(first, last) + ", around the event on " +
		e.Day.Format("2 Jan 2006") + ", with the same days a year earlier as a line."
	for i, row := range days {
		t, _ := time.Parse(time.DateOnly, row["day"].(string))
		c.Times = append(c.Times, t)
		c.Observed = append(c.Observed, countValue(row["count"].(*int)))
		c.Expected = append(c.Expected, countValue(row["year_before"].(*int)))
		if t.Equal(e.Day) {
			c.Markers = append(c.Markers, chart.Marker{At: i, Label: "the event"})
			// The band says the days there are: fewer than two weeks while the event is recent.
			to := min(i+13, len(days)-1)
			label := "the two weeks from the event"
			switch n := to - i + 1; {
			case n == 1:
				label = "the event day"
			case n < 14:
				label = "the " + tension.DaysWord(n) + " since the event"
			}
			c.Bands = append(c.Bands, chart.Band{From: i, To: to, Label: label})
		}
	}
	return c.SVG()
}

// assessmentMap draws an assessment's place: its hexagons or its areas over the
// boundaries around them.
func (s *Server) assessmentMap(ctx context.Context, a *tension.Assessment) (template.HTML, string) {
	version, err := s.dataVersion(ctx)
	if err != nil {
		return "", ""
	}
	areas, err := s.areasOf(ctx, version)
	if err != nil {
		return "", ""
	}
	var focus chart.Layer
	focus.Name = "the assessment's place"
	style := chart.TensionStyle(a.TensionLevel)
	if style.Fill == "" {
		style.Fill = "#E69F00"
	}
	for _, c := range a.Cells {
		focus.Features = append(focus.Features, chart.Feature{Geometry: geo.CellPolygon(c), Style: style})
	}
	caption := ""
	if len(a.Cells) > 0 {
		caption = fmt.Sprintf("The alert's %d hexagons", len(a.Cells))
		if len(a.Cells) == 1 {
			caption = "The alert's hexagon"
		}
	}
	for _, ar := range areas {
		for _, code := range a.Areas {
			if ar.Code == code && len(a.Cells) == 0 {
				focus.Features = append(focus.Features, chart.Feature{Geometry: ar.Geometry, Style: style})
				caption = "The assessment's areas"
			}
		}
	}
	room := 0.6
	if len(focus.Features) == 0 && a.Citywide() && a.TriggerKind == tension.TriggerKindAlert {
		// A citywide alert's assessment: the whole area is its place, outlined and
		// lightly shaded so that the boundaries inside it still show.
		outline, err := s.areasOutline(ctx, version)
		if err != nil || len(outline) == 0 {
			return "", ""
		}
		st := chart.TensionStyle(a.TensionLevel)
		st.Fill = st.Stroke + "40" // the tension colour, a quarter opaque
		focus.Features = append(focus.Features, chart.Feature{Geometry: outline, Style: st})
		caption = "Citywide: the whole area"
		room = 0.08
	}
	if len(focus.Features) == 0 {
		return "", ""
	}
	var bound orb.Bound
	if len(a.BBox) == 4 {
		bound = orb.Bound{Min: orb.Point{a.BBox[0], a.BBox[1]}, Max: orb.Point{a.BBox[2], a.BBox[3]}}
	} else {
		for i, f := range focus.Features {
			if i == 0 {
				bound = f.Geometry.Bound()
			} else {
				bound = bound.Union(f.Geometry.Bound())
			}
		}
	}
	// Room around the place to see where it is.
	dx, dy := (bound.Max[0]-bound.Min[0])*room+0.01, (bound.Max[1]-bound.Min[1])*room+0.006
	bound = orb.Bound{Min: orb.Point{bound.Min[0] - dx, bound.Min[1] - dy}, Max: orb.Point{bound.Max[0] + dx, bound.Max[1] + dy}}
	var context chart.Layer
	context.Name = "boundaries"
	for _, ar := range areas {
		if ar.Level == finestLevel(areas) && len(ar.Geometry) > 0 && intersectsBound(ar.Geometry.Bound(), bound) {
			context.Features = append(context.Features, chart.Feature{Geometry: ar.Geometry, Style: chart.Style{Stroke: "#777777", StrokeWidth: 0.6}})
		}
	}
	m := chart.Map{Title: "Where", ID: "place", HideTitle: true, Bounds: bound, Height: 360,
		Desc:   caption + ", with the surrounding area boundaries.",
		Layers: []chart.Layer{context, focus}, Legend: chart.TensionLegend()}
	return m.SVG(), caption + ", tension level by colour."
}

func intersectsBound(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && b.Min[0] <= a.Max[0] && a.Min[1] <= b.Max[1] && b.Min[1] <= a.Max[1]
}

// evidenceChart draws an alert's evidence series: observed against expected, with
// the threshold.
func evidenceChart(ev map[string]any) template.HTML {
	series, _ := ev["series"].([]any)
	if len(series) == 0 {
		return ""
	}
	c := chart.ObservedExpected{Title: "The alert's evidence: observed against expected", ID: "evidence", YLabel: "Reports",
		Desc: "The counts that raised the alert, against what was expected from the baseline, with the threshold where the method has one."}
	for _, p := range series {
		pt, ok := p.(map[string]any)
		if !ok {
			continue
		}
		day, _ := pt["day"].(string)
		t, err := time.Parse(time.RFC3339, day)
		if err != nil {
			t, _ = time.Parse(time.DateOnly, day)
		}
		c.Times = append(c.Times, t)
		c.Observed = append(c.Observed, floatOr(pt["observed"]))
		c.Expected = append(c.Expected, floatOr(pt["expected"]))
		c.Threshold = append(c.Threshold, floatOr(pt["upper"]))
	}
	return c.SVG()
}

func floatOr(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return math.NaN()
}

// dailyEvidenceChart draws, for an alert's evidence that carries no series (a rise
// after a trigger event is one test over a window), the reports of each day from
// the baseline's first day to the window's last against the expected daily count:
// the alert's expected count spread over its window's days. Counts are shown as
// the user may see them; a withheld day is left as a gap.
func (s *Server) dailyEvidenceChart(ctx context.Context, d disclosure, ev map[string]any, strands []string) template.HTML {
	str := func(k string) string { v, _ := ev[k].(string); return v }
	from, err1 := time.Parse(time.DateOnly, str("window_from"))
	to, err2 := time.Parse(time.DateOnly, str("window_to"))
	expected, ok := ev["expected"].(float64)
	if err1 != nil || err2 != nil || !ok || to.Before(from) {
		return ""
	}
	days := int(to.Sub(from).Hours()/24) + 1
	if days > 366 {
		return ""
	}
	// The four weeks before the window show what it rose from.
	start := from.AddDate(0, 0, -28)
	f := geo.Filter{Strands: strands}
	counts, err := s.store.DailyCounts(ctx, f, start, to)
	if err != nil {
		return ""
	}
	d = d.in("day", s.filterScope(f))
	perDay := expected / float64(days)
	c := chart.ObservedExpected{Title: "Reports each day against the expected daily count", ID: "evidence", YLabel: "Reports a day",
		Desc: fmt.Sprintf("Reports of each day from %s to %s; the expected line is the alert's expected count spread evenly over the %s of its window.",
			start.Format("2 Jan 2006"), to.Format("2 Jan 2006"), tension.DaysWord(days))}
	for i, n := range counts {
		day := start.AddDate(0, 0, i)
		c.Times = append(c.Times, day)
		if shown := d.count(n, day.Format(time.DateOnly)); shown != nil {
			c.Observed = append(c.Observed, float64(*shown))
		} else {
			c.Observed = append(c.Observed, math.NaN())
		}
		if day.Before(from) {
			c.Expected = append(c.Expected, math.NaN())
		} else {
			c.Expected = append(c.Expected, perDay)
		}
		c.Threshold = append(c.Threshold, math.NaN())
	}
	return c.SVG()
}
