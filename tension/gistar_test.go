package tension

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/uber/h3-go/v4"
)

var giWriteInputs = flag.Bool("write-gistar-inputs", false,
	"write the Gi* reference inputs to testdata/reference/gistar (then run scripts/reference/gistar.R)")

const giRefDir = "../testdata/reference/gistar"

// giRefCase is one reference case: a study area, possibly over time steps.
type giRefCase struct {
	name   string
	cells  []uint64
	steps  int
	k      int
	prev   int
	values []float64 // step-major
}

// giCentre is a resolution-9 cell in central Leeds.
func giCentre(res int) h3.Cell {
	return h3.LatLngToCell(h3.NewLatLng(53.7997, -1.5492), res)
}

// giArea returns the cells of a disk of radius r around c, in a seeded random order,
// with about `drop` of them removed to make the boundary and interior irregular.
func giArea(rng *rand.Rand, c h3.Cell, r int, drop float64) []uint64 {
	var cells []uint64
	for _, d := range c.GridDisk(r) {
		if rng.Float64() >= drop {
			cells = append(cells, uint64(d))
		}
	}
	slices.Sort(cells)
	rng.Shuffle(len(cells), func(i, j int) { cells[i], cells[j] = cells[j], cells[i] })
	return cells
}

// giCounts draws counts for cells: a sparse background with a hot cluster around
// hot (mean hotMean within distance 2) and a cold hole around cold.
func giCounts(rng *rand.Rand, cells []uint64, hot, cold h3.Cell, bg, hotMean float64) []float64 {
	v := make([]float64, len(cells))
	for i, c := range cells {
		m := bg
		if h3.GridDistance(h3.Cell(c), hot) <= 2 {
			m = hotMean
		}
		if cold != 0 && h3.GridDistance(h3.Cell(c), cold) <= 3 {
			m = 0.02
		}
		v[i] = earsPoisson(rng, m)
	}
	return v
}

// giRefCases builds the reference cases, seeded.
func giRefCases() []giRefCase {
	rng := rand.New(rand.NewPCG(7, 1995))
	var cases []giRefCase
	c9 := giCentre(9)
	hot := c9.GridDisk(6)[40]
	cold := c9.GridDisk(8)[200]

	// A full disk of 331 cells, k = 1 and k = 2.
	area := giArea(rng, c9, 10, 0)
	cases = append(cases, giRefCase{name: "spatial_k1", cells: area, steps: 1, k: 1,
		values: giCounts(rng, area, hot, cold, 1.2, 5)})
	area2 := giArea(rng, c9, 11, 0.25)
	cases = append(cases, giRefCase{name: "spatial_k2_ragged", cells: area2, steps: 1, k: 2,
		values: giCounts(rng, area2, hot, 0, 0.4, 3)})
	// Mostly zeros: the sparse counts of a quiet area, k = 1, with ragged edges
	// (some cells keep only themselves as neighbours).
	area3 := giArea(rng, c9, 9, 0.45)
	cases = append(cases, giRefCase{name: "spatial_sparse_k1", cells: area3, steps: 1, k: 1,
		values: giCounts(rng, area3, hot, 0, 0.05, 0.8)})
	// Around a pentagon: distorted disks.
	pent := h3.Pentagons(6)[3]
	area4 := giArea(rng, pent, 8, 0)
	cases = append(cases, giRefCase{name: "spatial_pentagon_k1", cells: area4, steps: 1, k: 1,
		values: giCounts(rng, area4, pent.GridDisk(3)[5], 0, 1, 4)})
	// Non-integer values (rates).
	vals := giCounts(rng, area, hot, cold, 2, 6)
	for i := range vals {
		vals[i] = vals[i]*1000/float64(800+rng.IntN(900)) + rng.Float64()
	}
	cases = append(cases, giRefCase{name: "spatial_rates_k1", cells: area, steps: 1, k: 1, values: vals})

	// Space-time cubes: cells over weeks with a hot spot that appears and grows.
	cube := func(name string, cells []uint64, steps, k, prev int, bg float64) giRefCase {
		v := make([]float64, 0, len(cells)*steps)
		for t := 0; t < steps; t++ {
			hm := bg
			if t >= steps/2 {
				hm = bg + float64(t-steps/2+1)*1.5
			}
			v = append(v, giCounts(rng, cells, hot, cold, bg, hm)...)
		}
		return giRefCase{name: name, cells: cells, steps: steps, k: k, prev: prev, values: v}
	}
	cubeArea := giArea(rng, c9, 7, 0.1)
	cases = append(cases, cube("cube_k1_p1", cubeArea, 8, 1, 1, 0.8))
	cases = append(cases, cube("cube_k1_p2", cubeArea, 6, 1, 2, 0.3))
	cases = append(cases, cube("cube_k2_p1", giArea(rng, c9, 6, 0.2), 5, 2, 1, 1.5))
	return cases
}

