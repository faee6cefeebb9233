package tension

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// knoxRandomEvents draws n events of one of several shapes chosen to meet the grid's
// edge cases: places on a 10 m lattice (distances such as 100 m fall exactly on the
// band bounds, through 3-4-5 triangles among others), many events at a few places
// (heavy places), every event on one day or at one place, points far apart, large
// coordinates, and days too far apart to sort by counting.
func knoxRandomEvents(r *rand.Rand, n int, shape int) []KnoxEvent {
	ev := make([]KnoxEvent, n)
	switch shape {
	case 0: // a lattice, days over two months
		for i := range ev {
			ev[i] = KnoxEvent{float64(10 * r.IntN(60)), float64(10 * r.IntN(60)), r.IntN(60)}
		}
	case 1: // a few places holding most events, some scattered, days over a month
		places := make([][2]float64, 1+r.IntN(6))
		for k := range places {
			places[k] = [2]float64{float64(50 * r.IntN(12)), float64(50 * r.IntN(12))}
		}
		for i := range ev {
			if r.IntN(4) == 0 {
				ev[i] = KnoxEvent{r.Float64() * 600, r.Float64() * 600, r.IntN(30)}
			} else {
				p := places[r.IntN(len(places))]
				ev[i] = KnoxEvent{p[0], p[1], r.IntN(30)}
			}
		}
	case 2: // one day, a small lattice
		for i := range ev {
			ev[i] = KnoxEvent{float64(30 * r.IntN(20)), float64(40 * r.IntN(20)), 5}
		}
	case 3: // a national grid far from the origin, spread wide, a year
		for i := range ev {
			ev[i] = KnoxEvent{400000 + math.Round(r.Float64()*20000), 5.78e6 + math.Round(r.Float64()*3000), 20000 + r.IntN(365)}
		}
	case 4: // clusters with near repeats, negative coordinates and days
		for i := 0; i < n; {
			x, y, d := -2000+r.Float64()*3000, -1500+r.Float64()*3000, -100+r.IntN(200)
			for k := 0; k <= r.IntN(4) && i < n; k++ {
				ev[i] = KnoxEvent{x + r.NormFloat64()*60, y + r.NormFloat64()*60, d + r.IntN(12)}
				i++
			}
		}
	case 5: // every event at one place
		for i := range ev {
			ev[i] = KnoxEvent{123.5, -7, r.IntN(40)}
		}
	case 6: // days spread over millennia (sorted by comparison, not by counting)
		for i := range ev {
			ev[i] = KnoxEvent{float64(20 * r.IntN(30)), float64(20 * r.IntN(30)), r.IntN(1_000_000) - 500_000 + 5*r.IntN(3)}
		}
	}
	return ev
}

// knoxRandomBands draws distance and day bounds, some of them 0 and some on the
// lattice's distances.
func knoxRandomBands(r *rand.Rand) ([]float64, []int) {
	var dist []float64
	b := float64([]int{0, 0, 10, 50, 100}[r.IntN(5)])
	for range 1 + r.IntN(6) {
		dist = append(dist, b)
		b += float64([]int{10, 50, 100, 100, 150}[r.IntN(5)])
	}
	var days []int
	d := []int{0, 0, 1, 3, 7}[r.IntN(5)]
	for range 1 + r.IntN(5) {
		days = append(days, d)
		d += 1 + r.IntN(14)
	}
	if r.IntN(8) == 0 { // a last bound beyond most differences of days
		days = append(days, 100_000)
	}
	return dist, days
}

