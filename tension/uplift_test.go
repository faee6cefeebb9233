package tension

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
)

var upliftWriteInputs = flag.Bool("write-uplift-inputs", false, "write the uplift reference inputs under testdata/reference/uplift for scripts/reference/uplift.R")

const upliftRefDir = "../testdata/reference/uplift"

// upliftTestCounts are the counts of the grid of Poisson tests checked against R.
var upliftTestCounts = []int{0, 1, 2, 3, 5, 8, 13, 30, 100, 400, 2000}

// upliftTestSpans are the (window, baseline) lengths of that grid.
var upliftTestSpans = [][2]int{{2, 28}, {14, 28}, {2, 2}, {14, 14}, {7, 365}}

// upliftTestSeries returns the seeded daily series checked against R.
func upliftTestSeries() map[string][]float64 {
	poisson := func(rng *rand.Rand, mean float64) float64 { // Knuth's method, for small means
		l, k, p := math.Exp(-mean), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				return float64(k)
			}
			k++
		}
	}
	gen := func(seed uint64, days int, mean float64, extra func(d int) float64) []float64 {
		rng := rand.New(rand.NewPCG(seed, 21))
		s := make([]float64, days)
		for d := range s {
			m := mean * (1 + 0.4*math.Sin(2*math.Pi*float64(d)/7)) * (1 + 0.2*math.Sin(2*math.Pi*float64(d)/365.25))
			s[d] = poisson(rng, m+extra(d))
		}
		return s
	}
	none := func(int) float64 { return 0 }
	return map[string][]float64{
		"steady": gen(1, 900, 3, none),
		"spike": gen(2, 900, 3, func(d int) float64 {
			switch {
			case d >= 800 && d < 803:
				return 6
			case d >= 800 && d < 814:
				return 2
			}
			return 0
		}),
		"sparse": gen(3, 900, 0.2, none),
		"short":  gen(4, 60, 1.5, none),
	}
}

// upliftTestEvents are the (series, event day) pairs checked against R: full windows,
// a window cut short by the end of the series, the last day, and events too early for
// one or both baselines.
var upliftTestEvents = []struct {
	series string
	day    int
}{
	{"steady", 800}, {"steady", 890}, {"steady", 400}, {"spike", 800}, {"sparse", 700},
	{"sparse", 899}, {"short", 40}, {"short", 10},
}

