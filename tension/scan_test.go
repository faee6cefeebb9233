package tension

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// scanTestOrigin is a resolution 9 cell in central Leeds.
var scanTestOrigin = h3.LatLngToCell(h3.NewLatLng(53.7997, -1.5492), 9)

// scanTestRegion returns the cells of the disk of radius k around the origin, nearest first.
func scanTestRegion(k int) []uint64 {
	var cells []uint64
	for _, ring := range h3.GridDiskDistances(scanTestOrigin, k) {
		for _, c := range ring {
			cells = append(cells, uint64(c))
		}
	}
	return cells
}

// scanTestNull returns n cases placed independently in space (cell weights drawn once
// per dataset, so some cells are busier) and in time (a weekly cycle and a trend) over
// days 0..days-1, aggregated by cell and day.
func scanTestNull(rng *rand.Rand, cells []uint64, days, n int) []ScanCase {
	wc := make([]float64, len(cells))
	for i := range wc {
		wc[i] = rng.ExpFloat64()
	}
	wd := make([]float64, days)
	for d := range wd {
		wd[d] = (1 + 0.5*math.Sin(2*math.Pi*float64(d)/7)) * (1 + float64(d)/float64(days))
	}
	cellCDF, dayCDF := scanTestCDF(wc), scanTestCDF(wd)
	counts := map[[2]int]int{}
	for range n {
		counts[[2]int{scanTestDraw(rng, cellCDF), scanTestDraw(rng, dayCDF)}]++
	}
	return scanTestCases(cells, counts)
}

func scanTestCDF(w []float64) []float64 {
	cdf := make([]float64, len(w))
	s := 0.0
	for i, v := range w {
		s += v
		cdf[i] = s
	}
	for i := range cdf {
		cdf[i] /= s
	}
	return cdf
}

func scanTestDraw(rng *rand.Rand, cdf []float64) int {
	i, _ := slices.BinarySearch(cdf, rng.Float64())
	return min(i, len(cdf)-1)
}

func scanTestCases(cells []uint64, counts map[[2]int]int) []ScanCase {
	var out []ScanCase
	for k, v := range counts {
		out = append(out, ScanCase{Cell: cells[k[0]], Day: k[1], Count: v})
	}
	slices.SortFunc(out, func(a, b ScanCase) int {
		if a.Cell != b.Cell {
			if a.Cell < b.Cell {
				return -1
			}
			return 1
		}
		return a.Day - b.Day
	})
	return out
}

// scanBrute evaluates every cylinder by the textbook formulas: μ as the double sum of
// N_s·N_d/N, c by counting, the LLR from scanLLR. It returns the largest LLR and, for
// each (centre, radius, days), the LLR.
func scanBrute(cases []ScanCase, analysisDay int, o ScanOptions) (float64, map[[3]uint64]float64) {
	ns := map[uint64]int{}
	nd := map[int]int{}
	n := 0
	for _, c := range cases {
		ns[c.Cell] += c.Count
		nd[c.Day] += c.Count
		n += c.Count
	}
	all := map[[3]uint64]float64{}
	top := 0.0
	for centre := range ns {
		for k := 0; k <= o.MaxRadius; k++ {
			in := map[uint64]bool{}
			for _, c := range h3.GridDisk(h3.Cell(centre), k) {
				in[uint64(c)] = true
			}
			for w := 1; w <= o.MaxDays; w++ {
				obs := 0
				for _, c := range cases {
					if in[c.Cell] && c.Day > analysisDay-w {
						obs += c.Count
					}
				}
				mu := 0.0
				for s, vs := range ns {
					if !in[s] {
						continue
					}
					for d := analysisDay - w + 1; d <= analysisDay; d++ {
						mu += float64(vs) * float64(nd[d]) / float64(n)
					}
				}
				llr := scanLLR(float64(obs), mu, float64(n))
				all[[3]uint64{centre, uint64(k), uint64(w)}] = llr
				top = max(top, llr)
			}
		}
	}
	return top, all
}

