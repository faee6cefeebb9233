package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// countFields are the count fields of a cell or area as the API gives them.
type countFields struct {
	Count      *int
	Suppressed bool
	Crimes     *int
	Incidents  *int
	ByStrand   map[string]*int `json:"by_strand"`
}

type cellAnswer struct {
	Resolution int
	Filter     map[string]any
	Cells      []struct {
		Cell     string
		Lat, Lon float64
		countFields
	}
}

type areaFields struct {
	Code, Name, Level string
	Population        *int
	RatePer1000       *float64        `json:"rate_per_1000"`
	BySource          map[string]*int `json:"by_source"`
	countFields
}

type areasAnswer struct {
	Filter map[string]any
	Level  string
	Levels []string
	Areas  []areaFields
}

// filterQuery is a filter as query parameters, with the geo.Filter it means.
type filterQuery struct {
	q url.Values
	f geo.Filter
}

// filters are the combinations the count tests run: none, each strand, each kind,
// each source, several periods down to a single day, and mixes.
func filters() []filterQuery {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	out := []filterQuery{{url.Values{}, geo.Filter{}}}
	for _, s := range geo.DefaultStrands {
		out = append(out, filterQuery{url.Values{"strand": {s}}, geo.Filter{Strands: []string{s}}})
	}
	for _, k := range []geo.Kind{geo.KindCrime, geo.KindIncident} {
		out = append(out, filterQuery{url.Values{"kind": {string(k)}}, geo.Filter{Kinds: []geo.Kind{k}}})
	}
	for _, s := range geo.DefaultSources {
		out = append(out, filterQuery{url.Values{"source": {s}}, geo.Filter{Sources: []string{s}}})
	}
	for _, p := range [][2]string{{"2025-07-01", "2026-06-30"}, {"2026-06-01", "2026-06-30"}, {"2026-06-24", "2026-06-30"},
		{"2026-06-30", "2026-06-30"}, {"2025-12-25", "2025-12-25"}, {"2024-01-01", "2024-12-31"}} {
		out = append(out, filterQuery{url.Values{"from": {p[0]}, "to": {p[1]}}, geo.Filter{From: day(p[0]), To: day(p[1])}})
	}
	out = append(out,
		filterQuery{url.Values{"from": {"2026-04-01"}}, geo.Filter{From: day("2026-04-01")}},
		filterQuery{url.Values{"to": {"2024-12-31"}}, geo.Filter{To: day("2024-12-31")}},
		filterQuery{url.Values{"strand": {"religion,disability"}, "kind": {"incident"}, "from": {"2026-01-01"}, "to": {"2026-03-31"}},
			geo.Filter{Strands: []string{"religion", "disability"}, Kinds: []geo.Kind{geo.KindIncident}, From: day("2026-01-01"), To: day("2026-03-31")}},
		filterQuery{url.Values{"strand": {"transgender"}, "source": {"third_party", "anonymous"}, "from": {"2026-06-01"}},
			geo.Filter{Strands: []string{"transgender"}, Sources: []string{"third_party", "anonymous"}, From: day("2026-06-01")}},
		filterQuery{url.Values{"strand": {"Sexual Orientation"}, "kind": {"CRIME"}, "source": {"police"}, "from": {"2026-06-15"}, "to": {"2026-06-21"}},
			geo.Filter{Strands: []string{"sexual_orientation"}, Kinds: []geo.Kind{geo.KindCrime}, Sources: []string{"police"}, From: day("2026-06-15"), To: day("2026-06-21")}},
	)
	return out
}

// defaultPeriod is f as the count listings read it: with no from and no to, the 28
// days to today; a to alone, the 28 days to it; a from alone, to today.
func defaultPeriod(f geo.Filter) geo.Filter {
	today := testNow.UTC().Truncate(24 * time.Hour)
	if f.To.IsZero() && (f.From.IsZero() || !f.From.After(today)) {
		f.To = today
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(0, 0, -27)
	}
	return f
}

// shown is what a strategic user is shown of a count: nil from 1 to k-1, else the
// count rounded to a multiple of 5 (at least 5); zero stays zero.
func shown(n int) *int {
	if n == 0 {
		return &n
	}
	if n < 3 {
		return nil
	}
	r := int(math.Round(float64(n)/5)) * 5
	if r == 0 {
		r = 5
	}
	return &r
}