// TestUpliftReferenceInputs writes the reference inputs when asked to
// (go test ./tension -run TestUpliftReferenceInputs -args -write-uplift-inputs).
func TestUpliftReferenceInputs(t *testing.T) {
	if !*upliftWriteInputs {
		t.Skip("run with -args -write-uplift-inputs to write the reference inputs")
	}
	if err := os.MkdirAll(upliftRefDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rows := [][]string{{"x1", "t1", "x0", "t0"}}
	for _, sp := range upliftTestSpans {
		for _, x1 := range upliftTestCounts {
			for _, x0 := range upliftTestCounts {
				rows = append(rows, []string{strconv.Itoa(x1), strconv.Itoa(sp[0]), strconv.Itoa(x0), strconv.Itoa(sp[1])})
			}
		}
	}
	writeRefCSV(t, filepath.Join(upliftRefDir, "cases.csv"), rows[0], rows[1:])
	for name, s := range upliftTestSeries() {
		rows := [][]string{{"day", "count"}}
		for d, v := range s {
			rows = append(rows, []string{strconv.Itoa(d), strconv.FormatFloat(v, 'f', -1, 64)})
		}
		writeRefCSV(t, filepath.Join(upliftRefDir, "series-"+name+".csv"), rows[0], rows[1:])
	}
	rows = [][]string{{"series", "event_day"}}
	for _, e := range upliftTestEvents {
		rows = append(rows, []string{e.series, strconv.Itoa(e.day)})
	}
	writeRefCSV(t, filepath.Join(upliftRefDir, "events.csv"), rows[0], rows[1:])
	o := DefaultUpliftOptions()
	rows = [][]string{{"windows", "year_lag", "prior_days", "conf_level"}}
	for _, w := range o.Windows {
		rows = append(rows, []string{strconv.Itoa(w), strconv.Itoa(o.YearLag), strconv.Itoa(o.PriorDays), strconv.FormatFloat(o.ConfLevel, 'f', -1, 64)})
	}
	writeRefCSV(t, filepath.Join(upliftRefDir, "options.csv"), rows[0], rows[1:])
}

func upliftTestNum(t *testing.T, m map[string]string, k string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(m[k], 64)
	if err != nil {
		t.Fatalf("%s: %v", k, err)
	}
	return v
}

// upliftTestErr tracks the largest absolute and relative differences from R.
type upliftTestErr struct{ abs, rel float64 }

// check compares got with R's want: absolute difference within abs, or relative
// within rel; infinities and NaN must match exactly.
func (e *upliftTestErr) check(t *testing.T, what string, got, want, abs, rel float64) {
	t.Helper()
	if math.IsNaN(want) || math.IsInf(want, 0) {
		if !(math.IsNaN(want) && math.IsNaN(got)) && got != want {
			t.Errorf("%s: %v, R %v", what, got, want)
		}
		return
	}
	d := math.Abs(got - want)
	r := d / math.Abs(want)
	if want == 0 {
		r = d
	}
	e.abs, e.rel = max(e.abs, d), max(e.rel, r)
	if d > abs && r > rel {
		t.Errorf("%s: %v, R %v (differ by %.3g, %.3g relative)", what, got, want, d, r)
	}
}

// TestUpliftPoissonReference compares the exact Poisson rate-ratio test with R's
// poisson.test on a grid of counts and spans: p-values to 1e-14 (or 1e-11 relative,
// for the far tails), the ratio to the bit and the confidence limits to 1e-13 relative.
func TestUpliftPoissonReference(t *testing.T) {
	golden := readRefCSV(t, filepath.Join(upliftRefDir, "cases-golden.csv"))
	if len(golden) != len(upliftTestCounts)*len(upliftTestCounts)*len(upliftTestSpans) {
		t.Fatalf("%d golden rows", len(golden))
	}
	var ep, er, ec upliftTestErr
	for _, g := range golden {
		x1, t1, x0, t0 := upliftTestNum(t, g, "x1"), upliftTestNum(t, g, "t1"), upliftTestNum(t, g, "x0"), upliftTestNum(t, g, "t0")
		ratio, p, lower, lo, hi := upliftPoissonTest(int(x1), t1, int(x0), t0, 0.95)
		what := fmt.Sprintf("x=(%v, %v) T=(%v, %v)", x1, x0, t1, t0)
		ep.check(t, what+" p", p, upliftTestNum(t, g, "p"), 1e-14, 1e-11)
		er.check(t, what+" ratio", ratio, upliftTestNum(t, g, "estimate"), 0, 1e-15)
		ec.check(t, what+" lower", lower, upliftTestNum(t, g, "lower"), 1e-300, 1e-13)
		ec.check(t, what+" CI low", lo, upliftTestNum(t, g, "ci_lo"), 1e-300, 1e-13)
		ec.check(t, what+" CI high", hi, upliftTestNum(t, g, "ci_hi"), 1e-300, 1e-13)
	}
	t.Logf("%d tests: largest differences from R: p %.2g (%.2g relative), ratio %.2g relative, confidence limits %.2g relative",
		len(golden), ep.abs, ep.rel, er.rel, ec.rel)
}

// TestUpliftSeriesReference checks the windows and baselines (which days, which counts)
// and the tests on seeded series against R computing them by the documented rules.
func TestUpliftSeriesReference(t *testing.T) {
	golden := readRefCSV(t, filepath.Join(upliftRefDir, "series-golden.csv"))
	want := map[[4]string]map[string]string{}
	for _, g := range golden {
		want[[4]string{g["series"], g["event_day"], g["window"], g["baseline"]}] = g
	}
	series := upliftTestSeries()
	var ep, ec upliftTestErr
	seen := 0
	for _, ev := range upliftTestEvents {
		r, err := Uplift(series[ev.series], ev.day, UpliftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range r.Windows {
			for _, b := range []struct {
				name string
				c    UpliftComparison
			}{{"last_year", w.LastYear}, {"prior", w.Prior}} {
				g, ok := want[[4]string{ev.series, strconv.Itoa(ev.day), strconv.Itoa(w.Days), b.name}]
				what := fmt.Sprintf("%s day %d, %d days, %s", ev.series, ev.day, w.Days, b.name)
				if ok != b.c.Available {
					t.Errorf("%s: available %v, R has a row: %v", what, b.c.Available, ok)
					continue
				}
				if !ok {
					continue
				}
				seen++
				got := []int{w.FirstDay, w.LastDay, w.Observed, b.c.FirstDay, b.c.LastDay, b.c.Baseline}
				for i, k := range []string{"first", "last", "x1", "base_first", "base_last", "x0"} {
					if float64(got[i]) != upliftTestNum(t, g, k) {
						t.Errorf("%s: %s %d, R %s", what, k, got[i], g[k])
					}
				}
				ep.check(t, what+" p", b.c.P, upliftTestNum(t, g, "p"), 1e-14, 1e-11)
				ec.check(t, what+" ratio", b.c.Ratio, upliftTestNum(t, g, "estimate"), 0, 1e-15)
				ec.check(t, what+" lower", b.c.Lower, upliftTestNum(t, g, "lower"), 1e-300, 1e-13)
				ec.check(t, what+" CI low", b.c.CILow, upliftTestNum(t, g, "ci_lo"), 1e-300, 1e-13)
				ec.check(t, what+" CI high", b.c.CIHigh, upliftTestNum(t, g, "ci_hi"), 1e-300, 1e-13)
				if e := float64(b.c.Baseline) * float64(w.LastDay-w.FirstDay+1) / float64(b.c.LastDay-b.c.FirstDay+1); b.c.Expected != e {
					t.Errorf("%s: expected %v, want %v", what, b.c.Expected, e)
				}
			}
		}
	}
	if seen != len(golden) {
		t.Errorf("compared %d of R's %d rows", seen, len(golden))
	}
	// The injected rise (6 a day more for 3 days, then 2 more for 11) shows against the
	// 4 weeks before in both windows; against 2 days a year earlier (8 cases) the 2-day
	// window has too little power, the 14-day one not.
	r, _ := Uplift(series["spike"], 800, UpliftOptions{})
	for _, w := range r.Windows {
		t.Logf("spike, %d days: observed %d, last year %d (p %.2g), prior %.1f expected (ratio %.2f, p %.2g, lower limit %.2f)",
			w.Days, w.Observed, w.LastYear.Baseline, w.LastYear.P, w.Prior.Expected, w.Prior.Ratio, w.Prior.P, w.Prior.Lower)
		if w.Prior.P > 0.01 || w.Prior.Lower <= 1 || (w.Days == 14 && w.LastYear.P > 0.01) {
			t.Errorf("spike not found in %d days: %+v", w.Days, w)
		}
	}
	t.Logf("%d comparisons: largest differences from R: p %.2g, ratio and limits %.2g relative", seen, ep.abs, ec.rel)
}

func TestUpliftByHand(t *testing.T) {
	// 400 days of 1 a day, but 5 on the event day (390), 3 on the next, and 0 on the
	// same two days 364 days earlier (26, 27).
	daily := make([]float64, 400)
	for i := range daily {
		daily[i] = 1
	}
	daily[390], daily[391] = 5, 3
	for d := 390 - 364; d < 392-364; d++ {
		daily[d] = 0
	}
	r, err := Uplift(daily, 390, UpliftOptions{Windows: []int{2, 14}})
	if err != nil {
		t.Fatal(err)
	}
	w := r.Windows[0]
	// Days 390 and 391: 8 cases. A year before (days 26, 27): 0. The 28 days before: 28.
	if w.FirstDay != 390 || w.LastDay != 391 || w.Observed != 8 {
		t.Errorf("window %+v", w)
	}
	if c := w.LastYear; !c.Available || c.FirstDay != 26 || c.LastDay != 27 || c.Baseline != 0 || !math.IsInf(c.Ratio, 1) || !math.IsInf(c.CIHigh, 1) {
		t.Errorf("last year %+v", c)
	} else if want := 1.0 / 256; math.Abs(c.P-want) > 1e-15 { // P(X ≥ 8 | n = 8, π = 1/2) = 2⁻⁸
		t.Errorf("last year p %v, want %v", c.P, want)
	}
	// Prior: x1 = 8 over 2 days, x0 = 28 over 28: ratio 4, π = 2/30, n = 36,
	// expected 28·2/28 = 2.
	if c := w.Prior; c.FirstDay != 362 || c.LastDay != 389 || c.Baseline != 28 || c.Ratio != 4 || c.Expected != 2 {
		t.Errorf("prior %+v", c)
	}
	// The 14-day window is cut short by the series: days 390..399.
	if w := r.Windows[1]; w.LastDay != 399 || w.Observed != 16 || w.Prior.Expected != 10 {
		t.Errorf("14 days %+v", w)
	}
	// Too early for either baseline.
	r, _ = Uplift(daily, 20, UpliftOptions{})
	if r.Windows[0].LastYear.Available || r.Windows[0].Prior.Available {
		t.Errorf("baselines before the series: %+v", r.Windows[0])
	}
	// Nothing at all: p 1, ratio NaN, as R.
	ratio, p, lower, lo, hi := upliftPoissonTest(0, 2, 0, 28, 0.95)
	if !math.IsNaN(ratio) || p != 1 || lower != 0 || lo != 0 || !math.IsInf(hi, 1) {
		t.Errorf("0 vs 0: %v %v %v %v %v", ratio, p, lower, lo, hi)
	}
	all, err := UpliftAll([]UpliftSeries{{"all", daily}, {"race", daily}}, 390, UpliftOptions{})
	if err != nil || len(all) != 2 || all[1].Name != "race" || all[1].Windows[0].Observed != 8 {
		t.Errorf("UpliftAll: %+v %v", all, err)
	}
	for _, bad := range []struct {
		daily []float64
		day   int
		o     UpliftOptions
	}{
		{daily, 400, UpliftOptions{}},
		{daily, -1, UpliftOptions{}},
		{[]float64{1, 2.5}, 1, UpliftOptions{}},
		{[]float64{1, -1}, 1, UpliftOptions{}},
		{[]float64{1, math.NaN()}, 1, UpliftOptions{}},
		{daily, 5, UpliftOptions{Windows: []int{0}}},
		{daily, 5, UpliftOptions{ConfLevel: 1}},
		{daily, 5, UpliftOptions{YearLag: -1}},
	} {
		if _, err := Uplift(bad.daily, bad.day, bad.o); geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("%v day %d %+v: %v", bad.daily[:2], bad.day, bad.o, err)
		}
	}
	if _, err := UpliftAll([]UpliftSeries{{"bad", []float64{1, -1}}}, 1, UpliftOptions{}); geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("UpliftAll: %v", err)
	}
}
