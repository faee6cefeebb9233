package tension

import (
	"flag"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
)

var mkWriteInputs = flag.Bool("write-mannkendall-inputs", false,
	"write the Mann-Kendall reference inputs to testdata/reference/mannkendall (then run scripts/reference/mannkendall.R)")

const mkRefDir = "../testdata/reference/mannkendall"

// mkRefSeries returns the reference series, seeded: counts with many ties, rounded
// z-scores, trends up and down, short and long, and a constant one.
func mkRefSeries() map[string][]float64 {
	rng := rand.New(rand.NewPCG(1945, 1975))
	gen := func(n int, f func(t int) float64) []float64 {
		s := make([]float64, n)
		for t := range s {
			s[t] = f(t)
		}
		return s
	}
	round := func(v, to float64) float64 { return math.Round(v/to) * to }
	series := map[string][]float64{
		"n3_tie":      {2, 2, 5},
		"n4":          {4, 1, 3, 2},
		"constant":    gen(12, func(int) float64 { return 3 }),
		"almostflat":  gen(20, func(t int) float64 { return float64(earsB2I(t == 13)) }),
		"zeros_burst": gen(30, func(t int) float64 { return float64(earsB2I(t > 24) * (t - 24)) }),
	}
	for i, mean := range []float64{0.3, 0.8, 2, 5} {
		for _, n := range []int{10, 26, 52} {
			name := "pois" + strconv.Itoa(i) + "_n" + strconv.Itoa(n)
			series[name] = gen(n, func(int) float64 { return earsPoisson(rng, mean) })
		}
	}
	for _, n := range []int{8, 20, 52} {
		up := gen(n, func(t int) float64 { return earsPoisson(rng, 1+0.15*float64(t)) })
		down := gen(n, func(t int) float64 { return earsPoisson(rng, 8-7*float64(t)/float64(n)) })
		series["up_n"+strconv.Itoa(n)] = up
		series["down_n"+strconv.Itoa(n)] = down
		series["zscore1dp_n"+strconv.Itoa(n)] = gen(n, func(t int) float64 { return round(rng.NormFloat64()+0.03*float64(t), 0.1) })
		series["zscore_half_n"+strconv.Itoa(n)] = gen(n, func(t int) float64 { return round(1.5*rng.NormFloat64()-0.05*float64(t), 0.5) })
	}
	series["continuous_n52"] = gen(52, func(t int) float64 { return rng.NormFloat64() + 0.02*float64(t) })
	series["strong_up_n60"] = gen(60, func(t int) float64 { return float64(t/3) + float64(rng.IntN(2)) })
	series["negative_n40"] = gen(40, func(t int) float64 { return round(-2+rng.NormFloat64(), 0.25) })
	return series
}

// TestMannKendallReferenceInputs writes the series scripts/reference/mannkendall.R
// runs cor.test on. It only runs with -write-mannkendall-inputs.
func TestMannKendallReferenceInputs(t *testing.T) {
	if !*mkWriteInputs {
		t.Skip("run with -write-mannkendall-inputs to regenerate the Mann-Kendall reference inputs")
	}
	series := mkRefSeries()
	var rows [][]string
	for _, name := range earsSortedKeys(series) {
		for i, v := range series[name] {
			rows = append(rows, []string{name, strconv.Itoa(i), earsFmt(v)})
		}
	}
	writeRefCSV(t, filepath.Join(mkRefDir, "series.csv"), []string{"series", "step", "value"}, rows)
}

// TestMannKendallMatchesR compares S, Z, P and tau-b with R's cor.test(method =
// "kendall", exact = FALSE), with and without the continuity correction.
func TestMannKendallMatchesR(t *testing.T) {
	series := map[string][]float64{}
	for _, r := range readRefCSV(t, filepath.Join(mkRefDir, "series.csv")) {
		series[r["series"]] = append(series[r["series"]], refFloat(t, r["value"]))
	}
	golden := readRefCSV(t, filepath.Join(mkRefDir, "golden.csv"))
	if len(golden) != len(series) || len(golden) < 20 {
		t.Fatalf("%d series, %d golden rows", len(series), len(golden))
	}
	const tol = 1e-9
	var maxZ, maxP, maxTau, maxS float64
	var withTies int
	for _, g := range golden {
		y := series[g["series"]]
		for _, cc := range []bool{false, true} {
			r, err := MannKendall(y, cc)
			if err != nil {
				t.Fatalf("%s: %v", g["series"], err)
			}
			suffix := ""
			if cc {
				suffix = "_cc"
			}
			for _, f := range []struct {
				what string
				got  float64
				max  *float64
			}{{"z" + suffix, r.Z, &maxZ}, {"p" + suffix, r.P, &maxP}, {"tau", r.TauB, &maxTau}, {"s", r.S, &maxS}} {
				ok, d := earsSame(f.got, refFloat(t, g[f.what]), tol)
				if !ok {
					t.Errorf("%s continuity %v: %s %v, R %s", g["series"], cc, f.what, f.got, g[f.what])
				}
				*f.max = math.Max(*f.max, d)
			}
		}
		if g["ties"] == "TRUE" {
			withTies++
		}
	}
	t.Logf("%d series (%d with ties), both with and without continuity correction: max abs error z %.3g, p %.3g, tau-b %.3g, S %.3g",
		len(golden), withTies, maxZ, maxP, maxTau, maxS)
}

func TestMannKendallByHand(t *testing.T) {
	// 1, 2, 2, 3: pairs (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ → S = 5.
	// One tie group of 2: VarS = (4·3·13 - 2·1·9)/18 = 138/18.
	r, err := MannKendall([]float64{1, 2, 2, 3}, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.S != 5 || math.Abs(r.VarS-138.0/18) > 1e-15 || math.Abs(r.Z-5/math.Sqrt(138.0/18)) > 1e-15 ||
		math.Abs(r.TauB-5/math.Sqrt(6*5)) > 1e-15 {
		t.Errorf("%+v", r)
	}
	rc, _ := MannKendall([]float64{1, 2, 2, 3}, true)
	if math.Abs(rc.Z-4/math.Sqrt(138.0/18)) > 1e-15 || rc.P <= r.P {
		t.Errorf("continuity: %+v", rc)
	}
	down, _ := MannKendall([]float64{5, 4, 3, 2, 1}, true)
	if down.S != -10 || down.TauB != -1 || down.Z >= 0 {
		t.Errorf("decreasing: %+v", down)
	}
	flat, _ := MannKendall([]float64{2, 2, 2}, false)
	if flat.S != 0 || !math.IsNaN(flat.Z) || !math.IsNaN(flat.P) || !math.IsNaN(flat.TauB) {
		t.Errorf("constant: %+v", flat)
	}
	if _, err := MannKendall([]float64{1, 2}, false); err == nil {
		t.Error("two values: no error")
	}
	if _, err := MannKendall([]float64{1, math.NaN(), 2}, false); err == nil {
		t.Error("NaN: no error")
	}
}
