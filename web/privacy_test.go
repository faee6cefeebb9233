package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/web"
)

// The inference attacks of docs/privacy.md, replayed against the real server as a
// strategic user. The attacker knows the method and its parameters (k = 3, rounding
// to 5, noise up to 4), not the key: a withheld figure allows 0..k-1+noise, a shown
// p allows max(1, p-2-noise)..p+2+noise. TENSIONMAP_ATTACK_SIZE=large widens the
// attacks (more days, areas and filters); make reliability runs it.

const (
	attackK     = 3
	attackRound = 5
	attackNoise = 4
)

func attackLarge() bool { return os.Getenv("TENSIONMAP_ATTACK_SIZE") == "large" }

// allowed is what a published figure tells the attacker of the true count.
func allowed(shown *int) (lo, hi float64) {
	if shown == nil {
		return 0, attackK - 1 + attackNoise
	}
	return math.Max(1, float64(*shown-attackRound/2-attackNoise)), float64(*shown + attackRound/2 + attackNoise)
}

// constraint says lo ≤ the sum of the unknowns vars ≤ hi.
type constraint struct {
	vars   []int
	lo, hi float64
}

// system is the attacker's linear system over true counts, each published answer
// intersected into the constraint on its set of unknowns.
type system struct {
	n     int
	bySet map[string]*constraint
}

func newSystem(n int) *system { return &system{n: n, bySet: map[string]*constraint{}} }

func (s *system) add(vars []int, lo, hi float64) {
	vs := slices.Clone(vars)
	slices.Sort(vs)
	key := fmt.Sprint(vs)
	if c, ok := s.bySet[key]; ok {
		c.lo, c.hi = math.Max(c.lo, lo), math.Min(c.hi, hi)
		return
	}
	s.bySet[key] = &constraint{vars: vs, lo: lo, hi: hi}
}

func (s *system) constraints() []*constraint {
	out := make([]*constraint, 0, len(s.bySet))
	keys := make([]string, 0, len(s.bySet))
	for k := range s.bySet {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, s.bySet[k])
	}
	return out
}

// propagate narrows each unknown's bounds by interval constraint propagation to a
// fixed point: for lo ≤ Σx ≤ hi, x_j ≥ lo - Σ_{i≠j} ub_i and x_j ≤ hi - Σ_{i≠j} lb_i.
// It returns false when the constraints contradict each other (the truth breaks one).
func (s *system) propagate() (lb, ub []float64, ok bool) {
	lb, ub = make([]float64, s.n), make([]float64, s.n)
	for i := range ub {
		ub[i] = 1e9
	}
	cs := s.constraints()
	for pass := 0; pass < 200; pass++ {
		changed := false
		for _, c := range cs {
			sl, su := 0.0, 0.0
			for _, v := range c.vars {
				sl += lb[v]
				su += ub[v]
			}
			if sl > c.hi+1e-9 || su < c.lo-1e-9 {
				return lb, ub, false
			}
			for _, v := range c.vars {
				if nl := math.Ceil(c.lo - (su - ub[v]) - 1e-9); nl > lb[v] {
					lb[v], changed = nl, true
				}
				if nu := math.Floor(c.hi - (sl - lb[v]) + 1e-9); nu < ub[v] {
					ub[v], changed = nu, true
				}
			}
		}
		if !changed {
			break
		}
	}
	return lb, ub, true
}

// extremes returns the least and greatest value of the sum of target over the
// system's constraints, by linear programming (gonum's simplex). Only the
// constraints connected to target (sharing unknowns with it, directly or through
// other constraints) can bind it: the rest constrain unknowns it does not depend on,
// so the programme is solved over that component alone, with the same optimum as
// over the whole system and a fraction of its size (a dense simplex grows with the
// cube of it).
func (s *system) extremes(t *testing.T, target []int) (lo, hi float64) {
	t.Helper()
	cs, cols := s.component(target)
	col := make(map[int]int, len(cols))
	for i, v := range cols {
		col[v] = i
	}
	g := mat.NewDense(2*len(cs), len(cols), nil)
	h := make([]float64, 2*len(cs))
	for i, c := range cs {
		for _, v := range c.vars {
			g.Set(2*i, col[v], 1)
			g.Set(2*i+1, col[v], -1)
		}
		h[2*i], h[2*i+1] = c.hi, -c.lo
	}
	solve := func(sign float64) float64 {
		c := make([]float64, len(cols))
		for _, v := range target {
			c[col[v]] = sign
		}
		cNew, aNew, bNew := lp.Convert(c, g, h, nil, nil)
		opt, _, err := lp.Simplex(cNew, aNew, bNew, 1e-9, nil)
		if err != nil {
			t.Fatalf("linear programme over %d constraints: %v", len(cs), err)
		}
		return sign * opt
	}
	return solve(1), solve(-1)
}

