package tension

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/uber/h3-go/v4"
)

// ehsSeries builds a z-series from a pattern: 'H' a significant hot step (z 2.5),
// 'C' a cold one (-2.5), '.' neither (z 0.3), repeated as given.
func ehsSeries(pattern string) []float64 {
	z := make([]float64, len(pattern))
	for i, r := range pattern {
		switch r {
		case 'H':
			z[i] = 2.5
		case 'C':
			z[i] = -2.5
		default:
			z[i] = 0.3
		}
	}
	return z
}

func ehsRepeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// ehsGaps returns n z-scores of z except 0.3 at the given steps.
func ehsGaps(n int, z float64, gaps ...int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = z
		if slices.Contains(gaps, i) {
			s[i] = 0.3
		}
	}
	return s
}

// ehsRamp returns n z-scores from a to b, evenly spaced.
func ehsRamp(a, b float64, n int) []float64 {
	z := make([]float64, n)
	for i := range z {
		z[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return z
}

// ehsAlternate returns n z-scores alternating between a and b: no trend.
func ehsAlternate(a, b float64, n int) []float64 {
	z := make([]float64, n)
	for i := range z {
		z[i] = a
		if i%2 == 1 {
			z[i] = b
		}
	}
	return z
}

func TestClassifyHotspotSeries(t *testing.T) {
	for _, tc := range []struct {
		name string
		z    []float64
		want Category
	}{
		{"never significant", ehsSeries(".........."), CategoryNoPattern},
		{"hot only in the middle", ehsSeries("..HHH....."), CategoryNoPattern},
		{"new hot", ehsSeries(".........H"), CategoryNewHotSpot},
		{"new cold", ehsSeries(".........C"), CategoryNewColdSpot},
		{"consecutive hot", ehsSeries(".......HHH"), CategoryConsecutiveHotSpot},
		{"consecutive cold", ehsSeries("........CC"), CategoryConsecutiveColdSpot},
		{"intensifying hot", ehsRamp(2, 3.5, 10), CategoryIntensifyingHotSpot},
		{"intensifying cold", ehsRamp(-2, -3.5, 10), CategoryIntensifyingColdSpot},
		{"persistent hot", ehsAlternate(2.4, 2.6, 10), CategoryPersistentHotSpot},
		{"persistent cold", ehsAlternate(-2.4, -2.6, 10), CategoryPersistentColdSpot},
		{"diminishing hot", ehsRamp(3.5, 2, 10), CategoryDiminishingHotSpot},
		{"diminishing cold", ehsRamp(-3.5, -2, 10), CategoryDiminishingColdSpot},
		{"sporadic hot", ehsSeries("H..H.....H"), CategorySporadicHotSpot},
		{"sporadic hot, final run of two", ehsSeries("H..H....HH"), CategorySporadicHotSpot},
		{"sporadic cold", ehsSeries(".C...C...C"), CategorySporadicColdSpot},
		{"oscillating hot", ehsSeries("C........H"), CategoryOscillatingHotSpot},
		{"oscillating hot, cold then hot run", ehsSeries("..CC...HHH"), CategoryOscillatingHotSpot},
		{"oscillating cold", ehsSeries("H...H....C"), CategoryOscillatingColdSpot},
		{"historical hot", ehsSeries("HHHHHHHHH."), CategoryHistoricalHotSpot},
		{"historical cold", ehsSeries("CCCCCCCCC."), CategoryHistoricalColdSpot},

		// The 90% boundary: 9 of 10 steps is 90%.
		{"9 of 10 hot with the last: persistent", ehsSeries(".HHHHHHHHH"), CategoryPersistentHotSpot},
		{"8 of 10 hot in a final run: consecutive", ehsSeries("..HHHHHHHH"), CategoryConsecutiveHotSpot},
		{"18 of 20 hot, last not: historical", ehsSeries("." + ehsRepeat("H", 18) + "."), CategoryHistoricalHotSpot},
		{"17 of 20 hot, last not: no pattern", ehsSeries(".." + ehsRepeat("H", 17) + "."), CategoryNoPattern},
		{"47 of 52 weeks hot (90.4%), no trend", ehsGaps(52, 2.5, 5, 15, 25, 36, 46), CategoryPersistentHotSpot},
		{"47 of 52 weeks hot (90.4%), early gaps", ehsSeries(".H.H.H.H.H" + ehsRepeat("H", 42)), CategoryIntensifyingHotSpot},
		{"46 of 52 weeks hot (88.5%)", ehsSeries(".H.H.H.H.." + ehsRepeat("H", 42)), CategorySporadicHotSpot},
		{"46 of 52 weeks cold (88.5%), last not", ehsSeries(".C.C.C.C.." + ehsRepeat("C", 41) + "."), CategoryNoPattern},
		{"47 of 52 weeks cold (90.4%), last not", ehsSeries(".C.C.C.C" + ehsRepeat("C", 43) + "."), CategoryHistoricalColdSpot},
		// 90% hot and the last step cold: the last step decides.
		{"hot 90% but cold now", ehsSeries(ehsRepeat("H", 18) + ".C"), CategoryOscillatingColdSpot},
		// 90% hot with an earlier cold step: still persistent.
		{"hot 90% with a cold step", ehsSeries("C" + ehsRepeat("H", 9)), CategoryPersistentHotSpot},
		{"one step, hot", ehsSeries("H"), CategoryPersistentHotSpot},
		{"two steps, hot then not", ehsSeries("H."), CategoryNoPattern},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp, err := ClassifyHotspotSeries(tc.z, GiPValues(tc.z), 0)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Category != tc.want {
				t.Errorf("%v: %s, want %s (trend z %.3g p %.3g, hot %d, cold %d)", tc.z, cp.Category, tc.want,
					cp.TrendZ, cp.TrendP, cp.HotSteps, cp.ColdSteps)
			}
			if cp.Category.Hot() && cp.Category.Cold() {
				t.Errorf("%s is hot and cold", cp.Category)
			}
		})
	}
}

