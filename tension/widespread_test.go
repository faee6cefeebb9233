package tension

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// boroughs is a test town: n square areas of level "borough" reporting race (a
// rate a day each) and religion (a fifth of it) for years up to end, located in
// resolution-9 cells inside their squares. rise multiplies an area's race counts
// over the last riseDays days.
type boroughs struct {
	n        int
	rate     float64
	years    int
	end      time.Time
	riseDays int
	rise     map[int]float64 // area index → factor on race
}

func (b boroughs) source(tb testing.TB) *MemorySource {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	var areas []geo.Area
	var incidents []MemoryIncident
	from := b.end.AddDate(-b.years, 0, 0)
	for i := range b.n {
		lat, lon := 51.3+float64(i/6)*0.045, -0.45+float64(i%6)*0.072
		ring := orb.Ring{{lon, lat}, {lon + 0.072, lat}, {lon + 0.072, lat + 0.045}, {lon, lat + 0.045}, {lon, lat}}
		areas = append(areas, geo.Area{ID: int32(i + 1), Level: "borough", Code: fmt.Sprintf("B%02d", i+1), Geometry: orb.MultiPolygon{{ring}}})
		for d := from; !d.After(b.end); d = d.AddDate(0, 0, 1) {
			for _, st := range []struct {
				strand string
				share  float64
			}{{"race", 1}, {"religion", 0.2}} {
				lambda := b.rate * st.share
				if f, ok := b.rise[i]; ok && st.strand == "race" && b.end.Sub(d).Hours()/24 < float64(b.riseDays) {
					lambda *= f
				}
				for range testPoisson(rng, lambda) {
					at := geo.LatLon{Lat: lat + 0.045*rng.Float64(), Lon: lon + 0.072*rng.Float64()}
					c := h3.LatLngToCell(h3.LatLng{Lat: at.Lat, Lng: at.Lon}, 9)
					incidents = append(incidents, MemoryIncident{Day: d, Strands: []string{st.strand}, Cell: uint64(c), Areas: []int32{int32(i + 1)}, At: at})
				}
			}
		}
	}
	return NewMemorySource(areas, incidents, nil, []string{"race", "religion"})
}

func testPoisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func farringtonOnly() EngineOptions {
	o := DefaultEngineOptions()
	o.Detectors = []string{"farrington"}
	o.Strands = []string{"race", "religion"}
	return o
}

// TestWidespreadGrouping: many areas rising at once are one widespread finding per
// time scale listing them, not local findings; two areas rising stay two local
// findings.
func TestWidespreadGrouping(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a few hundred series")
	}
	end := time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC)
	many := map[int]float64{}
	for i := range 16 {
		many[i] = 1.6
	}
	cases := []struct {
		name      string
		rise      map[int]float64
		wantWide  bool
		wantLocal []string // areas with a local finding for race
	}{
		{"sixteen of twenty areas rise by 60%", many, true, nil},
		{"two areas triple", map[int]float64{3: 3, 11: 3}, false, []string{"B04", "B12"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := boroughs{n: 20, rate: 1.2, years: 5, end: end, riseDays: 28, rise: c.rise}.source(t)
			rep, err := Run(context.Background(), src, end, farringtonOnly())
			if err != nil {
				t.Fatal(err)
			}
			wide := map[string]int{}
			local := map[string]bool{}
			for _, f := range rep.Findings {
				switch f.Method {
				case MethodWidespread:
					wide[f.Scale]++
					if !slices.Equal(f.Strands, []string{"race"}) {
						t.Errorf("widespread strands %v, want [race]", f.Strands)
					}
					if f.Breadth <= 0 || f.Breadth > 1 || !strings.HasPrefix(f.Key, "widespread:borough:") {
						t.Errorf("widespread finding %s with breadth %g", f.Key, f.Breadth)
					}
					if f.Scale == ScaleFourWeeks {
						risen := 0
						for _, a := range f.Areas {
							var i int
							fmt.Sscanf(a, "B%d", &i)
							if _, ok := c.rise[i-1]; ok {
								risen++
							}
						}
						if risen < 13 {
							t.Errorf("widespread finding lists %d of the 16 risen areas: %v", risen, f.Areas)
						}
					}
				case MethodFarrington:
					if len(f.Strands) == 0 || slices.Contains(f.Strands, "race") {
						local[f.Areas[0]] = true
					}
				}
			}
			for scale, n := range wide {
				if n > 1 {
					t.Errorf("%d widespread findings at scale %s, want one", n, scale)
				}
			}
			if got := wide[ScaleFourWeeks] > 0; got != c.wantWide {
				t.Errorf("widespread over 4 weeks: got %v, want %v (findings %v)", got, c.wantWide, keys(rep.Findings))
			}
			if c.wantWide && len(local) > 2 {
				t.Errorf("%d local findings for race beside the widespread one: %v", len(local), keys(rep.Findings))
			}
			for _, a := range c.wantLocal {
				if !local[a] {
					t.Errorf("no local finding for %s: %v", a, keys(rep.Findings))
				}
			}
			if !c.wantWide && len(wide) > 0 {
				t.Errorf("a widespread finding for a local rise: %v", keys(rep.Findings))
			}
		})
	}
}

