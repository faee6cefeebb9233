package tension

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
)

var earsWriteInputs = flag.Bool("write-ears-inputs", false,
	"write the EARS reference inputs to testdata/reference/ears (then run scripts/reference/ears.R)")

const earsRefDir = "../testdata/reference/ears"

// earsFmt formats a float so it reads back exactly.
func earsFmt(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// earsSame reports whether got agrees with want to within tol, infinities and NaN
// agreeing only with themselves; it returns the absolute difference (0 when both
// are the same non-finite value).
func earsSame(got, want, tol float64) (bool, float64) {
	switch {
	case math.IsNaN(want) || math.IsNaN(got):
		return math.IsNaN(want) && math.IsNaN(got), 0
	case math.IsInf(want, 0) || math.IsInf(got, 0):
		return got == want, 0
	}
	d := math.Abs(got - want)
	return d <= tol, d
}

// earsPoisson draws a Poisson variate by Knuth's multiplication method (fine for
// the small means of the test series).
func earsPoisson(r *rand.Rand, mean float64) float64 {
	if mean > 30 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64()))
	}
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// earsRefSeries returns the reference series: daily counts of varied sparsity,
// seasonality, trend, overdispersion and injected outbreaks, seeded.
func earsRefSeries() map[string][]float64 {
	r := rand.New(rand.NewPCG(20240601, 7))
	gen := func(n int, mean func(t int) float64) []float64 {
		s := make([]float64, n)
		for t := range s {
			s[t] = earsPoisson(r, mean(t))
		}
		return s
	}
	series := map[string][]float64{
		"pois5":        gen(120, func(int) float64 { return 5 }),
		"sparse03":     gen(150, func(int) float64 { return 0.3 }),
		"sparse01":     gen(150, func(int) float64 { return 0.1 }),
		"weekly3":      gen(140, func(t int) float64 { return 3 * (1 + 0.8*math.Sin(2*math.Pi*float64(t)/7)) }),
		"trend":        gen(100, func(t int) float64 { return 1 + 0.1*float64(t) }),
		"busy40":       gen(90, func(int) float64 { return 40 }),
		"outbreak2":    gen(120, func(t int) float64 { return 2 + 10*float64(earsB2I(t >= 60 && t < 66)) }),
		"zeroburst":    gen(80, func(t int) float64 { return 4 * float64(earsB2I(t >= 50 && t < 53)) }),
		"overdisp":     gen(120, func(int) float64 { return r.ExpFloat64() * 3 }),
		"mostlyzero":   gen(200, func(t int) float64 { return 0.05 + 3*float64(earsB2I(t%47 == 0)) }),
		"halfday":      gen(60, func(int) float64 { return 0.5 }),
		"flat2":        make([]float64, 40),
		"spikesparse":  gen(100, func(t int) float64 { return 0.2 + 6*float64(earsB2I(t == 70 || t == 71)) }),
		"fractional":   nil,
		"stepchange10": gen(120, func(t int) float64 { return 10 + 15*float64(earsB2I(t >= 80)) }),
	}
	for i := range series["flat2"] {
		series["flat2"][i] = 2
	}
	series["flat2"][30] = 5
	// Rates rather than counts (incidents per 1,000 residents), to cover non-integers.
	fr := make([]float64, 90)
	for i := range fr {
		fr[i] = math.Round(earsPoisson(r, 6)*1000/float64(1700+r.IntN(300))*1e6) / 1e6
	}
	series["fractional"] = fr
	return series
}

func earsB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

// earsRefCase is one reference run: a series, a method and its options.
type earsRefCase struct {
	name   string
	series string
	o      EARSOptions
}

// earsRefCases crosses the series with the three methods and a few option sets.
func earsRefCases() []earsRefCase {
	var cases []earsRefCase
	add := func(series string, o EARSOptions) {
		for _, m := range []EARSMethod{EARSC1, EARSC2, EARSC3} {
			o.Method = m
			name := fmt.Sprintf("%s_%v_b%d_s%s_a%s", series, m, o.Baseline, earsFmt(o.MinSigma), earsFmt(o.Alpha))
			cases = append(cases, earsRefCase{name: name, series: series, o: o})
		}
	}
	for _, s := range []string{"pois5", "weekly3", "trend", "busy40", "outbreak2", "overdisp", "fractional", "stepchange10", "flat2"} {
		add(s, EARSOptions{Baseline: 7})
	}
	for _, s := range []string{"sparse03", "sparse01", "zeroburst", "mostlyzero", "halfday", "spikesparse", "flat2"} {
		add(s, EARSOptions{Baseline: 7, MinSigma: 0.5})
		add(s, EARSOptions{Baseline: 7, MinSigma: 1, Alpha: 0.01})
	}
	// R's own default minSigma 0 on sparse data: flat baselines give Inf and NaN.
	add("sparse03", EARSOptions{Baseline: 7})
	add("zeroburst", EARSOptions{Baseline: 7})
	add("pois5", EARSOptions{Baseline: 3, Alpha: 0.05})
	add("outbreak2", EARSOptions{Baseline: 14, MinSigma: 0.25, Alpha: 0.005})
	add("weekly3", EARSOptions{Baseline: 10, MinSigma: 0.5, Alpha: 0.2})
	return cases
}

