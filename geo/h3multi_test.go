package geo

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/uber/h3-go/v4"
)

var allResolutions = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// checkCellsAtResolutions compares CellsAtResolutions with LatLngToCell at every
// resolution for one place, and says whether the projection decided every resolution
// itself (no fallback to the library).
func checkCellsAtResolutions(tb testing.TB, ll LatLon) (own int) {
	tb.Helper()
	got := CellsAtResolutions(nil, ll, allResolutions)
	var p projection
	ok := p.project(ll)
	for i, r := range allResolutions {
		want := uint64(h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), r))
		if got[i] != want {
			tb.Fatalf("place %v (lat %b, lon %b) at resolution %d: got %s, want %s", ll, math.Float64bits(ll.Lat), math.Float64bits(ll.Lon), r, CellString(got[i]), CellString(want))
		}
		if ok {
			if c, done := p.cell(r); done {
				if c != want {
					tb.Fatalf("place %v at resolution %d: the projection gave %s, the library %s", ll, r, CellString(c), CellString(want))
				}
				own++
			}
		}
	}
	return own
}

// differentialPlaces are the places the differential test covers: random over the
// sphere, Great Britain, near the edges and corners of the icosahedron's faces, near
// the twelve pentagons and the face centres, the poles and the antimeridian, and the
// corners of cells at every resolution (exactly on a boundary between cells).
func differentialPlaces(rng *rand.Rand) map[string][]LatLon {
	out := map[string][]LatLon{}
	sphere := func() LatLon {
		z := rng.Float64()*2 - 1
		return LatLon{math.Asin(z) * 180 / math.Pi, rng.Float64()*360 - 180}
	}
	jitter := func(ll LatLon, scale float64) LatLon {
		ll = LatLon{ll.Lat + (rng.Float64()*2-1)*scale, ll.Lon + (rng.Float64()*2-1)*scale}
		ll.Lat = max(-90, min(90, ll.Lat))
		if ll.Lon > 180 {
			ll.Lon -= 360
		} else if ll.Lon < -180 {
			ll.Lon += 360
		}
		return ll
	}
	for range 20000 {
		out["random worldwide"] = append(out["random worldwide"], sphere())
		out["United Kingdom"] = append(out["United Kingdom"], LatLon{49.9 + rng.Float64()*10.9, -8.2 + rng.Float64()*10})
	}
	// Face edges: points between each pair of face centres, found by bisection where
	// the nearest face changes, then moved off the edge by a little at many scales.
	for a := range faceCenterPoint {
		for b := a + 1; b < len(faceCenterPoint); b++ {
			pa, pb := faceCenterPoint[a], faceCenterPoint[b]
			if (pa[0]-pb[0])*(pa[0]-pb[0])+(pa[1]-pb[1])*(pa[1]-pb[1])+(pa[2]-pb[2])*(pa[2]-pb[2]) > 0.6 {
				continue // not neighbours
			}
			for _, t := range []float64{0.5} {
				x, y, z := pa[0]*(1-t)+pb[0]*t, pa[1]*(1-t)+pb[1]*t, pa[2]*(1-t)+pb[2]*t
				n := math.Sqrt(x*x + y*y + z*z)
				mid := LatLon{math.Asin(z/n) * 180 / math.Pi, math.Atan2(y, x) * 180 / math.Pi}
				out["face edges"] = append(out["face edges"], mid)
				for _, s := range []float64{1e-12, 1e-9, 1e-6, 1e-4, 1e-2, 1} {
					for range 40 {
						out["face edges"] = append(out["face edges"], jitter(mid, s))
					}
				}
			}
		}
	}
	for f := range faceCenterGeo {
		c := LatLon{faceCenterGeo[f][0] * 180 / math.Pi, faceCenterGeo[f][1] * 180 / math.Pi}
		out["face centres"] = append(out["face centres"], c)
		for _, s := range []float64{1e-12, 1e-9, 1e-7, 1e-5, 1e-3, 1e-1} {
			for range 30 {
				out["face centres"] = append(out["face centres"], jitter(c, s))
			}
		}
	}
	for _, pc := range h3.Pentagons(0) {
		c := pc.LatLng()
		ll := LatLon{c.Lat, c.Lng}
		out["pentagons"] = append(out["pentagons"], ll)
		for _, v := range pc.Boundary() {
			out["pentagons"] = append(out["pentagons"], LatLon{v.Lat, v.Lng})
		}
		for _, s := range []float64{1e-9, 1e-6, 1e-4, 1e-2, 1, 5} {
			for range 100 {
				out["pentagons"] = append(out["pentagons"], jitter(ll, s))
			}
		}
	}
	for _, lat := range []float64{90, -90, 89.999999, -89.999999, 89.9, -89.9, 85, -85} {
		for range 50 {
			out["poles"] = append(out["poles"], LatLon{lat, rng.Float64()*360 - 180})
		}
	}
	for range 2000 {
		lat := math.Asin(rng.Float64()*2-1) * 180 / math.Pi
		for _, lon := range []float64{180, -180, math.Nextafter(180, 0), math.Nextafter(-180, 0), 179.9999999, -179.9999999} {
			out["antimeridian"] = append(out["antimeridian"], LatLon{lat, lon})
		}
	}
	// Cell corners and centres: a corner is on the boundary of three cells, and the
	// midpoint of an edge on that of two; each only a rounding away from the next cell.
	for range 300 {
		ll := sphere()
		if rng.IntN(2) == 0 {
			ll = LatLon{49.9 + rng.Float64()*10.9, -8.2 + rng.Float64()*10}
		}
		for r := 0; r <= 15; r++ {
			c := h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), r)
			centre := c.LatLng()
			out["cell corners"] = append(out["cell corners"], LatLon{centre.Lat, centre.Lng})
			b := c.Boundary()
			for i, v := range b {
				w := b[(i+1)%len(b)]
				out["cell corners"] = append(out["cell corners"], LatLon{v.Lat, v.Lng}, LatLon{(v.Lat + w.Lat) / 2, (v.Lng + w.Lng) / 2})
			}
		}
	}
	return out
}