func keys(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}

// TestFarringtonFamilies: the families are area level x time scale; a cell series
// never enters one, and cells are evaluated only inside the areas that alarmed.
func TestFarringtonFamilies(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a few hundred series")
	}
	end := time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC)
	src := boroughs{n: 12, rate: 1, years: 5, end: end, riseDays: 28, rise: map[int]float64{4: 3}}.source(t)
	o := farringtonOnly()
	fr := &farrRun{o: o, asOf: end, scales: farringtonScales(o)}
	rep, err := Run(context.Background(), src, end, o)
	if err != nil {
		t.Fatal(err)
	}
	strands, areas := 3, 12
	if got, want := rep.Counts["farrington_series"]+rep.Counts["farrington_skipped"], strands*areas*len(fr.scales); got != want {
		t.Errorf("series in the families: got %d, want %d (areas x strands x scales, no cells)", got, want)
	}
	if got, want := rep.Counts["farrington_families"], len(fr.scales); got != want {
		t.Errorf("families: got %d, want %d (one level x %d scales)", got, want, len(fr.scales))
	}
	cellAreas, err := src.CellAreas(context.Background(), o.FarringtonRes, "borough", end.AddDate(-5, 0, 0), end)
	if err != nil {
		t.Fatal(err)
	}
	placed := false
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Key, "h3:") {
			t.Errorf("a cell finding %s: cells only place a rise inside an area", f.Key)
		}
		for _, c := range f.Cells {
			placed = true
			if !intersects(cellAreas[c], f.Areas) {
				t.Errorf("cell %s placed in %v, outside it", geo.CellString(c), f.Areas)
			}
		}
	}
	if !placed {
		t.Errorf("no cell placed the rise in B05 (findings %v, counts %v)", keys(rep.Findings), rep.Counts)
	}
	if rep.Counts["farrington_cell_series"] == 0 || rep.Counts["farrington_cell_series"] >= rep.Counts["farrington_series"] {
		t.Errorf("cell series evaluated: %d, want some, fewer than the %d area series (only the alarmed areas' cells)",
			rep.Counts["farrington_cell_series"], rep.Counts["farrington_series"])
	}
}

func TestPeriods(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		n, back  int
		from, to string
	}{
		{"the 28 days ending on the analysis day", 28, 0, "2026-02-03", "2026-03-02"},
		{"the four weeks before", 28, 1, "2026-01-06", "2026-02-02"},
		{"13 periods back: 364 days, the same weekdays a year earlier", 28, 13, "2025-02-04", "2025-03-03"},
		{"the week ending on the analysis day", 7, 0, "2026-02-24", "2026-03-02"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, to := PeriodDays(asOf, c.n, c.back)
			if from.Format(time.DateOnly) != c.from || to.Format(time.DateOnly) != c.to {
				t.Errorf("got %s to %s, want %s to %s", from.Format(time.DateOnly), to.Format(time.DateOnly), c.from, c.to)
			}
			if c.back == 13 && from.Weekday() != asOf.AddDate(0, 0, -27).Weekday() {
				t.Errorf("a year back starts on %s, want the same weekday as today's period", from.Weekday())
			}
		})
	}
	// 2 days before the first whole period, then 2 periods of 28: the partial one
	// is dropped and the last period ends on the last day.
	daily := make([]float64, 2+56)
	for i := range daily {
		daily[i] = float64(i / 30)
	}
	got := periodic(daily, 28)
	want := []float64{sum(daily[2:30]), sum(daily[30:58])}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("periodic: got %v, want %v", got, want)
	}
	if f := FarringtonFourWeekly(); f.Freq != 13 || f.Freq*28 != 52*7 {
		t.Errorf("four-weekly Freq %d: want 13 periods, exactly 52 weeks", f.Freq)
	}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestEvidenceLength: a finding's evidence spans a year at its scale even when the