func exact(n int) *int { return &n }

// fitsStrategic reports whether a strategic figure can stand for the true count n
// under docs/privacy.md: withheld allows 0..k-1+noise, a shown p is a multiple of
// 5 within 2+noise of n, never for none.
func fitsStrategic(got *int, n int) bool {
	if got == nil {
		return n <= 3-1+4
	}
	return *got >= 5 && *got%5 == 0 && n >= 1 && abs(float64(*got-n)) <= 2+4
}

// checkStrategic checks a strategic user's count fields against the true counts
// of the period the answer names.
func checkStrategic(t *testing.T, label string, got countFields, count, crimes, incidents int, byStrand map[string]int) {
	t.Helper()
	if !fitsStrategic(got.Count, count) || !fitsStrategic(got.Crimes, crimes) || !fitsStrategic(got.Incidents, incidents) {
		t.Errorf("%s: count %s crimes %s incidents %s for true %d %d %d", label,
			showCount(got.Count), showCount(got.Crimes), showCount(got.Incidents), count, crimes, incidents)
	}
	if got.Suppressed != (got.Count == nil) {
		t.Errorf("%s: suppressed %v with count %s", label, got.Suppressed, showCount(got.Count))
	}
	for _, s := range geo.DefaultStrands {
		if !fitsStrategic(got.ByStrand[s], byStrand[s]) {
			t.Errorf("%s: by_strand %s = %s for true %d", label, s, showCount(got.ByStrand[s]), byStrand[s])
		}
	}
}

// answeredFilter is f with the period an answer names.
func answeredFilter(f geo.Filter, filter map[string]any) geo.Filter {
	f.From, f.To = time.Time{}, time.Time{}
	if v, ok := filter["from"].(string); ok {
		f.From, _ = time.Parse(time.DateOnly, v)
	}
	if v, ok := filter["to"].(string); ok {
		f.To, _ = time.Parse(time.DateOnly, v)
	}
	return f
}