// component returns the constraints connected to the unknowns of target and the
// unknowns they involve (target's included), sorted.
func (s *system) component(target []int) ([]*constraint, []int) {
	cs := s.constraints()
	in := map[int]bool{}
	for _, v := range target {
		in[v] = true
	}
	taken := make([]bool, len(cs))
	for grew := true; grew; {
		grew = false
		for i, c := range cs {
			if taken[i] {
				continue
			}
			for _, v := range c.vars {
				if in[v] {
					taken[i], grew = true, true
					break
				}
			}
			if taken[i] {
				for _, v := range c.vars {
					in[v] = true
				}
			}
		}
	}
	var out []*constraint
	for i, c := range cs {
		if taken[i] {
			out = append(out, c)
		}
	}
	cols := make([]int, 0, len(in))
	for v := range in {
		cols = append(cols, v)
	}
	slices.Sort(cols)
	return out, cols
}

// pinned reports whether an integer count within lo..hi can take one value only.
func pinned(lo, hi float64) bool { return math.Ceil(lo-1e-6) >= math.Floor(hi+1e-6) }

type attackAnswer struct {
	Filter     map[string]any `json:"filter"`
	PeriodNote string         `json:"period_note"`
	Areas      []struct {
		Code      string `json:"code"`
		Count     *int   `json:"count"`
		Crimes    *int   `json:"crimes"`
		Incidents *int   `json:"incidents"`
	} `json:"areas"`
}

// onLattice reports whether from..to is a calendar month, quarter or year.
func onLattice(from, to string) bool {
	f, err1 := time.Parse(time.DateOnly, from)
	l, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || f.Day() != 1 || l.AddDate(0, 0, 1).Day() != 1 {
		return false
	}
	months := (l.Year()-f.Year())*12 + int(l.Month()-f.Month()) + 1
	switch months {
	case 1:
		return true
	case 3:
		return (f.Month()-1)%3 == 0
	case 12:
		return f.Month() == 1
	}
	return false
}

// TestInferenceDifferencingDayWindows replays the first attack: every window of days
// over six weeks asked of /api/v1/areas, then what differencing them tells.
// Before, windows of days were answered as asked, and a withheld day next to
// withheld windows gave exact ones. Now every answer must name a published period,
// and interval propagation over the (area, day) counts pins no count from 1 to k-1,
// of a day or of any published period.
func TestInferenceDifferencingDayWindows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	strategic, police := e.as(access.Strategic), e.as(access.Police)
	days := 46
	if attackLarge() {
		days = 100
	}
	first := testEnd.AddDate(0, 0, -days+1)
	day := func(i int) string { return first.AddDate(0, 0, i).Format(time.DateOnly) }

	// The truth, as police see it: each area's count each day.
	truth := map[string][]int{}
	var codes []string
	for i := range days {
		var a attackAnswer
		e.getJSON(police, "/api/v1/areas?level=lsoa&from="+day(i)+"&to="+day(i), &a)
		for _, ar := range a.Areas {
			if truth[ar.Code] == nil {
				truth[ar.Code] = make([]int, days)
				codes = append(codes, ar.Code)
			}
			truth[ar.Code][i] = *ar.Count
		}
	}
	index := map[string]int{}
	for i, c := range codes {
		index[c] = i
	}
	unknown := func(area string, d int) int { return index[area]*days + d }

	sys := newSystem(len(codes) * days)
	periods := map[string]bool{}
	queries := 0
	for i := range days {
		for j := i; j < days && j-i < 45; j++ {
			var a attackAnswer
			e.getJSON(strategic, "/api/v1/areas?level=lsoa&from="+day(i)+"&to="+day(j), &a)
			queries++
			from, _ := a.Filter["from"].(string)
			to, _ := a.Filter["to"].(string)
			if !onLattice(from, to) {
				t.Fatalf("strategic asked %s..%s, answered for %s..%s: not a published period", day(i), day(j), from, to)
			}
			if (from != day(i) || to != day(j)) && a.PeriodNote == "" {
				t.Errorf("strategic asked %s..%s, answered for %s..%s without saying so", day(i), day(j), from, to)
			}
			periods[from+".."+to] = true
			f, _ := time.Parse(time.DateOnly, from)
			l, _ := time.Parse(time.DateOnly, to)
			for _, ar := range a.Areas {
				var vars []int
				for d := range days {
					if t := first.AddDate(0, 0, d); !t.Before(f) && !t.After(l) {
						vars = append(vars, unknown(ar.Code, d))
					}
				}
				lo, hi := allowed(ar.Count)
				// Days of the period outside the window asked carry no unknowns here:
				// the attacker knows their sum is at least 0, so only the upper bound binds.
				if l.Sub(f).Hours()/24+1 > float64(len(vars)) {
					lo = 0
				}
				sys.add(vars, lo, hi)
			}
		}
	}
	lb, ub, ok := sys.propagate()
	if !ok {
		t.Fatal("the published answers contradict each other: a bound in allowed() is wrong")
	}
	small, recovered := 0, 0
	for _, code := range codes {
		for d, n := range truth[code] {
			v := unknown(code, d)
			if n > 0 && n < attackK {
				small++
				if pinned(lb[v], ub[v]) {
					recovered++
					t.Errorf("area %s on %s: %d recovered (bounds %v..%v)", code, day(d), n, lb[v], ub[v])
				}
			}
		}
	}
	// Every published period's count, as a sum of days.
	for _, c := range sys.constraints() {
		lo, hi, n := 0.0, 0.0, 0
		for _, v := range c.vars {
			lo, hi, n = lo+lb[v], hi+ub[v], n+truth[codes[v/days]][v%days]
		}
		if n > 0 && n < attackK && pinned(math.Max(lo, c.lo), math.Min(hi, c.hi)) {
			recovered++
			t.Errorf("a published period's count %d recovered", n)
		}
	}
	t.Logf("%d windows asked, answered for %d published periods; %d area-days of 1 to %d, %d recovered", queries, len(periods), small, attackK-1, recovered)
	if small < 20 {
		t.Errorf("only %d small area-days: the attack shows little", small)
	}
}