// TestCellsAtResolutionsMatchesH3 is the differential test: every cell at every
// resolution equals LatLngToCell's, and the projection itself decides nearly all of
// them (the library is asked only very near a boundary).
func TestCellsAtResolutionsMatchesH3(t *testing.T) {
	places := differentialPlaces(rand.New(rand.NewPCG(13, 1)))
	for name, lls := range places {
		own := 0
		for _, ll := range lls {
			own += checkCellsAtResolutions(t, ll)
		}
		total := len(lls) * len(allResolutions)
		t.Logf("%s: %d places, %d of %d cells from the projection itself", name, len(lls), own, total)
		if name == "random worldwide" || name == "United Kingdom" {
			if float64(own) < 0.999*float64(total) {
				t.Errorf("%s: only %d of %d cells from the projection; the library was asked too often", name, own, total)
			}
		}
	}
}

// TestCellsAtResolutionsSubsets checks that asking for some resolutions, in any order,
// gives the same cells as asking for each alone, and that a resolution outside 0 to 15
// and a place outside the usual ranges give what LatLngToCell gives.
func TestCellsAtResolutionsSubsets(t *testing.T) {
	for _, ll := range randomPlaces(200) {
		got := CellsAtResolutions(nil, ll, []int{10, 6, 8})
		for i, r := range []int{10, 6, 8} {
			if want := CellAt(ll, r); got[i] != want {
				t.Fatalf("%v at %d: got %s, want %s", ll, r, CellString(got[i]), CellString(want))
			}
		}
	}
	for _, ll := range []LatLon{{52, -1}, {math.NaN(), 0}, {0, math.Inf(1)}, {91, 0}, {45, 540}, {-1e300, 1e300}} {
		got := CellsAtResolutions(nil, ll, []int{-1, 0, 9, 16})
		for i, r := range []int{-1, 0, 9, 16} {
			if want := uint64(h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), r)); got[i] != want {
				t.Errorf("%v at %d: got %s, want %s", ll, r, CellString(got[i]), CellString(want))
			}
		}
	}
}