// TestNearRepeatGridMatchesPairs compares the grid's near-repeat tables with the
// pairwise reference's on random inputs: with the same seed the permutations are the
// same, so every field must be identical, the expected counts and p-values included.
// Each input runs with the default grid and with heavy places from 2 events and 1 to
// 7 cells across the largest distance, so that every way of counting a pair is met,
// and by the list of pairs near in space (knoxPairList): as chosen, and always.
func TestNearRepeatGridMatchesPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 13))
	cases := 120
	if testing.Short() {
		cases = 30
	}
	for c := range cases {
		shape := c % 7
		ev := knoxRandomEvents(r, 2+r.IntN(400), shape)
		dist, days := knoxRandomBands(r)
		o := NearRepeatOptions{Distances: dist, Days: days, Replicates: 1 + r.IntN(25), Seed: r.Uint64(), Workers: 1 + r.IntN(3)}
		want, err := nearRepeatByPairs(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range [][4]int{{0, 0, 0, -1}, {0, 0, 1, -1}, {2, 1, 0, -1}, {2 + r.IntN(6), 1 + r.IntN(7), c % 2, -1},
			{0, 0, 0, 0}, {0, 0, 0, 1}, {2 + r.IntN(6), 1 + r.IntN(7), 0, 1}} {
			got, err := nearRepeat(ev, o, knoxTuning{heavy: g[0], split: g[1], perCell: g[2] == 1, pairs: g[3]})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(knoxComparable(got), knoxComparable(want)) {
				t.Fatalf("case %d (shape %d, %d events, bands %v m × %v days, heavy %d, split %d, per cell %d, list %d):\ngrid  %+v\npairs %+v",
					c, shape, len(ev), dist, days, g[0], g[1], g[2], g[3], got.Observed, want.Observed)
			}
		}
	}
}

// knoxComparable turns the NaN ratios into a value DeepEqual compares.
func knoxComparable(t NearRepeatTable) NearRepeatTable {
	t.Ratio = slices.Clone(t.Ratio)
	for i := range t.Ratio {
		t.Ratio[i] = slices.Clone(t.Ratio[i])
		for j, v := range t.Ratio[i] {
			if math.IsNaN(v) {
				t.Ratio[i][j] = -1
			}
		}
	}
	return t
}

// TestKnoxGridMatchesPairs does the same for the Knox test, both nulls.
func TestKnoxGridMatchesPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 14))
	for c := range 90 {
		shape := c % 7
		ev := knoxRandomEvents(r, 2+r.IntN(300), shape)
		dist, days := knoxRandomBands(r)
		o := KnoxOptions{Distance: dist[r.IntN(len(dist))], Days: days[r.IntN(len(days))], Replicates: r.IntN(30), Seed: r.Uint64(),
			Null: KnoxNull(r.IntN(2)), Workers: 1 + r.IntN(3)}
		want, err := knoxByPairs(ev, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range [][3]int{{0, 0, 0}, {0, 0, 1}, {2, 1, 0}, {3, 5, 1}} {
			got, err := knox(ev, o, knoxTuning{heavy: g[0], split: g[1], perCell: g[2] == 1})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("case %d (shape %d, %d events, %v m, %d days, heavy %d, split %d, per cell %d):\ngrid  %+v\npairs %+v", c, shape, len(ev), o.Distance, o.Days, g[0], g[1], g[2], got, want)
			}
		}
	}
}