// TestInferenceHotspotsGiveClassesOnly replays the second attack: strategic users
// get no z, p or trend of Gi* anywhere (API, cell panel, tiles, the review's
// export), only the confidence class and the category; and no class is held by
// cells of one count only among the small ones, so a class never names a count.
func TestInferenceHotspotsGiveClassesOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runEngine()
	strategic, police := e.as(access.Strategic), e.as(access.Police)
	forbidden := []string{"z", "p", "trend_z", "trend_p"}
	check := func(where string, m map[string]any) {
		t.Helper()
		for _, k := range forbidden {
			if v, ok := m[k]; ok && v != nil {
				t.Errorf("%s: strategic user given %s = %v", where, k, v)
			}
		}
	}
	var hs struct {
		Hotspots []map[string]any `json:"hotspots"`
	}
	e.getJSON(strategic, "/api/v1/hotspots?res=8", &hs)
	if len(hs.Hotspots) == 0 {
		t.Fatal("no hot spots to attack")
	}
	for _, h := range hs.Hotspots {
		check("/api/v1/hotspots", h)
		if _, ok := h["count"]; ok {
			t.Errorf("/api/v1/hotspots: strategic user given the analysis window's count %v", h["count"])
		}
	}
	for _, h := range hs.Hotspots[:min(20, len(hs.Hotspots))] {
		var c struct {
			Hotspot map[string]any `json:"hotspot"`
		}
		e.getJSON(strategic, "/api/v1/cells/"+h["cell"].(string), &c)
		check("/api/v1/cells/"+h["cell"].(string), c.Hotspot)
	}
	for z := 10; z <= 14; z++ {
		tile, path := tileAt("hotspots", -0.76, 52.04, z)
		for _, f := range decodeTile(t, e.get(strategic, path), tile, "hotspots") {
			check(path, f.Properties)
		}
	}
	r := e.get(strategic, "/review/hotspots.geojson?preset=quarter")
	if r.status != 200 {
		t.Fatalf("review export: %s", r)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(r.body, &fc); err != nil {
		t.Fatal(err)
	}
	for _, f := range fc.Features {
		check("/review/hotspots.geojson", f.Properties)
	}

	// Solving back from classes. The attacker here is stronger than any: it knows
	// every other cell's true count of the analysis window and the class the
	// strategic user is given for every cell, and tries each count from 0 to
	// k-1+noise for one cell. A count is recovered when exactly one value reproduces
	// the classes and it is the true one. (Police get the engine's classes, made from
	// the true counts: the same attacker against them shows what is at stake.)
	var exact, given struct {
		Hotspots []struct {
			Cell       string `json:"cell"`
			Count      int    `json:"count"`
			Confidence int    `json:"confidence"`
		} `json:"hotspots"`
	}
	e.getJSON(police, "/api/v1/hotspots?res=8", &exact)
	e.getJSON(strategic, "/api/v1/hotspots?res=8", &given)
	cells := make([]uint64, len(exact.Hotspots))
	values := make([]float64, len(exact.Hotspots))
	for i, h := range exact.Hotspots {
		c, err := geo.ParseCell(h.Cell)
		if err != nil {
			t.Fatal(err)
		}
		cells[i], values[i] = c, float64(h.Count)
	}
	// The strategic study area is made from published figures: a cell it leaves out
	// has no class (0) for this attacker.
	givenClass := map[string]int{}
	for _, h := range given.Hotspots {
		givenClass[h.Cell] = h.Confidence
	}
	conf := map[int]int{3: 99, 2: 95, 1: 90, 0: 0, -1: -90, -2: -95, -3: -99}
	classes := func(vs []float64) []int {
		z, err := tension.GiStar(cells, vs, 1)
		if err != nil {
			t.Fatal(err)
		}
		bins, _ := tension.HotspotBins(z)
		out := make([]int, len(bins))
		for i, b := range bins {
			out[i] = conf[b]
		}
		return out
	}
	engine := classes(values)
	strategicClasses := make([]int, len(exact.Hotspots))
	for i, h := range exact.Hotspots {
		if engine[i] != h.Confidence {
			t.Fatalf("cell %s: class %d recomputed, %d published: the attack does not model the analysis", h.Cell, engine[i], h.Confidence)
		}
		strategicClasses[i] = givenClass[h.Cell]
	}
	recover := func(published []int) (small, named int) {
		for i, h := range exact.Hotspots {
			if h.Count <= 0 || h.Count >= attackK {
				continue
			}
			small++
			var fits []int
			for n := 0; n <= attackK-1+attackNoise; n++ {
				vs := slices.Clone(values)
				vs[i] = float64(n)
				if slices.Equal(classes(vs), published) {
					fits = append(fits, n)
				}
			}
			if len(fits) == 1 && fits[0] == h.Count {
				named++
			}
		}
		return small, named
	}
	small, fromEngine := recover(engine)
	_, named := recover(strategicClasses)
	if named > 0 {
		t.Errorf("%d of %d small counts recovered from the classes strategic users get", named, small)
	}
	t.Logf("%d hot spot cells of 1 to %d: %d recovered from the engine's classes, %d from the strategic user's", small, attackK-1, fromEngine, named)
	if small < 10 {
		t.Errorf("only %d small cells: the attack shows little", small)
	}
}