// history is just long enough for its own baseline; periods with no baseline show
// their count alone, expected null.
func TestEvidenceLength(t *testing.T) {
	asOf := time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 5))
	cases := []struct {
		name      string
		scale     timeScale
		periods   int
		wantNoExp int // periods without a baseline
	}{
		{"weekly, history just enough for B=2", timeScale{name: ScaleWeek, days: 7, opts: FarringtonNoufaily()}, 52*2 + 3 + 1, 51},
		{"weekly, plenty of history", timeScale{name: ScaleWeek, days: 7, opts: FarringtonNoufaily()}, 52*4 + 3 + 60, 0},
		{"four-weekly, history just enough for B=2", timeScale{name: ScaleFourWeeks, days: 28, opts: FarringtonFourWeekly()}, 13*2 + 1 + 1, 12},
		{"four-weekly, plenty of history", timeScale{name: ScaleFourWeeks, days: 28, opts: FarringtonFourWeekly()}, 13*5 + 5, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			counts := make([]float64, c.periods)
			for i := range counts {
				counts[i] = float64(testPoisson(rng, 20))
			}
			counts[len(counts)-1] = 60
			out := farringtonOne(counts, c.scale.opts, 2)
			if out.skipped {
				t.Fatal("skipped")
			}
			f := farringtonFinding(&out, c.scale, asOf, 2)
			if len(f.Series) != c.scale.opts.Freq {
				t.Errorf("evidence of %d periods, want %d (a year)", len(f.Series), c.scale.opts.Freq)
			}
			noExp := 0
			for _, p := range f.Series {
				if math.IsNaN(p.Expected) {
					noExp++
				}
			}
			if noExp != c.wantNoExp {
				t.Errorf("%d periods without a baseline, want %d", noExp, c.wantNoExp)
			}
			last := f.Series[len(f.Series)-1]
			if !last.Day.Equal(asOf) || math.IsNaN(last.Expected) || last.Expected == 0 {
				t.Errorf("last point %+v, want the analysis day with its expected count", last)
			}
			if got := f.WindowTo.Sub(f.WindowFrom).Hours()/24 + 1; int(got) != c.scale.days {
				t.Errorf("window of %g days, want %d", got, c.scale.days)
			}
			if !f.BaselineTo.Before(f.WindowFrom) || !f.BaselineFrom.Before(f.BaselineTo) {
				t.Errorf("baseline %s to %s, want before the window from %s", f.BaselineFrom, f.BaselineTo, f.WindowFrom)
			}
			b, err := json.Marshal(f.Series[0])
			if err != nil {
				t.Fatal(err)
			}
			if c.wantNoExp > 0 && !strings.Contains(string(b), `"expected":null`) {
				t.Errorf("a point without a baseline reads %s, want expected null", b)
			}
			var back Point
			if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.Expected) != (c.wantNoExp == 0) {
				t.Errorf("read back %+v (%v)", back, err)
			}
		})
	}
}