func TestScanLLRByHand(t *testing.T) {
	ring := h3.GridDiskDistances(scanTestOrigin, 3)
	a := uint64(scanTestOrigin)
	b := uint64(ring[1][0]) // a neighbour of a
	far := uint64(ring[3][0])
	tests := []struct {
		name          string
		cases         []ScanCase
		day           int
		o             ScanOptions
		c             int
		mu, llr       float64
		first, radius int
		cells         int
	}{
		{
			// N = 13; cell a has 4 cases, day 9 has 3, all in a: μ = 4·3/13 = 12/13.
			// LLR = 3 ln(3/(12/13)) + 10 ln(10/(13 − 12/13)) = 3 ln(13/4) + 10 ln(130/157).
			name: "one cell one day",
			cases: []ScanCase{{a, 9, 3}, {a, 0, 1}, {far, 0, 1}, {far, 1, 1}, {far, 2, 1}, {far, 3, 1},
				{far, 4, 1}, {far, 5, 1}, {far, 6, 1}, {far, 7, 1}, {far, 8, 1}},
			day: 9, o: ScanOptions{MaxRadius: 0, MaxDays: 1},
			c: 3, mu: 12.0 / 13, llr: 3*math.Log(13.0/4) + 10*math.Log(130.0/157), first: 9, cells: 1,
		},
		{
			// N = 20: a 5 (days 1, 8, 9, 9, 9), b 5 (days 2, 3, 8, 9, 9), far 10 (days 0..7, 8, 8).
			// Day 9 holds 5 cases, all in {a, b}; the disk {a, b} (radius 1 around either)
			// holds N_zone = 10: μ = 10·5/20 = 2.5, c = 5,
			// LLR = 5 ln(5/2.5) + 15 ln(15/17.5) = 1.1535.
			// Beaten: {a, b} over days 8..9: N_w = 9, μ = 4.5, c = 7,
			// LLR = 7 ln(7/4.5) + 13 ln(13/15.5) = 0.8062; {a} on day 9: μ = 1.25, c = 3,
			// LLR = 3 ln 2.4 + 17 ln(17/18.75) = 0.9607.
			name: "two cells",
			cases: []ScanCase{{a, 8, 1}, {a, 9, 3}, {a, 1, 1}, {b, 8, 1}, {b, 9, 2}, {b, 2, 1}, {b, 3, 1},
				{far, 0, 1}, {far, 1, 1}, {far, 2, 1}, {far, 3, 1}, {far, 4, 1}, {far, 5, 1}, {far, 6, 1}, {far, 7, 1}, {far, 8, 2}},
			day: 9, o: ScanOptions{MaxRadius: 1, MaxDays: 3},
			c: 5, mu: 2.5, llr: 5*math.Log(2) + 15*math.Log(15/17.5), first: 9, radius: 1, cells: 2,
		},
		{
			// Every case in one cell on the last day but one elsewhere earlier: N = 6, the
			// cell a has 5, day 9 has 5: μ = 5·5/6 = 25/6, c = 5.
			// LLR = 5 ln(5/(25/6)) + 1·ln(1/(6 − 25/6)) = 5 ln 1.2 + ln(6/11).
			name:  "nearly everything",
			cases: []ScanCase{{a, 9, 5}, {far, 3, 1}},
			day:   9, o: ScanOptions{MaxRadius: 2, MaxDays: 7},
			c: 5, mu: 25.0 / 6, llr: 5*math.Log(1.2) + math.Log(6.0/11), first: 9, cells: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.MaxSecondary = 0
			r, err := Scan(tt.cases, tt.day, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Clusters) != 1 {
				t.Fatalf("got %d clusters", len(r.Clusters))
			}
			cl := r.Clusters[0]
			if cl.Observed != tt.c || math.Abs(cl.Expected-tt.mu) > 1e-12 || math.Abs(cl.LLR-tt.llr) > 1e-12 {
				t.Errorf("c=%d μ=%v LLR=%v, want %d %v %v", cl.Observed, cl.Expected, cl.LLR, tt.c, tt.mu, tt.llr)
			}
			if cl.FirstDay != tt.first || cl.LastDay != tt.day || cl.Radius != tt.radius || len(cl.Cells) != tt.cells {
				t.Errorf("window %d..%d radius %d cells %v", cl.FirstDay, cl.LastDay, cl.Radius, cl.Cells)
			}
			if !math.IsNaN(cl.P) || !math.IsNaN(cl.RecurrenceDays) {
				t.Errorf("p %v without replicates", cl.P)
			}
			if top, _ := scanBrute(tt.cases, tt.day, o); math.Abs(top-cl.LLR) > 1e-12 {
				t.Errorf("brute force max %v", top)
			}
		})
	}
	if got := scanLLR(2, 2, 10); got != 0 {
		t.Errorf("c = μ: LLR %v", got)
	}
	if got := scanLLR(1, 2, 10); got != 0 {
		t.Errorf("c < μ: LLR %v", got)
	}
	if got, want := scanLLR(4, 1, 4), 4*math.Log(4); math.Abs(got-want) > 1e-15 {
		t.Errorf("c = N: LLR %v, want %v", got, want)
	}
}