// TestInferenceEmergingFromPublishedWeeks: the emerging hot spot categories a
// strategic user gets (the hot spot API, the cell panel, the hot spot tiles) are
// exactly those the same analysis (tension.EmergingHotspots) gives over the counts
// that user can see: each listed cell's published weekly counts from the map's
// panel, over the calendar weeks the answer names, on the study area it lists. So
// the categories tell nothing the published counts do not. Police get the engine's,
// from the exact counts.
func TestInferenceEmergingFromPublishedWeeks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runEngine()
	strategic, police := e.as(access.Strategic), e.as(access.Police)
	type hotspot struct {
		Cell       string           `json:"cell"`
		Confidence int              `json:"confidence"`
		Category   tension.Category `json:"category"`
	}
	var given, exact struct {
		Period         map[string]string `json:"period"`
		PublishedWeeks struct {
			From  string `json:"from"`
			To    string `json:"to"`
			Weeks int    `json:"weeks"`
		} `json:"published_weeks"`
		Hotspots []hotspot `json:"hotspots"`
	}
	e.getJSON(strategic, "/api/v1/hotspots?res=8", &given)
	e.getJSON(police, "/api/v1/hotspots?res=8", &exact)
	pw := given.PublishedWeeks
	first, err1 := time.Parse(time.DateOnly, pw.From)
	last, err2 := time.Parse(time.DateOnly, pw.To)
	if err1 != nil || err2 != nil || pw.Weeks < 10 || first.Weekday() != time.Monday || last.Weekday() != time.Sunday ||
		last.Sub(first).Hours()/24+1 != float64(7*pw.Weeks) {
		t.Fatalf("the strategic answer names its weeks as %+v: want whole calendar weeks", pw)
	}
	if pw.From == "" || given.Period["to"] < pw.To {
		t.Fatalf("published weeks %+v outside the analysis period %v", pw, given.Period)
	}
	if len(given.Hotspots) < 20 {
		t.Fatalf("%d cells listed to the strategic user: the test shows little", len(given.Hotspots))
	}

	// What the strategic user can see: each listed cell's published weeks, from the
	// panel asked for months ending on or after the last week, back to the first.
	cells := make([]uint64, len(given.Hotspots))
	for i, h := range given.Hotspots {
		c, err := geo.ParseCell(h.Cell)
		if err != nil {
			t.Fatal(err)
		}
		cells[i] = c
		if i > 0 && cells[i] <= cells[i-1] {
			t.Fatalf("the hot spot list is not in cell order at %s", h.Cell)
		}
	}
	counts := make([]float64, len(cells)*pw.Weeks)
	withPublished := 0
	for i, h := range given.Hotspots {
		seen := make([]bool, pw.Weeks)
		any := false
		for month := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC); ; month = month.AddDate(0, -6, 0) {
			var panel struct {
				Weekly struct {
					Weeks []struct {
						Start    string `json:"start"`
						Observed *int   `json:"observed"`
					} `json:"weeks"`
				} `json:"weekly"`
			}
			e.getJSON(strategic, "/api/v1/cells/"+h.Cell+"?from="+month.Format(time.DateOnly)+"&to="+month.AddDate(0, 1, -1).Format(time.DateOnly), &panel)
			for _, w := range panel.Weekly.Weeks {
				start, err := time.Parse(time.DateOnly, w.Start)
				if err != nil {
					t.Fatal(err)
				}
				k := int(start.Sub(first).Hours() / 24 / 7)
				if start.Before(first) || k >= pw.Weeks {
					continue
				}
				seen[k] = true
				if w.Observed != nil {
					counts[k*len(cells)+i] = float64(*w.Observed)
					any = true
				}
			}
			if seen[0] || month.Before(first.AddDate(0, -12, 0)) {
				break
			}
		}
		if !slices.Equal(seen, slices.Repeat([]bool{true}, pw.Weeks)) {
			t.Fatalf("cell %s: the panel does not give every published week", h.Cell)
		}
		if any {
			withPublished++
		}
	}
	patterns, err := tension.EmergingHotspots(tension.HotspotCube{Cells: cells, Steps: pw.Weeks, Counts: counts, K: 1})
	if err != nil {
		t.Fatal(err)
	}
	categories := map[string]tension.Category{}
	patterned, differ := 0, 0
	exactOf := map[string]tension.Category{}
	for _, h := range exact.Hotspots {
		exactOf[h.Cell] = h.Category
	}
	for i, h := range given.Hotspots {
		categories[h.Cell] = h.Category
		if patterns[i].Category != h.Category {
			t.Errorf("cell %s: the strategic user is given %s, the published weeks give %s", h.Cell, h.Category, patterns[i].Category)
		}
		if h.Category != tension.CategoryNoPattern {
			patterned++
		}
		if exactOf[h.Cell] != h.Category {
			differ++
		}
	}
	// How many cells have a pattern depends on the noise (the key is drawn at start):
	// the comparison is over every listed cell, and needs cells with published weeks.
	if withPublished < 20 {
		t.Errorf("only %d listed cells have a published week: the test shows little", withPublished)
	}

	// The same categories wherever they are shown.
	for _, h := range given.Hotspots[:min(15, len(given.Hotspots))] {
		var c struct {
			Hotspot struct {
				Category tension.Category `json:"category"`
			} `json:"hotspot"`
		}
		e.getJSON(strategic, "/api/v1/cells/"+h.Cell, &c)
		if c.Hotspot.Category != h.Category {
			t.Errorf("cell panel %s: category %s, hot spot API %s", h.Cell, c.Hotspot.Category, h.Category)
		}
	}
	tiled := 0
	for z := 11; z <= 12; z++ {
		tile, path := tileAt("hotspots", -0.76, 52.04, z)
		for _, f := range decodeTile(t, e.get(strategic, path), tile, "hotspots") {
			cell, _ := f.Properties["cell"].(string)
			cat, _ := f.Properties["category"].(string)
			want, ok := categories[cell]
			if !ok {
				if cat != "" && cat != string(tension.CategoryNoPattern) {
					t.Errorf("hot spot tile %s: cell %s, outside the strategic study area, has category %s", path, cell, cat)
				}
				continue
			}
			tiled++
			if cat != "" && cat != string(want) || cat == "" && want != tension.CategoryNoPattern {
				t.Errorf("hot spot tile %s: cell %s has category %q, the API %s", path, cell, cat, want)
			}
		}
	}
	t.Logf("%d cells listed over %d published weeks (%s to %s), %d with a published week; %d with a pattern, all recomputed from the panel's counts; %d differ from the engine's exact categories; %d checked in tiles",
		len(cells), pw.Weeks, pw.From, pw.To, withPublished, patterned, differ, tiled)
}

