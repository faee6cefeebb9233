package tension

import (
	"cmp"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

var knoxWriteInputs = flag.Bool("write-knox-inputs", false, "write the Knox and near-repeat reference inputs under testdata/reference/knox for scripts/reference/knox.R")

const knoxRefDir = "../testdata/reference/knox"

// knoxTestDatasets are the reference data sets, integer metres so that R reads the
// same numbers and distances fall exactly on thresholds where the lattice puts them.
var knoxTestDatasets = []string{"uniform", "nearrepeat", "lattice", "small"}

func knoxTestDataset(name string) []KnoxEvent {
	var ev []KnoxEvent
	switch name {
	case "uniform": // no interaction: places and days independent
		rng := rand.New(rand.NewPCG(11, 1))
		for range 300 {
			ev = append(ev, KnoxEvent{math.Round(rng.Float64() * 3000), math.Round(rng.Float64() * 3000), rng.IntN(365)})
		}
	case "nearrepeat": // 150 incidents, a third of them followed by 1 to 3 near repeats
		rng := rand.New(rand.NewPCG(12, 1))
		for range 150 {
			x, y, d := rng.Float64()*4000, rng.Float64()*4000, rng.IntN(365)
			ev = append(ev, KnoxEvent{math.Round(x), math.Round(y), d})
			if rng.IntN(3) == 0 {
				for range 1 + rng.IntN(3) {
					ev = append(ev, KnoxEvent{math.Round(x + rng.NormFloat64()*80), math.Round(y + rng.NormFloat64()*80), d + rng.IntN(10)})
				}
			}
		}
	case "lattice": // places on a 100 m lattice, many repeats at the same place
		rng := rand.New(rand.NewPCG(13, 1))
		for range 200 {
			ev = append(ev, KnoxEvent{float64(100 * rng.IntN(11)), float64(100 * rng.IntN(11)), rng.IntN(90)})
		}
	case "small":
		rng := rand.New(rand.NewPCG(14, 1))
		for range 25 {
			ev = append(ev, KnoxEvent{math.Round(rng.Float64() * 1000), math.Round(rng.Float64() * 1000), rng.IntN(60)})
		}
	default:
		panic(name)
	}
	return ev
}

// knoxTestThresholds are the (metres, days) thresholds of the Knox references.
var knoxTestThresholds = [][2]float64{{0, 7}, {100, 7}, {200, 14}, {500, 30}}

var knoxTestBands = NearRepeatOptions{Distances: []float64{0, 100, 200, 300, 400}, Days: []int{7, 14, 21, 28}}

// knoxTestNRDatasets are the data sets whose near-repeat tables R checks.
var knoxTestNRDatasets = []string{"nearrepeat", "lattice"}

// TestKnoxReferenceInputs writes the reference inputs when asked to
// (go test ./tension -run TestKnoxReferenceInputs -args -write-knox-inputs).
func TestKnoxReferenceInputs(t *testing.T) {
	if !*knoxWriteInputs {
		t.Skip("run with -args -write-knox-inputs to write the reference inputs")
	}
	if err := os.MkdirAll(knoxRefDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range knoxTestDatasets {
		rows := [][]string{{"x", "y", "day"}}
		for _, e := range knoxTestDataset(name) {
			rows = append(rows, []string{strconv.FormatFloat(e.X, 'f', -1, 64), strconv.FormatFloat(e.Y, 'f', -1, 64), strconv.Itoa(e.Day)})
		}
		writeRefCSV(t, filepath.Join(knoxRefDir, "events-"+name+".csv"), rows[0], rows[1:])
	}
	rows := [][]string{{"dataset", "eps_s", "eps_t"}}
	for _, name := range knoxTestDatasets {
		for _, th := range knoxTestThresholds {
			rows = append(rows, []string{name, strconv.FormatFloat(th[0], 'f', -1, 64), strconv.FormatFloat(th[1], 'f', -1, 64)})
		}
	}
	writeRefCSV(t, filepath.Join(knoxRefDir, "thresholds.csv"), rows[0], rows[1:])
	rows = [][]string{{"dataset"}}
	for _, name := range knoxTestNRDatasets {
		rows = append(rows, []string{name})
	}
	writeRefCSV(t, filepath.Join(knoxRefDir, "nr-datasets.csv"), rows[0], rows[1:])
	rows = [][]string{{"kind", "bound"}}
	for _, d := range knoxTestBands.Distances {
		rows = append(rows, []string{"distance", strconv.FormatFloat(d, 'f', -1, 64)})
	}
	for _, d := range knoxTestBands.Days {
		rows = append(rows, []string{"days", strconv.Itoa(d)})
	}
	writeRefCSV(t, filepath.Join(knoxRefDir, "nr-bands.csv"), rows[0], rows[1:])
}

// knoxTestClose says whether two Monte Carlo p-values from independent runs of b1 and
// b2 replicates agree: within 4.5 standard errors of their difference plus a step.
func knoxTestClose(p1 float64, b1 int, p2 float64, b2 int) (bool, float64) {
	se := math.Sqrt(p1*(1-p1)/float64(b1) + p2*(1-p2)/float64(b2))
	tol := 4.5*se + 1/float64(b1+1) + 1/float64(b2+1)
	return math.Abs(p1-p2) <= tol, tol
}

// TestKnoxReference compares with surveillance::knox: the 2×2 table, the statistic and
// the expected count exactly, the Poisson p-value to 1e-12 relative, the simulated
// p-value (pairs permuted, as surveillance does) within Monte Carlo error, and the
// p-value with days permuted against the same permutation written in R.
func TestKnoxReference(t *testing.T) {
	golden := readRefCSV(t, filepath.Join(knoxRefDir, "knox-golden.csv"))
	if len(golden) != len(knoxTestDatasets)*len(knoxTestThresholds) {
		t.Fatalf("%d golden rows", len(golden))
	}
	var maxPoisson, maxPairs, maxDays float64
	for _, g := range golden {
		ev := knoxTestDataset(g["dataset"])
		b := int(refFloat(t, g["B"]))
		o := KnoxOptions{Distance: refFloat(t, g["eps_s"]), Days: int(refFloat(t, g["eps_t"])), Replicates: b, Seed: 7}
		name := fmt.Sprintf("%s %vm %vd", g["dataset"], o.Distance, o.Days)
		rd, err := Knox(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		o.Null = KnoxPermutePairs
		rp, err := Knox(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		want := [2][2]int{
			{int(refFloat(t, g["t11"])), int(refFloat(t, g["t12"]))},
			{int(refFloat(t, g["t21"])), int(refFloat(t, g["t22"]))},
		}
		if rd.Table != want || rd.Observed != want[0][0] || rd.Pairs != int(refFloat(t, g["npairs"])) {
			t.Errorf("%s: table %v, R %v", name, rd.Table, want)
		}
		if e := refFloat(t, g["expected"]); rd.Expected != e {
			t.Errorf("%s: expected %v, R %v (differ by %g)", name, rd.Expected, e, rd.Expected-e)
		}
		pp := refFloat(t, g["p_poisson"])
		if d := math.Abs(rd.PoissonP-pp) / math.Max(pp, 1e-300); d > 1e-12 {
			t.Errorf("%s: Poisson p %v, R %v", name, rd.PoissonP, pp)
		}
		maxPoisson = max(maxPoisson, math.Abs(rd.PoissonP-pp)/math.Max(pp, 1e-300))
		pr := refFloat(t, g["p_pairs"])
		if ok, tol := knoxTestClose(rp.P, b, pr, b); !ok {
			t.Errorf("%s: p (pairs permuted) %v, surveillance %v, tolerance %v", name, rp.P, pr, tol)
		}
		maxPairs = max(maxPairs, math.Abs(rp.P-pr))
		pd := refFloat(t, g["p_days"])
		if ok, tol := knoxTestClose(rd.P, b, pd, b); !ok {
			t.Errorf("%s: p (days permuted) %v, R %v, tolerance %v", name, rd.P, pd, tol)
		}
		maxDays = max(maxDays, math.Abs(rd.P-pd))
		t.Logf("%-22s obs %5d exp %9.3f  p pairs %.4f (R %.4f)  p days %.4f (R %.4f)  Poisson %.3g", name, rd.Observed, rd.Expected, rp.P, pr, rd.P, pd, rd.PoissonP)
	}
	t.Logf("largest differences: Poisson p %.2g relative, p with pairs permuted %.4f, with days permuted %.4f", maxPoisson, maxPairs, maxDays)
}

// TestNearRepeatReference compares the near-repeat table with the same table computed
// in R: observed counts exactly, the mean and the p-value of R's own permutations
// within Monte Carlo error.
func TestNearRepeatReference(t *testing.T) {
	golden := readRefCSV(t, filepath.Join(knoxRefDir, "nr-golden.csv"))
	tables := map[string]NearRepeatTable{}
	var maxE, maxP float64
	for _, g := range golden {
		tab, ok := tables[g["dataset"]]
		if !ok {
			o := knoxTestBands
			o.Replicates, o.Seed = 1999, 3
			var err error
			tab, err = NearRepeat(knoxTestDataset(g["dataset"]), o)
			if err != nil {
				t.Fatal(err)
			}
			tables[g["dataset"]] = tab
		}
		i, j := int(refFloat(t, g["dband"]))-1, int(refFloat(t, g["tband"]))-1
		b := int(refFloat(t, g["B"]))
		where := fmt.Sprintf("%s %s / %s", g["dataset"], tab.DistanceLabel(i), tab.DayLabel(j))
		if o := int(refFloat(t, g["observed"])); tab.Observed[i][j] != o {
			t.Errorf("%s: observed %d, R %d", where, tab.Observed[i][j], o)
		}
		e, sd := refFloat(t, g["expected"]), refFloat(t, g["sd"])
		// The Go replicates' spread is close to R's: use R's for both.
		if tol := 4.5*sd*math.Sqrt(1/float64(b)+1/float64(tab.Replicates)) + 1e-9; math.Abs(tab.Expected[i][j]-e) > tol {
			t.Errorf("%s: expected %v, R %v, tolerance %v", where, tab.Expected[i][j], e, tol)
		}
		maxE = max(maxE, math.Abs(tab.Expected[i][j]-e))
		p := refFloat(t, g["p"])
		if ok, tol := knoxTestClose(tab.P[i][j], tab.Replicates, p, b); !ok {
			t.Errorf("%s: p %v, R %v, tolerance %v", where, tab.P[i][j], p, tol)
		}
		maxP = max(maxP, math.Abs(tab.P[i][j]-p))
	}
	if len(tables) != len(knoxTestNRDatasets) {
		t.Errorf("golden tables for %d data sets", len(tables))
	}
	t.Logf("%d band cells: largest differences: expected %.3f pairs, p %.4f", len(golden), maxE, maxP)
}

func TestKnoxByHand(t *testing.T) {
	// Four events: a and b 50 m and 2 days apart, c 300 m from a on day 3, d far away on day 40.
	ev := []KnoxEvent{{0, 0, 0}, {30, 40, 2}, {300, 0, 3}, {5000, 5000, 40}}
	r, err := Knox(ev, KnoxOptions{Distance: 100, Days: 7})
	if err != nil {
		t.Fatal(err)
	}
	// 6 pairs. Close in space (≤ 100 m): ab. Close in time (≤ 7 days): ab, ac, bc.
	// Table: [[1, 2], [0, 3]]; expected = 3/6·1 = 0.5; P(Poisson(0.5) > 1) = 1 − 1.5·e^−0.5.
	if r.Pairs != 6 || r.Table != [2][2]int{{1, 2}, {0, 3}} || r.Expected != 0.5 || r.Ratio() != 2 {
		t.Errorf("%+v", r)
	}
	if want := 1 - 1.5*math.Exp(-0.5); math.Abs(r.PoissonP-want) > 1e-15 {
		t.Errorf("Poisson p %v, want %v", r.PoissonP, want)
	}
	if !math.IsNaN(r.P) {
		t.Errorf("p %v without replicates", r.P)
	}
	// The distance threshold is inclusive: ab is exactly 50 m.
	if r, _ := Knox(ev, KnoxOptions{Distance: 50, Days: 2}); r.Observed != 1 {
		t.Errorf("inclusive thresholds: %+v", r.Table)
	}
	if r, _ := Knox(ev, KnoxOptions{Distance: 49.999, Days: 2}); r.Observed != 0 {
		t.Errorf("below the threshold: %+v", r.Table)
	}
	for _, bad := range []struct {
		ev []KnoxEvent
		o  KnoxOptions
	}{
		{ev[:1], KnoxOptions{Distance: 1}},
		{ev, KnoxOptions{Distance: -1}},
		{ev, KnoxOptions{Distance: math.NaN()}},
		{ev, KnoxOptions{Days: -1}},
		{ev, KnoxOptions{Replicates: -1}},
		{ev, KnoxOptions{Null: 7}},
		{[]KnoxEvent{{math.Inf(1), 0, 0}, {0, 0, 0}}, KnoxOptions{}},
		{[]KnoxEvent{{0, 0, math.MaxInt}, {0, 0, math.MinInt}}, KnoxOptions{}},
	} {
		if _, err := Knox(bad.ev, bad.o); geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("%+v: %v", bad.o, err)
		}
	}
}

// TestKnoxPairsBruteForce checks the grid search for close pairs and the counts of
// pairs close in time against every pair.
func TestKnoxPairsBruteForce(t *testing.T) {
	for _, name := range knoxTestDatasets {
		ev := knoxTestDataset(name)
		for _, th := range knoxTestThresholds {
			r, err := Knox(ev, KnoxOptions{Distance: th[0], Days: int(th[1])})
			if err != nil {
				t.Fatal(err)
			}
			var want [2][2]int
			for i := range ev {
				for j := i + 1; j < len(ev); j++ {
					dt := ev[i].Day - ev[j].Day
					ti := 1
					if math.Abs(float64(dt)) <= th[1] {
						ti = 0
					}
					si := 1
					if math.Hypot(ev[i].X-ev[j].X, ev[i].Y-ev[j].Y) <= th[0] {
						si = 0
					}
					want[ti][si]++
				}
			}
			if r.Table != want {
				t.Errorf("%s %v: %v, every pair gives %v", name, th, r.Table, want)
			}
		}
	}
}

func TestKnoxReproducible(t *testing.T) {
	ev := knoxTestDataset("nearrepeat")
	for _, null := range []KnoxNull{KnoxPermuteDays, KnoxPermutePairs} {
		o := KnoxOptions{Distance: 200, Days: 14, Replicates: 499, Seed: 9, Null: null, Workers: 1}
		a, _ := Knox(ev, o)
		o.Workers = 4
		b, _ := Knox(ev, o)
		if a.P != b.P {
			t.Errorf("null %d: p %v with 1 worker, %v with 4", null, a.P, b.P)
		}
	}
	o := knoxTestBands
	o.Replicates, o.Seed, o.Workers = 199, 5, 1
	a, _ := NearRepeat(ev, o)
	o.Workers = 3
	b, _ := NearRepeat(ev, o)
	for i := range a.P {
		if !slices.Equal(a.P[i], b.P[i]) || !slices.Equal(a.Expected[i], b.Expected[i]) {
			t.Errorf("row %d differs with the number of workers", i)
		}
	}
}

// TestNearRepeatTable checks the table's margins and every band cell against all pairs.
func TestNearRepeatTable(t *testing.T) {
	ev := knoxTestDataset("lattice")
	o := knoxTestBands
	o.Replicates, o.Seed = 99, 1
	tab, err := NearRepeat(ev, o)
	if err != nil {
		t.Fatal(err)
	}
	nd, nt := len(o.Distances)+1, len(o.Days)+1
	want := make([][]int, nd)
	for i := range want {
		want[i] = make([]int, nt)
	}
	for i := range ev {
		for j := i + 1; j < len(ev); j++ {
			d := math.Hypot(ev[i].X-ev[j].X, ev[i].Y-ev[j].Y)
			dt := ev[i].Day - ev[j].Day
			if dt < 0 {
				dt = -dt
			}
			di := len(o.Distances)
			for k, b := range o.Distances {
				if d <= b {
					di = k
					break
				}
			}
			ti := len(o.Days)
			for k, b := range o.Days {
				if dt <= b {
					ti = k
					break
				}
			}
			want[di][ti]++
		}
	}
	total := 0.0
	for i := range nd {
		if !slices.Equal(tab.Observed[i], want[i]) {
			t.Errorf("row %d (%s): %v, every pair gives %v", i, tab.DistanceLabel(i), tab.Observed[i], want[i])
		}
		for j := range nt {
			total += tab.Expected[i][j]
			if p := tab.P[i][j]; p < 1.0/100 || p > 1 {
				t.Errorf("p %v", p)
			}
		}
	}
	if math.Abs(total-float64(tab.Pairs)) > 1e-6 {
		t.Errorf("expected counts add up to %v, not %d pairs", total, tab.Pairs)
	}
	labels := []string{tab.DistanceLabel(0), tab.DistanceLabel(1), tab.DistanceLabel(2), tab.DistanceLabel(5), tab.DayLabel(0), tab.DayLabel(1), tab.DayLabel(4)}
	wantLabels := []string{"Same location", "1 to 100 m", "101 to 200 m", "More than 400 m", "0 to 7 days", "8 to 14 days", "More than 28 days"}
	if !slices.Equal(labels, wantLabels) {
		t.Errorf("labels %q", labels)
	}
	for _, bad := range []NearRepeatOptions{
		{Distances: []float64{100, 100}, Days: []int{7}, Replicates: 9},
		{Distances: []float64{-1}, Days: []int{7}, Replicates: 9},
		{Distances: []float64{100}, Days: []int{14, 7}, Replicates: 9},
		{Distances: []float64{100}, Days: []int{7}},
		{Days: []int{7}, Replicates: 9},
	} {
		if _, err := NearRepeat(ev, bad); geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestNearRepeatFinds checks that injected near repeats (within about 100 m and a week)
// show in the table and in the risk extent read off it.
func TestNearRepeatFinds(t *testing.T) {
	tab, err := NearRepeat(knoxTestDataset("nearrepeat"), NearRepeatOptions{
		Distances: []float64{100, 200, 400, 800}, Days: []int{7, 14, 28}, Replicates: 999, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range tab.Observed {
		t.Logf("%-16s obs %v ratio %.2f p %.3f", tab.DistanceLabel(i), tab.Observed[i], tab.Ratio[i], tab.P[i])
	}
	risk, ok := tab.Risk(0.05)
	if !ok || risk.Distance < 100 || risk.Distance > 400 || risk.Days < 7 || risk.Days > 14 {
		t.Errorf("risk %+v %v", risk, ok)
	}
}

func TestNearRepeatRiskRule(t *testing.T) {
	tab := NearRepeatTable{
		Distances: []float64{0, 100, 200, 300},
		Days:      []int{7, 14, 21},
		Ratio: [][]float64{
			{3, 2, 1.5, 1},
			{2, 1.2, 1, 1},
			{1.5, 1, 1, 1},
			{0.9, 1, 1, 1},
			{1, 1, 1, 1},
		},
		P: [][]float64{
			{0.001, 0.01, 0.2, 0.5},
			{0.001, 0.03, 0.5, 0.5},
			{0.02, 0.5, 0.5, 0.5},
			{0.01, 0.5, 0.5, 0.5},
			{0.5, 0.5, 0.5, 0.5},
		},
	}
	if r, ok := tab.Risk(0.05); !ok || r != (NearRepeatRisk{Distance: 200, Days: 14}) {
		t.Errorf("risk %+v %v", r, ok)
	}
	if r, ok := tab.Risk(0.015); !ok || r != (NearRepeatRisk{Distance: 100, Days: 14}) {
		t.Errorf("risk at 0.015 %+v %v", r, ok)
	}
	if _, ok := tab.Risk(0.001); ok {
		t.Error("risk where the first band cell is not significant")
	}
}

func TestNearRepeatZones(t *testing.T) {
	leeds := geo.LatLon{Lat: 53.7997, Lon: -1.5492}
	near := geo.LatLon{Lat: 53.8010, Lon: -1.5450}
	incidents := []NearRepeatIncident{{leeds, 100}, {near, 95}, {geo.LatLon{Lat: 53.9, Lon: -1.3}, 80}}
	risk := NearRepeatRisk{Distance: 400, Days: 14}
	for _, res := range []int{8, 9, 10} {
		got, err := NearRepeatZones(incidents, 101, risk, res)
		if err != nil {
			t.Fatal(err)
		}
		// Every cell of a disk far larger than needed, filtered the same way.
		want := map[uint64]RiskCell{}
		for _, in := range incidents[:2] {
			origin := h3.LatLngToCell(h3.NewLatLng(in.At.Lat, in.At.Lon), res)
			for _, c := range origin.GridDisk(3*knoxRings(origin, risk.Distance) + 3) {
				ll := c.LatLng()
				if c == origin || geo.Distance(in.At, geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}) <= risk.Distance {
					w := want[uint64(c)]
					w.Cell, w.Incidents, w.Until = uint64(c), w.Incidents+1, max(w.Until, in.Day+14)
					want[uint64(c)] = w
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("res %d: %d cells, want %d", res, len(got), len(want))
		}
		for _, c := range got {
			if want[c.Cell] != c {
				t.Errorf("res %d: %+v, want %+v", res, c, want[c.Cell])
			}
		}
		if !slices.IsSortedFunc(got, func(a, b RiskCell) int { return cmp.Compare(a.Cell, b.Cell) }) {
			t.Errorf("res %d: not sorted", res)
		}
		t.Logf("res %d: %d cells", res, len(got))
	}
	// A zero distance keeps each incident's own cell.
	got, _ := NearRepeatZones(incidents[:1], 100, NearRepeatRisk{0, 7}, 9)
	if len(got) != 1 || got[0].Cell != uint64(h3.LatLngToCell(h3.NewLatLng(leeds.Lat, leeds.Lon), 9)) || got[0].Until != 107 {
		t.Errorf("zero distance: %+v", got)
	}
	for _, bad := range []func() error{
		func() error { _, err := NearRepeatZones(incidents, 99, risk, 9); return err },
		func() error { _, err := NearRepeatZones(incidents, 101, risk, 16); return err },
		func() error { _, err := NearRepeatZones(incidents, 101, NearRepeatRisk{-1, 7}, 9); return err },
		func() error { _, err := NearRepeatZones(incidents, 101, NearRepeatRisk{5000, 7}, 15); return err },
		func() error {
			_, err := NearRepeatZones([]NearRepeatIncident{{geo.LatLon{Lat: 91}, 1}}, 101, risk, 9)
			return err
		},
	} {
		if err := bad(); geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("accepted: %v", err)
		}
	}
}