// TestKnoxGridEdges checks distances exactly on a bound, just over it, identical
// places and events on one day against the pair list, for bounds that are not whole
// numbers and coordinates far from the origin.
func TestKnoxGridEdges(t *testing.T) {
	x0, y0 := 512345.25, 5780001.5
	ev := []KnoxEvent{
		{x0, y0, 0}, {x0 + 0.3, y0 + 0.4, 0}, // 0.5 m apart (to the bit: a 3-4-5 triangle of halves)
		{x0, y0, 3}, {x0, y0, 3}, {x0, y0, 10}, // the same place
		{x0 + 60, y0 + 80, 7},                          // 100 m from the first
		{x0 + math.Nextafter(100, 200), y0, 8},         // just over 100 m
		{x0 - 100, y0, 15}, {x0 - 0.1, y0 + 99.99, 15}, // on the bound and within
		{x0 + 1e-9, y0, 0}, {x0 + 250, y0 - 250, 1}, // a hair apart; far
		{x0 + 400, y0 + 300, 21}, {x0 + 400, y0 + 300, 21}, // 500 m, same day, same place
		{x0 + 400.0000001, y0 + 300, 22},
	}
	for _, dist := range [][]float64{{0, 0.5, 100, 500}, {0.5, 99.99999999999999, 100}, {100}, {0}, {500}} {
		for _, days := range [][]int{{0, 7}, {0}, {3, 8, 21}} {
			o := NearRepeatOptions{Distances: dist, Days: days, Replicates: 9, Seed: 4}
			want, err := nearRepeatByPairs(ev, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range [][3]int{{0, 0, 0}, {0, 0, 1}, {2, 1, 0}, {2, 3, 1}, {3, 8, 0}} {
				got, err := nearRepeat(ev, o, knoxTuning{heavy: g[0], split: g[1], perCell: g[2] == 1})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(knoxComparable(got), knoxComparable(want)) {
					t.Errorf("bands %v m × %v days, heavy %d, split %d, per cell %d: grid %v, pairs %v", dist, days, g[0], g[1], g[2], got.Observed, want.Observed)
				}
			}
		}
	}
}

// TestKnoxHugeDayBound checks that a last time bound far beyond every difference of
// days neither allocates in proportion to it nor changes the counts.
func TestKnoxHugeDayBound(t *testing.T) {
	ev := knoxRandomEvents(rand.New(rand.NewPCG(8, 9)), 300, 4)
	o := NearRepeatOptions{Distances: []float64{100, 200}, Days: []int{7, 1_000_000_000_000}, Replicates: 9, Seed: 2}
	huge, err := NearRepeat(ev, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Days = []int{7, 1000}
	want, err := nearRepeatByPairs(ev, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(huge.Observed, want.Observed) || !reflect.DeepEqual(huge.P, want.P) {
		t.Errorf("bound 10¹² days: %v, bound 1000: %v", huge.Observed, want.Observed)
	}
	k, err := Knox(ev, KnoxOptions{Distance: 150, Days: 1_000_000_000_000})
	if err != nil || k.Observed != k.CloseInSpace || k.CloseInTime != k.Pairs {
		t.Errorf("Knox with a bound of 10¹² days: %+v, %v", k, err)
	}
}

// TestKnoxSquares checks that each bound's square is the largest whose root is
// within the bound.
func TestKnoxSquares(t *testing.T) {
	bounds := []float64{0, 1e-300, 0.1, 0.5, 1, 99.99999999999999, 100, 300, 1234.5678, 1e10, 1e200}
	for k, s := range knoxSquares(bounds) {
		if b := bounds[k]; math.Sqrt(s) > b || (!math.IsInf(math.Nextafter(s, math.Inf(1)), 1) && math.Sqrt(math.Nextafter(s, math.Inf(1))) <= b) {
			t.Errorf("bound %v: square %v", b, s)
		}
	}
}

// TestNearRepeatDemoMatchesPairs compares the tables of a year of the demo town's
// located incidents (as the engine projects them, with the engine's bands) by the
// grid, by the grid counting cell by cell and by the pair list: dense places make
// long runs of candidates and heavy places, which the small random inputs meet less.
func TestNearRepeatDemoMatchesPairs(t *testing.T) {
	ev := knoxDemoEvents(t, 6000)
	o := DefaultNearRepeatOptions()
	o.Replicates = 19
	want, err := nearRepeatByPairs(ev, o)
	if err != nil {
		t.Fatal(err)
	}
	if near := want.Observed[1][0] + want.Observed[5][3]; want.Events != 6000 || near < 100 {
		t.Fatalf("%d events, %d pairs in two near band cells: too few to compare", want.Events, near)
	}
	for _, tune := range []knoxTuning{{}, {pairs: -1}, {perCell: true, pairs: -1}, {split: 4, pairs: -1}, {heavy: 3, split: 2, pairs: -1}, {pairs: 1}, {heavy: 3, split: 2, pairs: 1}} {
		got, err := nearRepeat(ev, o, tune)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(knoxComparable(got), knoxComparable(want)) {
			t.Errorf("%+v: grid %v, pairs %v", tune, got.Observed, want.Observed)
		}
	}
}