// TestGiStarReferenceInputs writes, for each case, the values and the neighbour
// lists (as edges, self excluded) that scripts/reference/gistar.R builds an spdep
// listw from with include.self. It only runs with -write-gistar-inputs.
func TestGiStarReferenceInputs(t *testing.T) {
	if !*giWriteInputs {
		t.Skip("run with -write-gistar-inputs to regenerate the Gi* reference inputs")
	}
	var caseRows [][]string
	for _, c := range giRefCases() {
		nb := giRefNeighbours(t, c)
		caseRows = append(caseRows, []string{c.name, strconv.Itoa(len(c.cells)), strconv.Itoa(c.steps),
			strconv.Itoa(c.k), strconv.Itoa(c.prev), strconv.Itoa(nb.Len())})
		var rows [][]string
		for b, v := range c.values {
			rows = append(rows, []string{strconv.Itoa(b), fmt.Sprintf("%x", c.cells[b%len(c.cells)]),
				strconv.Itoa(b / len(c.cells)), earsFmt(v)})
		}
		writeRefCSV(t, filepath.Join(giRefDir, c.name+"_values.csv"), []string{"bin", "cell", "step", "value"}, rows)
		rows = rows[:0]
		for i := 0; i < nb.Len(); i++ {
			for _, j := range nb.Neighbours(i) {
				if int(j) != i {
					rows = append(rows, []string{strconv.Itoa(i), strconv.Itoa(int(j))})
				}
			}
		}
		writeRefCSV(t, filepath.Join(giRefDir, c.name+"_edges.csv"), []string{"from", "to"}, rows)
	}
	writeRefCSV(t, filepath.Join(giRefDir, "cases.csv"), []string{"case", "cells", "steps", "k", "prev", "bins"}, caseRows)

	// p-value vectors for p.adjust(p, "BH"): ties, NA, 0 and 1.
	rng := rand.New(rand.NewPCG(1995, 57))
	var rows [][]string
	vec := func(name string, ps []float64) {
		for i, p := range ps {
			s := earsFmt(p)
			if math.IsNaN(p) {
				s = "NA"
			}
			rows = append(rows, []string{name, strconv.Itoa(i), s})
		}
	}
	vec("handmade", []float64{0.01, math.NaN(), 0.04, 0.03, 0.03, 0, 1, 0.5, 0.04, 0.2})
	u := make([]float64, 200)
	for i := range u {
		u[i] = rng.Float64()
		if i%7 == 0 {
			u[i] = math.Round(u[i]*20) / 20 // ties
		}
		if i%11 == 0 {
			u[i] *= 1e-4
		}
	}
	vec("uniform200", u)
	vec("single", []float64{0.2})
	writeRefCSV(t, filepath.Join(giRefDir, "bh_inputs.csv"), []string{"vector", "i", "p"}, rows)
}

// giRefNeighbours returns the explicit neighbour lists of a reference case.
func giRefNeighbours(t testing.TB, c giRefCase) *GiNeighbours {
	t.Helper()
	cube, err := NewGiCube(c.cells, c.steps, c.k, c.prev)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return cube.Neighbours()
}