// TestInferenceLinearAttack is the general attack: every answer a strategic user can
// get about some areas over a calendar year (/api/v1/areas for every month, quarter
// and the year under every kind and source filter and their pairs, with the kind
// split each answer carries, the review's area export and the areas tiles) becomes
// a constraint on the true counts of each (area, month, kind, source); the least and
// greatest value of every such count and of every published count from 1 to k-1
// are found by linear programming. None may be pinned.
func TestInferenceLinearAttack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	strategic, police := e.as(access.Strategic), e.as(access.Police)
	year := 2025
	kinds := []string{"crime", "incident"}
	sources := []string{"police", "council", "third_party", "anonymous", "other"}
	months := 12
	monthFrom := func(m int) time.Time { return time.Date(year, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC) }
	type period struct {
		from, to time.Time
		months   []int
	}
	var periods []period
	for m := range months {
		periods = append(periods, period{monthFrom(m), monthFrom(m).AddDate(0, 1, -1), []int{m}})
	}
	for q := range 4 {
		periods = append(periods, period{monthFrom(3 * q), monthFrom(3*q).AddDate(0, 3, -1), []int{3 * q, 3*q + 1, 3*q + 2}})
	}
	periods = append(periods, period{monthFrom(0), monthFrom(0).AddDate(1, 0, -1), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}})
	// unknown (area a, month m, kind k, source s)
	cellsPer := months * len(kinds) * len(sources)
	unknown := func(a, m, k, s int) int { return a*cellsPer + (m*len(kinds)+k)*len(sources) + s }
	type filter struct {
		query        string
		kind, source int // -1: any
	}
	filters := []filter{{"", -1, -1}}
	for k, kn := range kinds {
		filters = append(filters, filter{"&kind=" + kn, k, -1})
	}
	for s, sn := range sources {
		filters = append(filters, filter{"&source=" + sn, -1, s})
		for k, kn := range kinds {
			filters = append(filters, filter{"&kind=" + kn + "&source=" + sn, k, s})
		}
	}
	vars := func(a int, p period, kind, source int) []int {
		var out []int
		for _, m := range p.months {
			for k := range kinds {
				for s := range sources {
					if (kind < 0 || kind == k) && (source < 0 || source == s) {
						out = append(out, unknown(a, m, k, s))
					}
				}
			}
		}
		return out
	}
	ask := func(c caller, p period, f filter) attackAnswer {
		var a attackAnswer
		e.getJSON(c, "/api/v1/areas?level=lsoa&from="+p.from.Format(time.DateOnly)+"&to="+p.to.Format(time.DateOnly)+f.query, &a)
		return a
	}

	// The areas attacked: those with the most small monthly counts.
	var codes []string
	smallOf := map[string]int{}
	for _, p := range periods[:months] {
		for _, ar := range ask(police, p, filters[0]).Areas {
			if !slices.Contains(codes, ar.Code) {
				codes = append(codes, ar.Code)
			}
			if *ar.Count > 0 && *ar.Count < attackK {
				smallOf[ar.Code]++
			}
		}
	}
	sort.SliceStable(codes, func(i, j int) bool { return smallOf[codes[i]] > smallOf[codes[j]] })
	nAreas := 1
	if attackLarge() {
		nAreas = 4
	}
	codes = codes[:nAreas]
	at := map[string]int{}
	for i, c := range codes {
		at[c] = i
	}

	truth := make([]int, nAreas*cellsPer)
	for _, p := range periods[:months] {
		for _, f := range filters {
			if f.kind < 0 || f.source < 0 {
				continue
			}
			for _, ar := range ask(police, p, f).Areas {
				if a, ok := at[ar.Code]; ok {
					truth[unknown(a, p.months[0], f.kind, f.source)] = *ar.Count
				}
			}
		}
	}
	sum := func(vs []int) int {
		n := 0
		for _, v := range vs {
			n += truth[v]
		}
		return n
	}

	sys := newSystem(nAreas * cellsPer)
	// The linear programmes run over a smaller system, the kind split without the
	// sources (a dense simplex over every source filter would take minutes): unknowns
	// (area, month, kind).
	kindsPer := months * len(kinds)
	lpUnknown := func(v int) int { return v/cellsPer*kindsPer + (v%cellsPer)/len(sources) }
	lpSys := newSystem(nAreas * kindsPer)
	lpVars := func(vs []int) []int {
		var out []int
		for _, v := range vs {
			if u := lpUnknown(v); !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
		return out
	}
	published := map[string]*int{} // area|period|filter -> count, for the other endpoints to match
	var targets, lpTargets [][]int
	for _, p := range periods {
		for _, f := range filters {
			a := ask(strategic, p, f)
			if a.Filter["from"] != p.from.Format(time.DateOnly) || a.Filter["to"] != p.to.Format(time.DateOnly) {
				t.Fatalf("a published period %s..%s answered for %v..%v", p.from.Format(time.DateOnly), p.to.Format(time.DateOnly), a.Filter["from"], a.Filter["to"])
			}
			for _, ar := range a.Areas {
				ai, ok := at[ar.Code]
				if !ok {
					continue
				}
				published[ar.Code+"|"+p.from.Format(time.DateOnly)+".."+p.to.Format(time.DateOnly)+"|"+f.query] = ar.Count
				for _, part := range []struct {
					shown *int
					kind  int
				}{{ar.Count, f.kind}, {ar.Crimes, 0}, {ar.Incidents, 1}} {
					if f.kind >= 0 && part.kind != f.kind {
						continue // the other kind under a kind filter: none
					}
					vs := vars(ai, p, part.kind, f.source)
					lo, hi := allowed(part.shown)
					sys.add(vs, lo, hi)
					small := false
					if n := sum(vs); n > 0 && n < attackK {
						targets, small = append(targets, vs), true
					}
					if f.source < 0 {
						lpSys.add(lpVars(vs), lo, hi)
						if small {
							lpTargets = append(lpTargets, lpVars(vs))
						}
					}
				}
			}
		}
	}
	for v, n := range truth {
		if n > 0 && n < attackK {
			targets = append(targets, []int{v})
		}
	}
	lpTruth := make([]int, nAreas*kindsPer)
	for v, n := range truth {
		lpTruth[lpUnknown(v)] += n
	}
	for u, n := range lpTruth {
		if n > 0 && n < attackK {
			lpTargets = append(lpTargets, []int{u})
		}
	}

	// The other endpoints answer the same question with the same figure, so they
	// add nothing to the system.
	exportRows := func(c caller, p period) [][]string {
		r := e.get(c, "/review/areas.csv?level=lsoa&from="+p.from.Format(time.DateOnly)+"&to="+p.to.Format(time.DateOnly))
		if r.status != 200 {
			t.Fatalf("review export: %s", r)
		}
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows[1:]
	}
	for _, p := range periods[12:] {
		// The review counts areas from the cell roll-ups: where its true count is
		// that of /api/v1/areas, the published one must be too.
		same := map[string]bool{}
		policeAreas := map[string]int{}
		for _, ar := range ask(police, p, filters[0]).Areas {
			policeAreas[ar.Code] = *ar.Count
		}
		for _, row := range exportRows(police, p) {
			same[row[0]] = row[4] == strconv.Itoa(policeAreas[row[0]])
		}
		for _, row := range exportRows(strategic, p) {
			want, ok := published[row[0]+"|"+p.from.Format(time.DateOnly)+".."+p.to.Format(time.DateOnly)+"|"]
			if ok && same[row[0]] && row[4] != csvString(want) {
				t.Errorf("review areas.csv %s %s: %q, /api/v1/areas: %q", p.from.Format("2006-01"), row[0], row[4], csvString(want))
			}
		}
	}
	for _, p := range []period{periods[0], periods[16]} {
		for z := 11; z <= 12; z++ {
			tile := maptile.At(orb.Point{-0.76, 52.04}, maptile.Zoom(z))
			path := fmt.Sprintf("/tiles/areas/%d/%d/%d.mvt?level=lsoa&from=%s&to=%s", tile.Z, tile.X, tile.Y, p.from.Format(time.DateOnly), p.to.Format(time.DateOnly))
			for _, f := range decodeTile(t, e.get(strategic, path), tile, "areas") {
				code, _ := f.Properties["code"].(string)
				want, ok := published[code+"|"+p.from.Format(time.DateOnly)+".."+p.to.Format(time.DateOnly)+"|"]
				if !ok {
					continue
				}
				got := "suppressed"
				if n, has := num(f, "count"); has {
					got = strconv.Itoa(n)
				}
				if wantS := intString(want); (wantS == "" && got != "suppressed") || (wantS != "" && got != wantS) {
					t.Errorf("areas tile %s: %s shows %s, /api/v1/areas %q", path, code, got, wantS)
				}
			}
		}
	}

	lb, ub, ok := sys.propagate()
	if !ok {
		t.Fatal("the published answers contradict each other: a bound in allowed() is wrong")
	}
	recovered := 0
	for _, vs := range targets {
		lo, hi := 0.0, 0.0
		for _, v := range vs {
			lo, hi = lo+lb[v], hi+ub[v]
		}
		if pinned(lo, hi) {
			recovered++
			t.Errorf("propagation pins a count of %d over %d cells", sum(vs), len(vs))
		}
	}
	for _, us := range lpTargets {
		lo, hi := lpSys.extremes(t, us)
		if pinned(lo, hi) {
			n := 0
			for _, u := range us {
				n += lpTruth[u]
			}
			recovered++
			t.Errorf("linear programming pins a count of %d over %d cells (%.2f..%.2f)", n, len(us), lo, hi)
		}
	}
	t.Logf("%d areas: %d constraints over %d counts by propagation, %d over %d by linear programming; %d and %d counts of 1 to %d attacked, %d recovered",
		nAreas, len(sys.bySet), sys.n, len(lpSys.bySet), lpSys.n, len(targets), len(lpTargets), attackK-1, recovered)
	if len(targets) < 10 {
		t.Errorf("only %d small counts: the attack shows little", len(targets))
	}
}