// TestH3TablesMatchLibrary checks the tables copied from the H3 library against what
// h3-go says of the base cells.
func TestH3TablesMatchLibrary(t *testing.T) {
	cells := h3.Res0Cells()
	if len(cells) != len(baseCellPentagon) {
		t.Fatalf("%d base cells, the table has %d", len(cells), len(baseCellPentagon))
	}
	for _, c := range cells {
		if got, want := baseCellPentagon[c.BaseCellNumber()], c.IsPentagon(); got != want {
			t.Errorf("base cell %d: pentagon %v in the table, %v in the library", c.BaseCellNumber(), got, want)
		}
	}
	for f, g := range faceCenterGeo {
		x, y, z := math.Cos(g[1])*math.Cos(g[0]), math.Sin(g[1])*math.Cos(g[0]), math.Sin(g[0])
		p := faceCenterPoint[f]
		if d := math.Abs(x-p[0]) + math.Abs(y-p[1]) + math.Abs(z-p[2]); d > 1e-12 {
			t.Errorf("face %d: centre %v and point %v disagree by %g", f, g, p, d)
		}
	}
}

// FuzzCellsAtResolutions compares CellsAtResolutions with h3-go's LatLngToCell at
// every resolution for any place, including ones outside the usual ranges.
func FuzzCellsAtResolutions(f *testing.F) {
	for _, ll := range []LatLon{{52.0339, -0.7623}, {90, 0}, {-90, 180}, {0, -180}, {64.7, 10.536}, {faceCenterGeo[3][0] * 180 / math.Pi, faceCenterGeo[3][1] * 180 / math.Pi}, {1e-300, -1e-300}} {
		f.Add(ll.Lat, ll.Lon)
	}
	f.Fuzz(func(t *testing.T, lat, lon float64) {
		checkCellsAtResolutions(t, LatLon{lat, lon})
	})
}

// BenchmarkCellsAtResolutions compares the cells of a place at the roll-up
// resolutions 5 to 10 from one projection with six LatLngToCell calls, over the same
// places in the same process.
func BenchmarkCellsAtResolutions(b *testing.B) {
	places := randomPlaces(4096)
	res := []int{5, 6, 7, 8, 9, 10}
	b.Run("projection", func(b *testing.B) {
		out := make([]uint64, 0, len(res))
		for i := 0; b.Loop(); i++ {
			out = CellsAtResolutions(out[:0], places[i%len(places)], res)
		}
	})
	b.Run("h3-go", func(b *testing.B) {
		out := make([]uint64, 0, len(res))
		for i := 0; b.Loop(); i++ {
			out = out[:0]
			ll := places[i%len(places)]
			for _, r := range res {
				out = append(out, uint64(h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), r)))
			}
		}
	})
}

// BenchmarkCellsAtResolutionsRatio times both ways over the same 256 places in
// alternation, so that a shared machine's load falls on both alike, and reports the
// time of six LatLngToCell calls over the time of one projection (above 1: the
// projection is faster).
func BenchmarkCellsAtResolutionsRatio(b *testing.B) {
	places := randomPlaces(256)
	res := []int{5, 6, 7, 8, 9, 10}
	out := make([]uint64, 0, len(res))
	var ours, theirs time.Duration
	for b.Loop() {
		start := time.Now()
		for _, ll := range places {
			out = CellsAtResolutions(out[:0], ll, res)
		}
		mid := time.Now()
		for _, ll := range places {
			out = out[:0]
			for _, r := range res {
				out = append(out, uint64(h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), r)))
			}
		}
		ours += mid.Sub(start)
		theirs += time.Since(mid)
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N*len(places)), "ns/place")
	b.ReportMetric(float64(theirs.Nanoseconds())/float64(b.N*len(places)), "h3-go-ns/place")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-faster")
}