// TestGiStarMatchesR compares Gi* z-scores, p-values and BH-adjusted p-values with
// spdep::localG and p.adjust over the neighbour lists written with the inputs, and
// checks that the H3 neighbourhoods built from the cells give the same lists.
func TestGiStarMatchesR(t *testing.T) {
	const tol = 1e-9
	cases := readRefCSV(t, filepath.Join(giRefDir, "cases.csv"))
	if len(cases) < 8 {
		t.Fatalf("%d Gi* reference cases", len(cases))
	}
	var maxZ, maxZH3, maxP, maxBH float64
	var bins, spatial, spaceTime int
	for _, cr := range cases {
		name := cr["case"]
		steps, _ := strconv.Atoi(cr["steps"])
		k, _ := strconv.Atoi(cr["k"])
		prev, _ := strconv.Atoi(cr["prev"])
		vrows := readRefCSV(t, filepath.Join(giRefDir, name+"_values.csv"))
		values := make([]float64, len(vrows))
		var cells []uint64
		for b, r := range vrows {
			values[b] = refFloat(t, r["value"])
			if r["step"] == "0" {
				c, err := strconv.ParseUint(r["cell"], 16, 64)
				if err != nil {
					t.Fatal(err)
				}
				cells = append(cells, c)
			}
		}
		lists := make([][]int, len(values))
		for i := range lists {
			lists[i] = []int{i}
		}
		for _, e := range readRefCSV(t, filepath.Join(giRefDir, name+"_edges.csv")) {
			from, _ := strconv.Atoi(e["from"])
			to, _ := strconv.Atoi(e["to"])
			lists[from] = append(lists[from], to)
		}
		nb, err := NewGiNeighbours(lists)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		zList, err := nb.GiStar(values)
		if err != nil {
			t.Fatal(err)
		}
		// The same statistic from the cells, through the H3 neighbourhoods.
		cube, err := NewGiCube(cells, steps, k, prev)
		if err != nil {
			t.Fatal(err)
		}
		if h := cube.Neighbours(); !slices.Equal(h.start, nb.start) || !slices.Equal(h.idx, nb.idx) {
			t.Errorf("%s: the H3 neighbourhoods differ from the edges file", name)
		}
		var zH3 []float64
		if steps == 1 {
			zH3, err = GiStar(cells, values, k)
			spatial++
		} else {
			zH3, err = GiStarCube(cells, steps, values, k, prev)
			spaceTime++
		}
		if err != nil {
			t.Fatal(err)
		}
		p := GiPValues(zList)
		bh := BenjaminiHochberg(p)
		golden := readRefCSV(t, filepath.Join(giRefDir, name+"_golden.csv"))
		if len(golden) != len(values) {
			t.Fatalf("%s: %d bins, R has %d", name, len(values), len(golden))
		}
		for b, g := range golden {
			for _, f := range []struct {
				what string
				got  float64
				max  *float64
			}{{"z", zList[b], &maxZ}, {"z", zH3[b], &maxZH3}, {"p", p[b], &maxP}, {"p_bh", bh[b], &maxBH}} {
				ok, d := earsSame(f.got, refFloat(t, g[f.what]), tol)
				if !ok {
					t.Errorf("%s bin %d: %s %v, R %s", name, b, f.what, f.got, g[f.what])
				}
				*f.max = math.Max(*f.max, d)
			}
		}
		bins += len(values)
	}
	t.Logf("%d spatial and %d space-time cases, %d bins: max abs error z %.3g (edges), %.3g (H3 cube), p %.3g, BH p %.3g",
		spatial, spaceTime, bins, maxZ, maxZH3, maxP, maxBH)
}