// TestUpliftJoinsWidespread: an uplift in a run with a widespread finding is folded
// into it (the finding names the event); without one it stays an uplift finding.
func TestUpliftJoinsWidespread(t *testing.T) {
	day := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	wide := Finding{Method: MethodWidespread, Key: "widespread:borough:28d:race", Strands: []string{"race"}, Areas: []string{"B01", "B02", "B03"},
		Observed: 900, Expected: 650, P: 1e-9, Breadth: 0.8}
	allWide := wide
	allWide.Key, allWide.Strands = "widespread:borough:28d:all", nil
	up := Finding{Method: MethodUplift, Key: "event:7:race", Strands: []string{"race"}, WindowFrom: day.AddDate(0, 0, -13), WindowTo: day,
		Observed: 400, Expected: 280, P: 1e-6, Score: 1.43, Detail: "14 days after the vote (national)"}
	cases := []struct {
		name       string
		before     []Finding
		wantKeys   []string
		wantEvent  int64
		intoStrand []string
	}{
		{"widespread and uplift: one finding naming the event", []Finding{wide}, []string{wide.Key}, 7, []string{"race"}},
		{"the uplift's strand preferred", []Finding{allWide, wide}, []string{allWide.Key, wide.Key}, 7, []string{"race"}},
		{"no widespread finding: the uplift stands alone", nil, []string{up.Key}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{Findings: slices.Clone(c.before), Counts: map[string]int{}}
			r.addUplift(up, 7)
			if got := keys(r.Findings); !slices.Equal(got, c.wantKeys) {
				t.Fatalf("findings %v, want %v", got, c.wantKeys)
			}
			if c.wantEvent == 0 {
				return
			}
			for _, f := range r.Findings {
				if !slices.Equal(f.Strands, c.intoStrand) {
					if f.EventID != 0 {
						t.Errorf("%s took the event too", f.Key)
					}
					continue
				}
				if f.EventID != c.wantEvent || len(f.Uplift) != 1 || f.Uplift[0].Ratio != 1.43 || !strings.Contains(f.Detail, "trigger event 7") {
					t.Errorf("widespread finding %+v, want it to name event %d with the uplift's figures", f, c.wantEvent)
				}
			}
		})
	}
}

// TestMergeWidespread: consecutive runs' widespread findings of the same level,
// scale and strand update one alert, whichever areas they list.
func TestMergeWidespread(t *testing.T) {
	rules, err := ParseRules(DefaultRules, DefaultScale)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	first := Finding{Method: MethodWidespread, Key: "widespread:borough:28d:race", Scale: ScaleFourWeeks, Strands: []string{"race"},
		Areas: []string{"B01", "B02", "B03"}, Observed: 900, Expected: 650, P: 1e-9, Breadth: 0.6, WindowFrom: day.AddDate(0, 0, -27), WindowTo: day}
	second := first
	second.Areas = []string{"B01", "B02", "B03", "B04"}
	second.Breadth = 0.8
	second.WindowFrom, second.WindowTo = first.WindowFrom.AddDate(0, 0, 7), day.AddDate(0, 0, 7)
	weekly := first
	weekly.Key, weekly.Scale = "widespread:borough:week:race", ScaleWeek
	changes := Merge(nil, []Finding{first}, day, 8*24*time.Hour, rules, DefaultScale)
	if len(changes) != 1 || !changes[0].New {
		t.Fatalf("first run: %+v", changes)
	}
	a := changes[0].Alert
	a.ID = 1
	if a.TensionLevel != "high" {
		t.Errorf("a widespread rise of ratio %.2f over 60%% of the areas is %s, want high", first.Observed/first.Expected, a.TensionLevel)
	}
	changes = Merge([]Alert{a}, []Finding{second, weekly}, day.AddDate(0, 0, 7), 8*24*time.Hour, rules, DefaultScale)
	if len(changes) != 2 || changes[0].New || changes[0].Alert.ID != 1 || len(changes[0].Alert.Areas) != 4 {
		t.Errorf("second run: the 4-week finding should update alert 1 with 4 areas: %+v", changes[0])
	}
	if len(changes) == 2 && !changes[1].New {
		t.Errorf("the weekly widespread finding updated the 4-week alert")
	}
}

func TestBreadthRule(t *testing.T) {
	rules, err := ParseRules("high: breadth>=0.5 ratio>=1.3 p<=0.001; low", DefaultScale)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		breadth float64
		want    string
	}{{"most areas", 0.7, "high"}, {"a few areas", 0.2, "low"}, {"a local finding", 0, "low"}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Finding{Observed: 140, Expected: 100, P: 1e-5, Breadth: c.breadth}
			if got := Level(rules, &f); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