func eqCount(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func showCount(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// checkCounts compares the count fields of one cell or area with the exact counts
// as the rule for the role shows them.
func checkCounts(t *testing.T, label string, got countFields, count, crimes, incidents int, byStrand map[string]int, rule func(int) *int) {
	t.Helper()
	if !eqCount(got.Count, rule(count)) || !eqCount(got.Crimes, rule(crimes)) || !eqCount(got.Incidents, rule(incidents)) {
		t.Errorf("%s: count %s crimes %s incidents %s; want %s %s %s (exact %d %d %d)", label,
			showCount(got.Count), showCount(got.Crimes), showCount(got.Incidents),
			showCount(rule(count)), showCount(rule(crimes)), showCount(rule(incidents)), count, crimes, incidents)
	}
	if got.Suppressed != (got.Count == nil) {
		t.Errorf("%s: suppressed %v with count %s", label, got.Suppressed, showCount(got.Count))
	}
	if len(got.ByStrand) != len(geo.DefaultStrands) {
		t.Errorf("%s: by_strand has %d strands; want every one of %d", label, len(got.ByStrand), len(geo.DefaultStrands))
	}
	for _, s := range geo.DefaultStrands {
		if !eqCount(got.ByStrand[s], rule(byStrand[s])) {
			t.Errorf("%s: by_strand %s = %s; want %s (exact %d)", label, s, showCount(got.ByStrand[s]), showCount(rule(byStrand[s])), byStrand[s])
		}
	}
}

// TestCellsMatchTheDatabase: for each role that reads counts, every resolution and
// filter, the cells answer holds exactly the cells of db.CellCounts, with exact counts
// for police, council and admin and the strategic rule for strategic users.
func TestCellsMatchTheDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	roles := map[access.Role]func(int) *int{access.Police: exact, access.Council: exact, access.Admin: exact, access.Strategic: shown}
	callers := map[access.Role]caller{}
	for r := range roles {
		callers[r] = e.as(r)
	}
	fs := filters()
	for _, res := range geo.DefaultResolutions {
		for fi, fq := range fs {
			if res != 8 && fi%4 != 0 {
				continue // every filter at res 8; a sample elsewhere
			}
			want, err := e.db.CellCounts(e.ctx, res, defaultPeriod(fq.f))
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"res": {fmt.Sprint(res)}}
			for k, v := range fq.q {
				q[k] = v
			}
			for role, rule := range roles {
				var got cellAnswer
				e.getJSON(callers[role], "/api/v1/cells?"+q.Encode(), &got)
				label := fmt.Sprintf("%s res %d %v", role, res, fq.q)
				if role == access.Strategic {
					// Its period snapped, its counts perturbed, withheld cells left out.
					truth, err := e.db.CellCounts(e.ctx, res, answeredFilter(fq.f, got.Filter))
					if err != nil {
						t.Fatal(err)
					}
					byCell := map[string]geo.CellCount{}
					for _, w := range truth {
						byCell[geo.CellString(w.Cell)] = w
					}
					listed := map[string]bool{}
					for _, c := range got.Cells {
						w := byCell[c.Cell]
						listed[c.Cell] = true
						if c.Count == nil {
							t.Errorf("%s: withheld cell %s listed", label, c.Cell)
						}
						checkStrategic(t, label+" "+c.Cell, c.countFields, w.Count, w.Crimes, w.Incidents, w.ByStrand)
					}
					for cell, w := range byCell {
						if w.Count > 3-1+4 && !listed[cell] {
							t.Errorf("%s: cell %s of %d left out", label, cell, w.Count)
						}
					}
					continue
				}
				if got.Resolution != res || len(got.Cells) != len(want) {
					t.Errorf("%s: resolution %d, %d cells; want %d, %d", label, got.Resolution, len(got.Cells), res, len(want))
					continue
				}
				for i, c := range got.Cells {
					w := want[i]
					if c.Cell != geo.CellString(w.Cell) {
						t.Errorf("%s: cell %d is %s; want %s", label, i, c.Cell, geo.CellString(w.Cell))
						continue
					}
					ll := h3.Cell(w.Cell).LatLng()
					if math.Abs(c.Lat-ll.Lat) > 1e-6 || math.Abs(c.Lon-ll.Lng) > 1e-6 {
						t.Errorf("%s: cell %s at %v,%v; want its centre %v,%v", label, c.Cell, c.Lat, c.Lon, ll.Lat, ll.Lng)
					}
					checkCounts(t, label+" "+c.Cell, c.countFields, w.Count, w.Crimes, w.Incidents, w.ByStrand, rule)
				}
			}
		}
	}

	// Without res, the finest roll-up resolution.
	var got cellAnswer
	e.getJSON(callers[access.Police], "/api/v1/cells", &got)
	if got.Resolution != geo.DefaultResolutions[len(geo.DefaultResolutions)-1] {
		t.Errorf("default resolution %d", got.Resolution)
	}
	// A resolution without roll-ups, or out of range, is refused.
	for _, res := range []string{"5", "11", "15", "-1", "16", "7.5", "", "x"} {
		if res == "" {
			continue
		}
		r := e.get(callers[access.Police], "/api/v1/cells?res="+res)
		if r.status != 400 || !strings.Contains(r.message(t), "res") {
			t.Errorf("res=%s: %s; want 400 naming res", res, r)
		}
	}
	// Filters that are not configured, or not a day, are refused.
	for _, q := range []string{"strand=astrology", "kind=rumour", "source=facebook", "from=2026-02-30", "from=yesterday",
		"from=2026-06-30&to=2026-06-01", "to=1899-12-31"} {
		if r := e.get(callers[access.Police], "/api/v1/cells?res=8&"+q); r.status != 400 {
			t.Errorf("%s: %s; want 400", q, r)
		}
	}
}