func TestBenjaminiHochbergMatchesR(t *testing.T) {
	in := readRefCSV(t, filepath.Join(giRefDir, "bh_inputs.csv"))
	gold := readRefCSV(t, filepath.Join(giRefDir, "bh_golden.csv"))
	vecs := map[string][]float64{}
	want := map[string][]float64{}
	for i, r := range in {
		vecs[r["vector"]] = append(vecs[r["vector"]], refFloat(t, r["p"]))
		want[r["vector"]] = append(want[r["vector"]], refFloat(t, gold[i]["p_bh"]))
	}
	var maxD float64
	for name, p := range vecs {
		got := BenjaminiHochberg(p)
		for i := range got {
			ok, d := earsSame(got[i], want[name][i], 1e-15)
			if !ok {
				t.Errorf("%s[%d]: %v, R %v", name, i, got[i], want[name][i])
			}
			maxD = math.Max(maxD, d)
		}
	}
	t.Logf("%d vectors: max abs error %.3g", len(vecs), maxD)
}

// TestH3GiNeighbours checks the neighbourhoods built from H3 cells.
func TestH3GiNeighbours(t *testing.T) {
	c := giCentre(9)
	area := c.GridDisk(3) // 37 cells
	cells := make([]uint64, len(area))
	for i, a := range area {
		cells[i] = uint64(a)
	}
	idx := map[uint64]int{}
	for i, c := range cells {
		idx[c] = i
	}
	nb, err := H3GiNeighbours(cells, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, cell := range cells {
		got := nb.Neighbours(i)
		if d := h3.GridDistance(h3.Cell(cell), c); d < 3 && len(got) != 7 {
			t.Errorf("cell %x at distance %d: %d neighbours, want 7", cell, d, len(got))
		}
		if !slices.IsSorted(got) || !slices.Contains(got, int32(i)) {
			t.Errorf("cell %x: neighbours %v unsorted or without itself", cell, got)
		}
		for _, j := range got {
			if h3.GridDistance(h3.Cell(cell), h3.Cell(cells[j])) > 1 {
				t.Errorf("cell %x: neighbour %x is too far", cell, cells[j])
			}
			// Symmetric.
			if !slices.Contains(nb.Neighbours(int(j)), int32(i)) {
				t.Errorf("cells %x and %x: not symmetric", cell, cells[j])
			}
		}
	}
	// Edge cells of a hexagonal disk: the 6 corners have 4 (self, 2 ring, 1
	// inside), the other 12 have 5 (self, 2 ring, 2 inside).
	var n4, n5 int
	for i, cell := range cells {
		if h3.GridDistance(h3.Cell(cell), c) == 3 {
			switch len(nb.Neighbours(i)) {
			case 4:
				n4++
			case 5:
				n5++
			}
		}
	}
	if n4 != 6 || n5 != 12 {
		t.Errorf("ring cells: %d with 4 neighbours, %d with 5; want 6 and 12", n4, n5)
	}
	// k = 2 in the middle: 19 cells; k = 0: only itself.
	nb2, _ := H3GiNeighbours(cells, 2)
	if n := len(nb2.Neighbours(idx[uint64(c)])); n != 19 {
		t.Errorf("k=2 centre: %d neighbours", n)
	}
	nb0, _ := H3GiNeighbours(cells, 0)
	if got := nb0.Neighbours(idx[uint64(c)]); len(got) != 1 || int(got[0]) != idx[uint64(c)] {
		t.Errorf("k=0: %v", got)
	}
	// A pentagon has 5 neighbours at k = 1.
	p := h3.Pentagons(7)[0]
	pc := []uint64{}
	for _, d := range p.GridDisk(2) {
		pc = append(pc, uint64(d))
	}
	nbp, err := H3GiNeighbours(pc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(nbp.Neighbours(slices.Index(pc, uint64(p)))); n != 6 {
		t.Errorf("pentagon: %d neighbours with itself, want 6", n)
	}
	// Cells outside the study area do not count: an isolated cell is its own
	// neighbourhood.
	far := uint64(giCentre(9).GridDisk(10)[300])
	nbi, _ := H3GiNeighbours(append(slices.Clone(cells), far), 1)
	if got := nbi.Neighbours(len(cells)); len(got) != 1 {
		t.Errorf("isolated cell: %v", got)
	}

	// Errors.
	for name, tc := range map[string]struct {
		cells []uint64
		k     int
	}{
		"negative k":     {cells, -1},
		"huge k":         {cells, MaxGiK + 1},
		"invalid cell":   {[]uint64{cells[0], 12345}, 1},
		"duplicate":      {[]uint64{cells[0], cells[1], cells[0]}, 1},
		"two resolution": {[]uint64{cells[0], uint64(giCentre(8))}, 1},
	} {
		if _, err := H3GiNeighbours(tc.cells, tc.k); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGiCubeNeighbours(t *testing.T) {
	c := giCentre(9)
	var cells []uint64
	for _, d := range c.GridDisk(2) {
		cells = append(cells, uint64(d))
	}
	centre := slices.Index(cells, uint64(c))
	cube, err := NewGiCube(cells, 4, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	nb := cube.Neighbours()
	if nb.Len() != 4*len(cells) || cube.Bins() != nb.Len() {
		t.Fatalf("%d bins", nb.Len())
	}
	// The centre's bins: 7 at step 0, 14 at step 1, 21 at steps 2 and 3.
	for step, want := range []int{7, 14, 21, 21} {
		got := nb.Neighbours(step*len(cells) + centre)
		if len(got) != want {
			t.Errorf("step %d: %d neighbours, want %d", step, len(got), want)
		}
		for _, b := range got {
			s, i := int(b)/len(cells), int(b)%len(cells)
			if s > step || s < step-2 || h3.GridDistance(h3.Cell(cells[i]), c) > 1 {
				t.Errorf("step %d: neighbour bin %d (cell %d step %d) out of the neighbourhood", step, b, i, s)
			}
		}
	}
	// Fast and explicit computations agree; so does the spatial Gi* per step with no
	// previous steps.
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, cube.Bins())
	for i := range vals {
		vals[i] = earsPoisson(rng, 2)
	}
	fast, _ := cube.GiStar(vals)
	slow, _ := nb.GiStar(vals)
	for i := range fast {
		if math.Abs(fast[i]-slow[i]) > 1e-12 {
			t.Fatalf("bin %d: %v fast, %v explicit", i, fast[i], slow[i])
		}
	}
	for name, f := range map[string]func() error{
		"no steps":        func() error { _, err := NewGiCube(cells, 0, 1, 0); return err },
		"prev too long":   func() error { _, err := NewGiCube(cells, 3, 1, 3); return err },
		"negative prev":   func() error { _, err := NewGiCube(cells, 3, 1, -1); return err },
		"wrong length":    func() error { _, err := cube.GiStar(vals[1:]); return err },
		"NaN value":       func() error { v := slices.Clone(vals); v[3] = math.NaN(); _, err := cube.GiStar(v); return err },
		"values vs cells": func() error { _, err := GiStar(cells, vals, 1); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNewGiNeighboursErrors(t *testing.T) {
	for name, lists := range map[string][][]int{
		"no self":      {{0, 1}, {0}},
		"out of range": {{0, 2}, {1}},
		"negative":     {{0, -1}, {1}},
		"twice":        {{0, 1, 1}, {1, 0}},
	} {
		if _, err := NewGiNeighbours(lists); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	nb, err := NewGiNeighbours([][]int{{1, 0}, {1}, {2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nb.Neighbours(0), []int32{0, 1}) {
		t.Errorf("not sorted: %v", nb.Neighbours(0))
	}
	// Constant values: zero variance, NaN like R.
	z, err := nb.GiStar([]float64{2, 2, 2})
	if err != nil || !math.IsNaN(z[0]) {
		t.Errorf("constant values: %v, %v", z, err)
	}
	if p := GiPValues([]float64{0, 1.959963984540054, math.NaN(), -3}); p[0] != 1 || math.Abs(p[1]-0.05) > 1e-15 ||
		!math.IsNaN(p[2]) || math.Abs(p[3]-0.0026997960632601866) > 1e-17 {
		t.Errorf("p-values %v", p)
	}
}