// TestEARSReferenceInputs writes the series and cases scripts/reference/ears.R runs
// surveillance::earsC on. It only runs with -write-ears-inputs.
func TestEARSReferenceInputs(t *testing.T) {
	if !*earsWriteInputs {
		t.Skip("run with -write-ears-inputs to regenerate the EARS reference inputs")
	}
	series := earsRefSeries()
	var rows [][]string
	for _, name := range earsSortedKeys(series) {
		for d, c := range series[name] {
			rows = append(rows, []string{name, strconv.Itoa(d), earsFmt(c)})
		}
	}
	writeRefCSV(t, filepath.Join(earsRefDir, "series.csv"), []string{"series", "day", "count"}, rows)
	rows = rows[:0]
	for _, c := range earsRefCases() {
		rows = append(rows, []string{c.name, c.series, c.o.Method.String(), strconv.Itoa(c.o.Baseline),
			earsFmt(c.o.MinSigma), earsFmt(c.o.Alpha)})
	}
	writeRefCSV(t, filepath.Join(earsRefDir, "cases.csv"),
		[]string{"case", "series", "method", "baseline", "minsigma", "alpha"}, rows)
}

func earsSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// TestEARSMatchesR compares EARS with surveillance::earsC's upper bounds and alarms
// (and the statistics computed from the same baselines in R) on every reference case.
func TestEARSMatchesR(t *testing.T) {
	seriesRows := readRefCSV(t, filepath.Join(earsRefDir, "series.csv"))
	series := map[string][]float64{}
	for _, r := range seriesRows {
		series[r["series"]] = append(series[r["series"]], refFloat(t, r["count"]))
	}
	cases := map[string]earsRefCase{}
	for _, r := range readRefCSV(t, filepath.Join(earsRefDir, "cases.csv")) {
		m := map[string]EARSMethod{"C1": EARSC1, "C2": EARSC2, "C3": EARSC3}[r["method"]]
		b, _ := strconv.Atoi(r["baseline"])
		cases[r["case"]] = earsRefCase{name: r["case"], series: r["series"],
			o: EARSOptions{Method: m, Baseline: b, MinSigma: refFloat(t, r["minsigma"]), Alpha: refFloat(t, r["alpha"])}}
	}
	golden := map[string][]map[string]string{}
	for _, r := range readRefCSV(t, filepath.Join(earsRefDir, "golden.csv")) {
		golden[r["case"]] = append(golden[r["case"]], r)
	}
	if len(cases) < 30 || len(golden) != len(cases) {
		t.Fatalf("%d cases, %d with golden values", len(cases), len(golden))
	}
	const tol = 1e-9
	var maxU, maxS, maxE float64
	var days, alarms, naAlarms int
	for _, name := range earsSortedKeys(cases) {
		c := cases[name]
		want := golden[name]
		s := series[c.series]
		from, err := c.o.FirstDay()
		if err != nil {
			t.Fatal(err)
		}
		got, err := EARS(s, from, len(s), c.o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d days, R has %d", name, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			day, _ := strconv.Atoi(w["day"])
			if g.Day != day-1 {
				t.Fatalf("%s: day %d, R day %d (1-based)", name, g.Day, day)
			}
			for _, f := range []struct {
				what string
				got  float64
				max  *float64
			}{{"upperbound", g.UpperBound, &maxU}, {"statistic", g.Statistic, &maxS}, {"expected", g.Expected, &maxE}, {"sigma", g.Sigma, &maxE}} {
				ok, d := earsSame(f.got, refFloat(t, w[f.what]), tol)
				if !ok {
					t.Errorf("%s day %d: %s %v, R %s", name, g.Day, f.what, f.got, w[f.what])
				}
				*f.max = math.Max(*f.max, d)
			}
			wantAlarm := w["alarm"] == "TRUE"
			if w["alarm"] == "NA" {
				naAlarms++
			}
			if g.Alarm != wantAlarm {
				t.Errorf("%s day %d: alarm %v, R %s (observed %v, upper bound %v)", name, g.Day, g.Alarm, w["alarm"], g.Observed, g.UpperBound)
			}
			if g.Alarm {
				alarms++
			}
			days++
		}
	}
	t.Logf("%d cases on %d series, %d days, %d alarms (and %d NA alarms in R, false here): max abs error upper bound %.3g, statistic %.3g, mean/sigma %.3g",
		len(cases), len(series), days, alarms, naAlarms, maxU, maxS, maxE)
}