func TestScanMatchesBruteForce(t *testing.T) {
	cells := scanTestRegion(4)
	compared, clusters := 0, 0
	defer func() { t.Logf("%d datasets, %d clusters compared", compared, clusters) }()
	for seed := range 25 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		cases := scanTestNull(rng, cells, 30, 40+rng.IntN(200))
		if seed%3 == 0 { // a spike somewhere
			c := cells[rng.IntN(len(cells))]
			cases = append(cases, ScanCase{c, 29, 3}, ScanCase{c, 28, 2})
		}
		o := ScanOptions{MaxRadius: 1 + seed%3, MaxDays: 1 + seed%7, MaxSecondary: 5}
		r, err := Scan(cases, 29, o)
		if err != nil {
			t.Fatal(err)
		}
		top, all := scanBrute(cases, 29, o)
		compared++
		if top == 0 {
			if len(r.Clusters) != 0 {
				t.Errorf("seed %d: clusters where no cylinder exceeds its expectation", seed)
			}
			continue
		}
		if len(r.Clusters) == 0 {
			t.Fatalf("seed %d: no cluster, brute force max %v", seed, top)
		}
		if math.Abs(r.Clusters[0].LLR-top) > 1e-9 {
			t.Errorf("seed %d: max LLR %v, brute force %v", seed, r.Clusters[0].LLR, top)
		}
		used := map[uint64]bool{}
		for i, cl := range r.Clusters {
			clusters++
			want := all[[3]uint64{cl.Center, uint64(cl.Radius), uint64(cl.LastDay - cl.FirstDay + 1)}]
			if math.Abs(cl.LLR-want) > 1e-9 {
				t.Errorf("seed %d cluster %d: LLR %v, brute force %v", seed, i, cl.LLR, want)
			}
			if i > 0 && cl.LLR > r.Clusters[i-1].LLR+1e-9 {
				t.Errorf("seed %d: cluster %d stronger than the one before", seed, i)
			}
			for _, c := range cl.Cells {
				if used[c] {
					t.Errorf("seed %d: cluster %d shares cell %x", seed, i, c)
				}
				used[c] = true
			}
		}
	}
}

func TestScanReproducible(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	cases := scanTestNull(rng, scanTestRegion(6), 90, 600)
	o := ScanOptions{MaxRadius: 2, MaxDays: 7, Replicates: 199, Seed: 42, MaxSecondary: 3}
	var first ScanResult
	for i, w := range []int{1, 2, 5} {
		o.Workers = w
		r, err := Scan(cases, 89, o)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = r
			continue
		}
		if len(r.Clusters) != len(first.Clusters) {
			t.Fatalf("%d workers: %d clusters, 1 worker %d", w, len(r.Clusters), len(first.Clusters))
		}
		for j := range r.Clusters {
			a, b := r.Clusters[j], first.Clusters[j]
			if a.P != b.P || a.LLR != b.LLR || a.Center != b.Center {
				t.Errorf("%d workers: cluster %d %+v, 1 worker %+v", w, j, a, b)
			}
		}
	}
	o.Seed = 43
	r, _ := Scan(cases, 89, o)
	if r.Clusters[0].LLR != first.Clusters[0].LLR {
		t.Error("the seed changed the observed cluster")
	}
}

// TestScanFalseAlarms checks the size of the test: with space and time independent,
// the most likely cluster has p ≤ 0.05 in about 5% of datasets (permutation tests are
// exact; ties between discrete LLRs can only make them conservative).
func TestScanFalseAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const runs = 2000
	cells := scanTestRegion(5)
	alarms, tenth := 0, 0
	for run := range runs {
		rng := rand.New(rand.NewPCG(uint64(run), 1001))
		cases := scanTestNull(rng, cells, 60, 300)
		r, err := Scan(cases, 59, ScanOptions{MaxRadius: 2, MaxDays: 7, Replicates: 99, Seed: uint64(run)})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Clusters) > 0 && r.Clusters[0].P <= 0.05 {
			alarms++
		}
		if len(r.Clusters) > 0 && r.Clusters[0].P <= 0.10 {
			tenth++
		}
	}
	share := float64(alarms) / runs
	se := math.Sqrt(0.05 * 0.95 / runs)
	t.Logf("false alarms: %d of %d null datasets (%.3f; 5%% ± %.3f at 3 SE)", alarms, runs, share, 3*se)
	if math.Abs(share-0.05) > 3*se {
		t.Errorf("share of p ≤ 0.05 is %.3f, outside 0.05 ± %.3f", share, 3*se)
	}
	share10, se10 := float64(tenth)/runs, math.Sqrt(0.1*0.9/runs)
	t.Logf("p ≤ 0.10: %d of %d (%.3f; 10%% ± %.3f at 3 SE)", tenth, runs, share10, 3*se10)
	if math.Abs(share10-0.10) > 3*se10 {
		t.Errorf("share of p ≤ 0.10 is %.3f, outside 0.10 ± %.3f", share10, 3*se10)
	}
}