func TestClassifyHotspotSeriesFields(t *testing.T) {
	z := []float64{0.3, 2, 2.5, -2, 1.7}
	p := []float64{0.8, 0.10, 0.01, 0.04, 0.1000001} // p = alpha is significant
	cp, err := ClassifyHotspotSeries(z, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cp.HotSteps != 2 || cp.ColdSteps != 1 || cp.HotShare != 0.4 || cp.ColdShare != 0.2 ||
		cp.Z != 1.7 || cp.P != 0.1000001 || cp.Bin != 0 || cp.Category != CategoryNoPattern {
		t.Errorf("%+v", cp)
	}
	mk, _ := MannKendall(z, true)
	if cp.TrendZ != mk.Z || cp.TrendP != mk.P {
		t.Errorf("trend %v %v, Mann-Kendall %+v", cp.TrendZ, cp.TrendP, mk)
	}
	// A stricter alpha drops the step at p 0.10.
	cp, _ = ClassifyHotspotSeries(z, p, 0.05)
	if cp.HotSteps != 1 {
		t.Errorf("alpha 0.05: %+v", cp)
	}
	// NaN z-scores (a constant cube): nothing significant, no trend.
	nan := []float64{math.NaN(), math.NaN(), math.NaN()}
	cp, _ = ClassifyHotspotSeries(nan, nan, 0)
	if cp.Category != CategoryNoPattern || !math.IsNaN(cp.TrendZ) {
		t.Errorf("NaN: %+v", cp)
	}
	for name, f := range map[string]func() error{
		"lengths": func() error { _, err := ClassifyHotspotSeries(z, p[1:], 0); return err },
		"empty":   func() error { _, err := ClassifyHotspotSeries(nil, nil, 0); return err },
		"alpha":   func() error { _, err := ClassifyHotspotSeries(z, p, 1.5); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestEmergingHotspots runs the analysis on a synthetic cube with a cluster that
// appears in the last week, one present all along, and a background.
func TestEmergingHotspots(t *testing.T) {
	centre := giCentre(9)
	var cells []uint64
	for _, c := range centre.GridDisk(9) {
		cells = append(cells, uint64(c))
	}
	slices.Sort(cells)
	ring := centre.GridDiskDistances(5)[5]
	newC, oldC := ring[0], ring[len(ring)/2]
	if h3.GridDistance(newC, oldC) < 5 {
		t.Fatal("clusters too close")
	}
	const steps = 20
	rng := rand.New(rand.NewPCG(5, 6))
	counts := make([]float64, 0, len(cells)*steps)
	for s := 0; s < steps; s++ {
		for _, c := range cells {
			m := 0.5
			if h3.GridDistance(h3.Cell(c), oldC) <= 1 {
				m = 6
			}
			if s == steps-1 && h3.GridDistance(h3.Cell(c), newC) <= 1 {
				m = 15
			}
			counts = append(counts, earsPoisson(rng, m))
		}
	}
	cube := HotspotCube{Cells: cells, Steps: steps, Counts: counts}
	res, err := EmergingHotspots(cube)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cells) {
		t.Fatalf("%d patterns for %d cells", len(res), len(cells))
	}
	byCell := map[uint64]CellPattern{}
	counted := map[Category]int{}
	for _, r := range res {
		byCell[r.Cell] = r
		counted[r.Category]++
	}
	t.Logf("categories: %v", counted)
	if c := byCell[uint64(newC)]; c.Category != CategoryNewHotSpot {
		t.Errorf("new cluster: %+v", c)
	}
	if c := byCell[uint64(oldC)]; c.Category != CategoryPersistentHotSpot {
		t.Errorf("old cluster: %+v", c)
	}
	// The latest z-scores are the cube's Gi* of the last step, the p-values their
	// FDR-adjusted p-values.
	z, _ := GiStarCube(cells, steps, counts, 1, 1)
	_, adj := HotspotBins(z)
	for i, r := range res {
		b := (steps-1)*len(cells) + i
		if r.Z != z[b] || r.P != adj[b] {
			t.Fatalf("cell %d: z %v p %v, cube %v %v", i, r.Z, r.P, z[b], adj[b])
		}
	}
	// Without FDR more bins are significant.
	cube.NoFDR = true
	raw, _ := EmergingHotspots(cube)
	var hotFDR, hotRaw int
	for i := range res {
		hotFDR += res[i].HotSteps
		hotRaw += raw[i].HotSteps
	}
	if hotRaw <= hotFDR {
		t.Errorf("hot bins: %d without FDR, %d with", hotRaw, hotFDR)
	}
	// Purely spatial Gi* per step.
	cube.PrevSteps = -1
	sp, _ := EmergingHotspots(cube)
	zc, _ := GiStarCube(cells, steps, counts, 1, 0)
	if sp[0].Z != zc[(steps-1)*len(cells)] {
		t.Errorf("PrevSteps -1: z %v, want %v", sp[0].Z, zc[(steps-1)*len(cells)])
	}

	for name, c := range map[string]HotspotCube{
		"no cells":      {Steps: 3},
		"counts":        {Cells: cells, Steps: steps, Counts: counts[1:]},
		"prev too long": {Cells: cells, Steps: steps, Counts: counts, PrevSteps: steps},
		"alpha":         {Cells: cells, Steps: steps, Counts: counts, Alpha: -1},
		"bad cell":      {Cells: []uint64{1, 2}, Steps: 1, Counts: []float64{1, 2}},
	} {
		if _, err := EmergingHotspots(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A one-step cube works (no earlier step to include).
	if _, err := EmergingHotspots(HotspotCube{Cells: cells, Steps: 1, Counts: counts[:len(cells)]}); err != nil {
		t.Errorf("one step: %v", err)
	}
}