func intString(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func csvString(v *int) string {
	if v == nil {
		return "withheld"
	}
	return strconv.Itoa(*v)
}

// TestPeriodCountedIsNamed: every count answer and count tile says which period it
// counted, in the Tensionmap-Period header (and in words in the JSON): the days
// asked for police, the published period holding them for a strategic user, so
// that the map's label can state the period actually counted.
func TestPeriodCountedIsNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	strategic, police := e.as(access.Strategic), e.as(access.Police)
	to := testEnd
	from := to.AddDate(0, 0, -6)
	days := "from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)
	month := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	monthDays := month.Format(time.DateOnly) + ".." + month.AddDate(0, 1, -1).Format(time.DateOnly)
	asked := from.Format(time.DateOnly) + ".." + to.Format(time.DateOnly)
	tile := maptile.At(orb.Point{-0.76, 52.04}, 12)
	var cell struct {
		Cells []struct {
			Cell string `json:"cell"`
		} `json:"cells"`
	}
	e.getJSON(police, "/api/v1/cells?"+days, &cell)
	if len(cell.Cells) == 0 {
		t.Fatal("no cell with reports in the week")
	}
	for _, c := range []struct {
		who        caller
		header     string
		text       string
		wantChange bool
	}{
		{police, asked, tension.DayRange(from, to), false},
		{strategic, monthDays, month.Format("January 2006"), true},
	} {
		for _, path := range []string{
			"/api/v1/cells?" + days,
			"/api/v1/cells/" + cell.Cells[0].Cell + "?" + days,
			"/api/v1/areas?level=lsoa&" + days,
			"/api/v1/areas/DEMOW01?" + days,
		} {
			r := e.get(c.who, path)
			if r.status != 200 {
				t.Fatalf("%s as %s: %s", path, c.who.name, r)
			}
			var a struct {
				Filter     map[string]any `json:"filter"`
				PeriodText string         `json:"period_text"`
				PeriodNote string         `json:"period_note"`
			}
			r.json(t, &a)
			if got := r.header.Get("Tensionmap-Period"); got != c.header || a.Filter["from"].(string)+".."+a.Filter["to"].(string) != c.header {
				t.Errorf("%s as %s: header %q, filter %v..%v; want %s", path, c.who.name, got, a.Filter["from"], a.Filter["to"], c.header)
			}
			if a.PeriodText != c.text || (a.PeriodNote != "") != c.wantChange {
				t.Errorf("%s as %s: period_text %q, period_note %q; want %q, a note: %v", path, c.who.name, a.PeriodText, a.PeriodNote, c.text, c.wantChange)
			}
		}
		for _, layer := range []string{"hotspots", "areas"} {
			path := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt?%s", layer, tile.Z, tile.X, tile.Y, days)
			if layer == "areas" {
				path += "&level=lsoa"
			}
			r := e.get(c.who, path)
			if r.status != 200 && r.status != 204 {
				t.Fatalf("%s as %s: %s", path, c.who.name, r)
			}
			if got := r.header.Get("Tensionmap-Period"); got != c.header {
				t.Errorf("%s as %s: header %q; want %s", path, c.who.name, got, c.header)
			}
		}
	}
	for _, tc := range []struct {
		from, to time.Time
		want     string
	}{
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), "April to June 2026"},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), "2025"},
		{time.Time{}, time.Time{}, "all time"},
	} {
		if got := web.PeriodText(tc.from, tc.to); got != tc.want {
			t.Errorf("PeriodText(%v, %v) = %q; want %q", tc.from, tc.to, got, tc.want)
		}
	}
}