// TestScanDetects injects 8 extra cases into 3 neighbouring cells over the last 3
// days of a null background and checks the most likely cluster covers them with p ≤ 0.05.
func TestScanDetects(t *testing.T) {
	const trials = 50
	cells := scanTestRegion(5)
	found := 0
	for trial := range trials {
		rng := rand.New(rand.NewPCG(uint64(trial), 2002))
		cases := scanTestNull(rng, cells, 60, 300)
		centre := h3.Cell(cells[rng.IntN(len(cells))])
		nbs := centre.GridDisk(1)
		hot := []uint64{uint64(centre), uint64(nbs[1]), uint64(nbs[2])}
		for range 8 {
			cases = append(cases, ScanCase{hot[rng.IntN(3)], 57 + rng.IntN(3), 1})
		}
		r, err := Scan(cases, 59, ScanOptions{MaxRadius: 2, MaxDays: 7, Replicates: 999, Seed: uint64(trial)})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Clusters) == 0 {
			continue
		}
		cl := r.Clusters[0]
		overlap := slices.ContainsFunc(cl.Cells, func(c uint64) bool { return slices.Contains(hot, c) })
		if overlap && cl.P <= 0.05 {
			found++
		}
	}
	t.Logf("injected clusters found: %d of %d", found, trials)
	if found < trials*8/10 {
		t.Errorf("found %d of %d injected clusters", found, trials)
	}
}

func TestScanEdges(t *testing.T) {
	a := uint64(scanTestOrigin)
	o := DefaultScanOptions()
	o.Replicates = 9
	if r, err := Scan(nil, 10, o); err != nil || len(r.Clusters) != 0 || r.Cases != 0 {
		t.Errorf("no cases: %+v %v", r, err)
	}
	// Nothing recent: no window has a case.
	if r, err := Scan([]ScanCase{{a, 0, 5}}, 10, o); err != nil || len(r.Clusters) != 0 || r.Recent != 0 {
		t.Errorf("no recent cases: %+v %v", r, err)
	}
	// All cases in one cell: every cylinder has c ≤ μ.
	if r, err := Scan([]ScanCase{{a, 0, 5}, {a, 10, 3}}, 10, o); err != nil || len(r.Clusters) != 0 {
		t.Errorf("one cell: %+v %v", r, err)
	}
	// Zero counts are ignored, duplicates add up.
	r1, _ := Scan([]ScanCase{{a, 10, 2}, {uint64(h3.GridDisk(scanTestOrigin, 4)[60]), 3, 4}}, 10, o)
	r2, _ := Scan([]ScanCase{{a, 10, 1}, {a, 10, 1}, {a, 9, 0}, {uint64(h3.GridDisk(scanTestOrigin, 4)[60]), 3, 4}}, 10, o)
	if len(r1.Clusters) != 1 || len(r2.Clusters) != 1 || r1.Clusters[0].LLR != r2.Clusters[0].LLR || r1.Clusters[0].P != r2.Clusters[0].P {
		t.Errorf("aggregation: %+v vs %+v", r1, r2)
	}
	bad := []struct {
		name  string
		cases []ScanCase
		o     func(*ScanOptions)
	}{
		{"future case", []ScanCase{{a, 11, 1}}, nil},
		{"negative count", []ScanCase{{a, 1, -1}}, nil},
		{"invalid cell", []ScanCase{{12345, 1, 1}}, nil},
		{"mixed resolutions", []ScanCase{{a, 1, 1}, {uint64(scanTestOrigin.Parent(8)), 1, 1}}, nil},
		{"radius", nil, func(o *ScanOptions) { o.MaxRadius = -1 }},
		{"days", nil, func(o *ScanOptions) { o.MaxDays = 0 }},
		{"replicates", nil, func(o *ScanOptions) { o.Replicates = -1 }},
	}
	for _, b := range bad {
		o := DefaultScanOptions()
		if b.o != nil {
			b.o(&o)
		}
		if _, err := Scan(b.cases, 10, o); geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("%s: error %v", b.name, err)
		}
	}
}

// TestScanPValue checks the rank: a cluster far stronger than anything the
// permutations produce has the smallest p, 1/(R+1), and recurrence R+1 days.
func TestScanPValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	cells := scanTestRegion(5)
	cases := scanTestNull(rng, cells, 60, 300)
	cases = append(cases, ScanCase{cells[0], 59, 15})
	r, err := Scan(cases, 59, ScanOptions{MaxRadius: 1, MaxDays: 7, Replicates: 99, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cl := r.Clusters[0]
	if cl.P != 0.01 || cl.RecurrenceDays != 100 || !slices.Contains(cl.Cells, cells[0]) {
		t.Errorf("strong cluster: %+v", cl)
	}
	if cl.Ratio() <= 1 {
		t.Errorf("ratio %v", cl.Ratio())
	}
}