// TestCellsBBox: a box keeps the cells whose centre lies in it, edges included.
func TestCellsBBox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police := e.as(access.Police)
	all, err := e.db.CellCounts(e.ctx, 8, defaultPeriod(geo.Filter{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []geo.Bound{
		{West: -0.86, South: 51.98, East: -0.76, North: 52.04}, // the south-west quarter of the town
		{West: -0.77, South: 52.03, East: -0.75, North: 52.05}, // the centre
		{West: -180, South: -90, East: 180, North: 90},
		{West: 10, South: 10, East: 11, North: 11}, // elsewhere
		{West: -0.76, South: 52.04, East: -0.76, North: 52.04},
	} {
		var want []string
		for _, c := range all {
			ll := h3.Cell(c.Cell).LatLng()
			if b.Contains(geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}) {
				want = append(want, geo.CellString(c.Cell))
			}
		}
		var got cellAnswer
		e.getJSON(police, fmt.Sprintf("/api/v1/cells?res=8&bbox=%v,%v,%v,%v", b.West, b.South, b.East, b.North), &got)
		var cells []string
		for _, c := range got.Cells {
			cells = append(cells, c.Cell)
			if !b.Contains(geo.LatLon{Lat: c.Lat, Lon: c.Lon}) {
				t.Errorf("bbox %+v: cell %s at %v,%v is outside", b, c.Cell, c.Lat, c.Lon)
			}
		}
		if fmt.Sprint(cells) != fmt.Sprint(want) {
			t.Errorf("bbox %+v: %d cells; want %d", b, len(cells), len(want))
		}
	}
	for _, bad := range []string{"1,2,3", "a,b,c,d", "-0.7,52,-0.8,53", "-0.8,53,-0.7,52", "-181,0,0,1", "0,-91,1,0", "0,0,181,1",
		"NaN,0,1,1", "-Inf,0,1,1", "0,0,1,Inf", "1,2,3,4,5", ""} {
		r := e.get(police, "/api/v1/cells?res=8&bbox="+url.QueryEscape(bad))
		if bad == "" {
			if r.status != 200 {
				t.Errorf("an empty bbox: %s; want it ignored", r)
			}
			continue
		}
		if r.status != 400 || !strings.Contains(r.message(t), "bbox") {
			t.Errorf("bbox=%s: %s; want 400 naming bbox", bad, r)
		}
	}
}

// countValues walks a JSON answer and returns every value under a count field
// (count, crimes, incidents, and each value of by_strand and by_source), with its path.
func countValues(v any, path string, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := path + "." + k
			switch k {
			case "count", "crimes", "incidents":
				out[p] = val
			case "by_strand", "by_source":
				m, ok := val.(map[string]any)
				if !ok {
					out[p] = val // not an object: reported as a bad value
					continue
				}
				for s, n := range m {
					out[p+"."+s] = n
				}
			default:
				countValues(val, p, out)
			}
		}
	case []any:
		for i, val := range x {
			countValues(val, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// TestStrategicSeesNoSmallCount asks the cells, areas and area routes as a strategic
// user for many filters and checks that no count anywhere in the answers is from 1 to
// k-1: each is null (and the count's suppressed flag set), zero, or a multiple of 5.
func TestStrategicSeesNoSmallCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	strategic := e.as(access.Strategic)
	paths := []string{"/api/v1/cells?res=10", "/api/v1/cells?res=8", "/api/v1/areas?level=lsoa", "/api/v1/areas?level=ward",
		"/api/v1/areas/DEMO0001", "/api/v1/areas/DEMO0077", "/api/v1/areas/DEMOW01", "/api/v1/areas/DEMOW05"}
	seen, suppressed, shownN := 0, 0, 0
	for _, fq := range filters() {
		for _, p := range paths {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			path := p
			if len(fq.q) > 0 {
				path += sep + fq.q.Encode()
			}
			r := e.get(strategic, path)
			if r.status != 200 {
				t.Fatalf("GET %s: %s", path, r)
			}
			var doc any
			if err := json.Unmarshal(r.body, &doc); err != nil {
				t.Fatal(err)
			}
			vals := map[string]any{}
			countValues(doc, "", vals)
			if len(vals) == 0 && !strings.Contains(path, "cells") {
				t.Fatalf("GET %s: no count field found in %s", path, r)
			}
			for at, v := range vals {
				seen++
				if v == nil {
					suppressed++
					continue
				}
				n, ok := v.(float64)
				if !ok || n < 0 || n != math.Trunc(n) {
					t.Errorf("GET %s: %s = %v; want a whole number or null", path, at, v)
					continue
				}
				if n >= 1 && n < 3 {
					t.Errorf("GET %s: %s = %v is below the suppression threshold", path, at, n)
				}
				if int(n)%5 != 0 {
					t.Errorf("GET %s: %s = %v is not a multiple of 5", path, at, n)
				}
				if n > 0 {
					shownN++
				}
			}
			// suppressed goes with a null count, and only with one.
			checkSuppressedFlags(t, path, doc)
		}
	}
	if suppressed == 0 || shownN == 0 {
		t.Errorf("of %d counts, %d suppressed and %d shown: the filters do not exercise both", seen, suppressed, shownN)
	}
	t.Logf("%d counts checked: %d suppressed, %d shown above zero", seen, suppressed, shownN)

	// The home page shows the totals by the same rule.
	r := e.get(strategic, "/")
	if r.status != 200 {
		t.Fatalf("home: %s", r)
	}
	// The total carries the disclosure noise (at most 4 either way) before it is
	// rounded to 5: any of the multiples of 5 that noise can reach.
	total := *shown(testRows)
	found := false
	for v := total - 5; v <= total+5; v += 5 {
		found = found || strings.Contains(string(r.body), fmt.Sprintf("<td>%d</td>", v))
	}
	if !found {
		t.Errorf("the home page shows no rounded total within the noise of %d", total)
	}
}

// checkSuppressedFlags checks that every object with a count has suppressed set
// exactly when the count is null.
func checkSuppressedFlags(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if c, ok := x["count"]; ok {
			s, _ := x["suppressed"].(bool)
			if s != (c == nil) {
				t.Errorf("GET %s: count %v with suppressed %v", path, c, x["suppressed"])
			}
		}
		for _, val := range x {
			checkSuppressedFlags(t, path, val)
		}
	case []any:
		for _, val := range x {
			checkSuppressedFlags(t, path, val)
		}
	}
}

// TestAreasMatchTheDatabase: areas and one area, for the roles that read them, with
// exact or strategic counts, the split by source, and the rate per 1,000 people.
func TestAreasMatchTheDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// One area without a population: its rate is unknown.
	if _, err := e.db.Pool.Exec(e.ctx, "UPDATE areas SET population = NULL WHERE code IN ('DEMO0005', 'DEMOW02')"); err != nil {
		t.Fatal(err)
	}
	roles := map[access.Role]func(int) *int{access.Police: exact, access.Council: exact, access.Strategic: shown, access.Admin: exact}
	callers := map[access.Role]caller{}
	for r := range roles {
		callers[r] = e.as(r)
	}
	for ri, fq := range filters() {
		for role, rule := range roles {
			c := callers[role]
			if role == access.Admin && ri%2 == 1 {
				continue // admin sees what police see: a sample will do
			}
			for _, level := range []string{"lsoa", "ward"} {
				want, err := e.db.AreaCounts(e.ctx, level, defaultPeriod(fq.f))
				if err != nil {
					t.Fatal(err)
				}
				q := url.Values{"level": {level}}
				for k, v := range fq.q {
					q[k] = v
				}
				var got areasAnswer
				e.getJSON(c, "/api/v1/areas?"+q.Encode(), &got)
				if role == access.Strategic {
					if want, err = e.db.AreaCounts(e.ctx, level, answeredFilter(fq.f, got.Filter)); err != nil {
						t.Fatal(err)
					}
				}
				if got.Level != level || fmt.Sprint(got.Levels) != "[lsoa ward]" || len(got.Areas) != len(want) {
					t.Fatalf("%s %s: level %s levels %v, %d areas; want %d", role, level, got.Level, got.Levels, len(got.Areas), len(want))
				}
				for i, a := range got.Areas {
					w := want[i]
					label := fmt.Sprintf("%s %v %s", role, fq.q, a.Code)
					if a.Code != w.Area.Code || a.Name != w.Area.Name || a.Level != level {
						t.Errorf("%s: area %d is %s %q; want %s %q", label, i, a.Code, a.Name, w.Area.Code, w.Area.Name)
						continue
					}
					if role == access.Strategic {
						checkStrategic(t, label, a.countFields, w.Count, w.Crimes, w.Incidents, w.ByStrand)
						checkRate(t, label, a, w.Area.Population, a.Count)
					} else {
						checkCounts(t, label, a.countFields, w.Count, w.Crimes, w.Incidents, w.ByStrand, rule)
						checkRate(t, label, a, w.Area.Population, rule(w.Count))
					}
					if a.BySource != nil {
						t.Errorf("%s: by_source in the list", label)
					}
				}
			}
			if ri%3 != 0 {
				continue
			}
			// One area, with its split by source.
			for _, code := range []string{"DEMO0005", "DEMO0100", "DEMOW02", "DEMOW06"} {
				w, err := e.db.AreaCount(e.ctx, code, defaultPeriod(fq.f))
				if err != nil {
					t.Fatal(err)
				}
				q := fq.q.Encode()
				var got struct {
					Filter map[string]any
					Area   areaFields
				}
				e.getJSON(c, "/api/v1/areas/"+code+"?"+q, &got)
				label := fmt.Sprintf("%s %v %s", role, fq.q, code)
				if role == access.Strategic {
					if w, err = e.db.AreaCount(e.ctx, code, answeredFilter(fq.f, got.Filter)); err != nil {
						t.Fatal(err)
					}
					checkStrategic(t, label, got.Area.countFields, w.Count, w.Crimes, w.Incidents, w.ByStrand)
					checkRate(t, label, got.Area, w.Area.Population, got.Area.Count)
					for _, s := range geo.DefaultSources {
						if !fitsStrategic(got.Area.BySource[s], w.BySource[s]) {
							t.Errorf("%s: by_source %s = %s for true %d", label, s, showCount(got.Area.BySource[s]), w.BySource[s])
						}
					}
					continue
				}
				checkCounts(t, label, got.Area.countFields, w.Count, w.Crimes, w.Incidents, w.ByStrand, rule)
				checkRate(t, label, got.Area, w.Area.Population, rule(w.Count))
				if len(got.Area.BySource) != len(geo.DefaultSources) {
					t.Errorf("%s: by_source %v; want every source", label, got.Area.BySource)
				}
				for _, s := range geo.DefaultSources {
					if !eqCount(got.Area.BySource[s], rule(w.BySource[s])) {
						t.Errorf("%s: by_source %s = %s; want %s", label, s, showCount(got.Area.BySource[s]), showCount(rule(w.BySource[s])))
					}
				}
			}
		}
	}

	police := e.as(access.Police)
	// The default level is the first; an unknown level or area is refused.
	var got areasAnswer
	e.getJSON(police, "/api/v1/areas", &got)
	if got.Level != "lsoa" {
		t.Errorf("default level %q; want lsoa", got.Level)
	}
	// Without a period, the last 28 days, and the answer says so.
	for path, want := range map[string]string{"/api/v1/areas": "2026-06-04 2026-07-01", "/api/v1/areas?to=2026-03-31": "2026-03-04 2026-03-31",
		"/api/v1/areas?from=2026-06-20": "2026-06-20 2026-07-01", "/api/v1/cells": "2026-06-04 2026-07-01"} {
		var a struct{ Filter struct{ From, To string } }
		e.getJSON(police, path, &a)
		if got := a.Filter.From + " " + a.Filter.To; got != want {
			t.Errorf("%s: period %s; want %s", path, got, want)
		}
	}
	if r := e.get(police, "/api/v1/areas?level=county"); r.status != 400 || !strings.Contains(r.message(t), "level") {
		t.Errorf("level=county: %s; want 400 naming level", r)
	}
	if r := e.get(police, "/api/v1/areas/E01000001"); r.status != 404 {
		t.Errorf("an unknown area: %s; want 404", r)
	}
	if r := e.get(police, "/api/v1/areas/"+strings.Repeat("A", 101)); r.status != 400 {
		t.Errorf("a 101-character code: %s; want 400", r)
	}
}

// checkRate: rate_per_1000 is the shown count over the population, times 1,000, to two
// decimals; null when either is unknown.
func checkRate(t *testing.T, label string, a areaFields, population int, count *int) {
	t.Helper()
	if population == 0 {
		if a.Population != nil || a.RatePer1000 != nil {
			t.Errorf("%s: no population, yet population %v rate %v", label, a.Population, a.RatePer1000)
		}
		return
	}
	if a.Population == nil || *a.Population != population {
		t.Errorf("%s: population %v; want %d", label, a.Population, population)
	}
	if count == nil {
		if a.RatePer1000 != nil {
			t.Errorf("%s: a rate %v for a withheld count", label, *a.RatePer1000)
		}
		return
	}
	want := math.Round(float64(*count)/float64(population)*1000*100) / 100
	if a.RatePer1000 == nil || *a.RatePer1000 != want {
		t.Errorf("%s: rate %v; want %v (%d / %d)", label, a.RatePer1000, want, *count, population)
	}
}