func TestEARSOptions(t *testing.T) {
	for _, tc := range []struct {
		o     EARSOptions
		first int
		ok    bool
	}{
		{EARSOptions{Method: EARSC1}, 7, true},
		{EARSOptions{Method: EARSC2}, 9, true},
		{EARSOptions{Method: EARSC3}, 11, true},
		{EARSOptions{Method: EARSC3, Baseline: 3}, 7, true},
		{EARSOptions{Method: EARSC1, Baseline: 2}, 0, false},
		{EARSOptions{Method: 0}, 0, false},
		{EARSOptions{Method: EARSC1, MinSigma: -1}, 0, false},
		{EARSOptions{Method: EARSC1, MinSigma: math.NaN()}, 0, false},
		{EARSOptions{Method: EARSC1, Alpha: 1}, 0, false},
		{EARSOptions{Method: EARSC1, Alpha: -0.1}, 0, false},
	} {
		first, err := tc.o.FirstDay()
		if (err == nil) != tc.ok || (tc.ok && first != tc.first) {
			t.Errorf("%+v: first day %d, error %v; want %d, ok %v", tc.o, first, err, tc.first, tc.ok)
		}
	}
	d := DefaultEARSOptions(EARSC2)
	if d.Baseline != 7 || d.MinSigma != DefaultEARSMinSigma || d.Method != EARSC2 || d.Alpha != 0 {
		t.Errorf("DefaultEARSOptions: %+v", d)
	}
	s := make([]float64, 30)
	for _, tc := range []struct{ from, to int }{{6, 30}, {7, 31}, {7, 7}, {10, 8}} {
		if _, err := EARS(s, tc.from, tc.to, EARSOptions{Method: EARSC1}); err == nil {
			t.Errorf("range [%d, %d): no error", tc.from, tc.to)
		}
	}
	s[3] = math.Inf(1)
	if _, err := EARS(s, 7, 30, EARSOptions{Method: EARSC1}); err == nil {
		t.Error("infinite count: no error")
	}
}

// TestEARSByHand checks C1 and C2 on a series small enough to work out.
func TestEARSByHand(t *testing.T) {
	// Baseline 1,2,3,4,5,6,7: mean 4, sd sqrt(28/6).
	s := []float64{1, 2, 3, 4, 5, 6, 7, 12, 0, 0}
	res, err := EARS(s, 7, 8, EARSOptions{Method: EARSC1, Alpha: 0.025})
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(28.0 / 6)
	z := 1.959963984540054
	r := res[0]
	if r.Expected != 4 || math.Abs(r.Sigma-sd) > 1e-15 || math.Abs(r.UpperBound-(4+z*sd)) > 1e-12 ||
		math.Abs(r.Statistic-8/sd) > 1e-12 || !r.Alarm {
		t.Errorf("C1: %+v", r)
	}
	// C2 on day 9 uses days 0..6 too.
	res, err = EARS(s, 9, 10, EARSOptions{Method: EARSC2, MinSigma: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Expected != 4 || r.Sigma != 3 || r.Statistic != -4.0/3 || r.Alarm {
		t.Errorf("C2 with a sigma floor: %+v", r)
	}
	// A flat baseline with no floor: R's Inf statistic and an alarm on any rise.
	flat := []float64{2, 2, 2, 2, 2, 2, 2, 3}
	res, _ = EARS(flat, 7, 8, EARSOptions{Method: EARSC1})
	if r := res[0]; r.Sigma != 0 || r.UpperBound != 2 || !math.IsInf(r.Statistic, 1) || !r.Alarm {
		t.Errorf("flat baseline: %+v", r)
	}
}

// TestEARSC3AlarmRule pins down surveillance::earsC's C3 alarm: with sigma > 0 it
// fires when the two previous days' C2 excesses exceed zAlpha and the day's count is
// positive, whatever that count is.
func TestEARSC3AlarmRule(t *testing.T) {
	base := []float64{3, 4, 3, 5, 4, 3, 4}
	s := append(append([]float64{}, base...), 3, 3, 3, 3, 20, 20, 1, 0)
	o := EARSOptions{Method: EARSC3}
	from, _ := o.FirstDay()
	res, err := EARS(s, from, len(s), o)
	if err != nil {
		t.Fatal(err)
	}
	byDay := map[int]EARSResult{}
	for _, r := range res {
		byDay[r.Day] = r
	}
	// Days 11 and 12 are far above their baselines: day 13 (count 1, below its
	// baseline) alarms; day 14 (count 0) does not, though its C3 sum is large.
	if r := byDay[13]; !r.Alarm || r.Observed != 1 || r.Expected <= 1 {
		t.Errorf("day 13: %+v", r)
	}
	if r := byDay[14]; r.Alarm || r.UpperBound != 0 || r.Statistic < 2 {
		t.Errorf("day 14: %+v", r)
	}
}
