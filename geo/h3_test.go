package geo

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// randomPlaces returns n seeded random places: uniform over the sphere's latitudes
// and longitudes, plus Great Britain, where the service's reports are.
func randomPlaces(n int) []LatLon {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]LatLon, 0, n)
	for i := range n {
		if i%2 == 0 {
			out = append(out, LatLon{rng.Float64()*180 - 90, rng.Float64()*360 - 180})
		} else {
			out = append(out, LatLon{49.9 + rng.Float64()*10.9, -8.2 + rng.Float64()*10})
		}
	}
	return out
}

// TestCellParentMatchesH3 checks the bit arithmetic shared with the database's
// h3_parent against the H3 library, for every pair of resolutions.
func TestCellParentMatchesH3(t *testing.T) {
	places := randomPlaces(100)
	for fine := 0; fine <= 15; fine++ {
		for coarse := 0; coarse <= fine; coarse++ {
			for _, p := range places {
				c := h3.LatLngToCell(h3.NewLatLng(p.Lat, p.Lon), fine)
				got, want := CellParent(uint64(c), coarse), uint64(c.Parent(coarse))
				if got != want {
					t.Fatalf("CellParent(%s, %d) for %v at res %d: got %s, want %s", CellString(uint64(c)), coarse, p, fine, CellString(got), CellString(want))
				}
				if CellRes(got) != coarse {
					t.Fatalf("got resolution %d, want %d", CellRes(got), coarse)
				}
			}
		}
	}
}

func TestCellRes(t *testing.T) {
	for res := 0; res <= 15; res++ {
		c := h3.LatLngToCell(h3.NewLatLng(52.0339, -0.7623), res)
		if got := CellRes(uint64(c)); got != res || got != c.Resolution() {
			t.Errorf("got %d, want %d", got, res)
		}
	}
}

func TestBinnerDefaults(t *testing.T) {
	b, err := NewBinner(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Resolutions, DefaultResolutions) {
		t.Errorf("got resolutions %v, want %v", b.Resolutions, DefaultResolutions)
	}
	place := LatLon{52.0339, -0.7623}
	tests := []struct {
		prec       Precision
		cellRes    int // 0 with wantNoCell
		rollupRes  int
		rollupRess []int
		wantNoCell bool
	}{
		{PrecisionExact, 15, 10, []int{6, 7, 8, 9, 10}, false},
		{PrecisionStreet, 9, 9, []int{6, 7, 8, 9}, false},
		{PrecisionPostcode, 8, 8, []int{6, 7, 8}, false},
		{PrecisionAreaCentroid, 6, 6, []int{6}, false},
		{PrecisionOnline, 0, 0, nil, true},
		{PrecisionNone, 0, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.prec), func(t *testing.T) {
			in := &Incident{Precision: tt.prec, Location: place}
			if !tt.prec.Located() {
				in.Location = LatLon{}
			}
			cell := b.Cell(in)
			var cache CellCache
			if cached := b.CachedCell(&cache, in); cached != cell {
				t.Errorf("got CachedCell %s, want Cell's %s", CellString(cached), CellString(cell))
			}
			if tt.wantNoCell {
				if cell != 0 || b.RollupCell(cell) != 0 || b.CellResolutions(cell) != nil {
					t.Errorf("got cell %d rollup %d resolutions %v, want 0, 0, none", cell, b.RollupCell(cell), b.CellResolutions(cell))
				}
				return
			}
			if want := uint64(h3.LatLngToCell(h3.NewLatLng(place.Lat, place.Lon), tt.cellRes)); cell != want {
				t.Errorf("got cell %s, want %s", CellString(cell), CellString(want))
			}
			if got := b.CellResolutions(cell); !slices.Equal(got, tt.rollupRess) {
				t.Errorf("got resolutions %v, want %v", got, tt.rollupRess)
			}
			rollup := b.RollupCell(cell)
			if want := uint64(h3.Cell(cell).Parent(tt.rollupRes)); rollup != want {
				t.Errorf("got roll-up cell %s, want %s (res %d)", CellString(rollup), CellString(want), tt.rollupRes)
			}
			// The roll-up cell's parents are the cell's parents at every coarser resolution.
			for _, r := range tt.rollupRess {
				if got, want := CellParent(rollup, r), uint64(h3.Cell(cell).Parent(r)); got != want {
					t.Errorf("res %d: got parent %s, want %s", r, CellString(got), CellString(want))
				}
			}
		})
	}
}

func TestNewBinner(t *testing.T) {
	tests := []struct {
		name    string
		res     []int
		want    []int
		wantErr string
	}{
		{"sorted and deduplicated", []int{10, 6, 6, 8}, []int{6, 8, 10}, ""},
		{"extremes", []int{15, 0}, []int{0, 15}, ""},
		{"too fine", []int{6, 16}, nil, "H3 resolution 16 is outside 0 to 15"},
		{"negative", []int{-1}, nil, "H3 resolution -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.res)
			b, err := NewBinner(tt.res, nil)
			if tt.wantErr != "" {
				wantErrCode(t, err, EINVALID, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(b.Resolutions, tt.want) {
				t.Errorf("got %v, want %v", b.Resolutions, tt.want)
			}
			if !slices.Equal(tt.res, in) {
				t.Errorf("got the caller's slice changed to %v, want %v", tt.res, in)
			}
		})
	}
}

func TestBinnerCustom(t *testing.T) {
	b, err := NewBinner([]int{7, 9}, map[Precision]int{PrecisionExact: 8, PrecisionAreaCentroid: 5})
	if err != nil {
		t.Fatal(err)
	}
	place := LatLon{51.5, -0.12}
	tests := []struct {
		name       string
		prec       Precision
		wantRes    int
		wantRollup int // -1 for none
	}{
		{"exact at 8 rolls up to 7", PrecisionExact, 8, 7},
		{"area centroid at 5 is coarser than every resolution", PrecisionAreaCentroid, 5, -1},
		{"street not configured", PrecisionStreet, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Incident{Precision: tt.prec, Location: place}
			cell := b.Cell(in)
			if cached := b.CachedCell(&CellCache{}, in); cached != cell {
				t.Errorf("got CachedCell %d, want %d", cached, cell)
			}
			if tt.wantRes < 0 {
				if cell != 0 {
					t.Errorf("got cell %s, want 0", CellString(cell))
				}
				return
			}
			if CellRes(cell) != tt.wantRes {
				t.Errorf("got res %d, want %d", CellRes(cell), tt.wantRes)
			}
			rollup := b.RollupCell(cell)
			if tt.wantRollup < 0 {
				if rollup != 0 {
					t.Errorf("got roll-up %s, want 0", CellString(rollup))
				}
				return
			}
			if CellRes(rollup) != tt.wantRollup || rollup != uint64(h3.Cell(cell).Parent(tt.wantRollup)) {
				t.Errorf("got roll-up %s, want the res %d parent", CellString(rollup), tt.wantRollup)
			}
		})
	}
}

func TestCachedCellAgrees(t *testing.T) {
	b, err := NewBinner(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cache CellCache
	places := randomPlaces(300)
	for round := range 3 { // later rounds come from the cache
		for i, p := range places {
			in := &Incident{Precision: Precisions[i%len(Precisions)], Location: p}
			if !in.Precision.Located() {
				in.Location = LatLon{}
			}
			if got, want := b.CachedCell(&cache, in), b.Cell(in); got != want {
				t.Fatalf("round %d, %v %s: got %s, want %s", round, p, in.Precision, CellString(got), CellString(want))
			}
		}
	}
	t.Run("emptied when full", func(t *testing.T) {
		var c CellCache
		in := &Incident{Precision: PrecisionStreet, Location: LatLon{52, -1}}
		b.CachedCell(&c, in)
		for i := len(c.m); i < maxCellCache; i++ {
			c.m[LatLon{Lat: float64(i)}] = &placeCells{}
		}
		other := &Incident{Precision: PrecisionStreet, Location: LatLon{53, -1}}
		if got, want := b.CachedCell(&c, other), b.Cell(other); got != want {
			t.Errorf("got %s, want %s", CellString(got), CellString(want))
		}
		if len(c.m) != 1 {
			t.Errorf("got %d entries after a full cache, want 1", len(c.m))
		}
	})
}

func TestCellPolygon(t *testing.T) {
	tests := []struct {
		name   string
		cell   uint64
		points int
	}{
		{"hexagon", uint64(h3.LatLngToCell(h3.NewLatLng(52.0339, -0.7623), 9)), 7},
		{"coarse hexagon", uint64(h3.LatLngToCell(h3.NewLatLng(52.0339, -0.7623), 0)), 7},
		{"pentagon", 0x8009fffffffffff, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := CellPolygon(tt.cell)
			if len(p) != 1 {
				t.Fatalf("got %d rings, want 1", len(p))
			}
			ring := p[0]
			if len(ring) != tt.points {
				t.Errorf("got %d points, want %d", len(ring), tt.points)
			}
			if !ring.Closed() {
				t.Errorf("got an open ring %v, want first == last", ring)
			}
			c := h3.Cell(tt.cell).LatLng()
			if in, _ := ringCovers(ring, orb.Point{c.Lng, c.Lat}); !in {
				t.Errorf("got centre %v outside the ring %v, want inside", c, ring)
			}
		})
	}
}

func TestParseCell(t *testing.T) {
	cell := uint64(h3.LatLngToCell(h3.NewLatLng(52.0339, -0.7623), 10))
	s := CellString(cell)
	if len(s) != 15 {
		t.Errorf("got %q, want 15 hex digits", s)
	}
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{s, cell, false},
		{strings.ToUpper(s), cell, false},
		{"8009fffffffffff", 0x8009fffffffffff, false},
		{"", 0, true},
		{"0", 0, true},
		{"hello", 0, true},
		{s + "0", 0, true},
		{"ffffffffffffffff", 0, true},
		{" " + s, 0, true},
		{CellString(cell &^ (15 << 52)), 0, true}, // res 0 with digits set
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCell(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("got %x, want an error", got)
				} else {
					wantErrCode(t, err, EINVALID, "is not an H3 cell")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %x, %v; want %x", got, err, tt.want)
			}
			if back := CellString(got); back != strings.ToLower(tt.in) {
				t.Errorf("got %q back, want %q", back, strings.ToLower(tt.in))
			}
		})
	}
}

// TestBinnerCells checks an incident's cells: at each roll-up resolution its
// precision supports, the cell LatLngToCell gives there, coarsest first.
func TestBinnerCells(t *testing.T) {
	b, err := NewBinner(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ll := LatLon{Lat: 52.0406, Lon: -0.7594}
	var cache CellCache
	for _, c := range []struct {
		p    Precision
		want []int
	}{
		{PrecisionExact, []int{6, 7, 8, 9, 10}},
		{PrecisionStreet, []int{6, 7, 8, 9}},
		{PrecisionPostcode, []int{6, 7, 8}},
		{PrecisionAreaCentroid, []int{6}},
		{PrecisionOnline, nil},
	} {
		in := &Incident{Location: ll, Precision: c.p}
		for _, got := range [][]uint64{b.Cells(in), b.CachedCells(&cache, in), b.CachedCells(&cache, in)} {
			if len(got) != len(c.want) {
				t.Fatalf("%s: %d cells, want %d", c.p, len(got), len(c.want))
			}
			for i, r := range c.want {
				if want := uint64(h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), r)); got[i] != want {
					t.Errorf("%s at resolution %d: %s, want %s", c.p, r, CellString(got[i]), CellString(want))
				}
			}
		}
	}
}

// TestBinnerBin checks that Bin gives an incident the cell of Cell and the cells of
// Cells, from a new place, from the cache, without a cache, and for precisions in any
// order over the same places (an entry filled for a coarse precision then asked for a
// finer one).
func TestBinnerBin(t *testing.T) {
	b, err := NewBinner([]int{5, 6, 7, 8, 9, 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cache CellCache
	places := randomPlaces(500)
	for round := range 3 {
		for i, p := range places {
			in := &Incident{Precision: Precisions[(i+round)%len(Precisions)], Location: p}
			want := &Incident{Precision: in.Precision, Location: p}
			if in.Precision.Located() {
				want.Cell = CellAt(p, b.PrecisionRes[in.Precision])
			}
			for _, r := range b.Resolutions {
				if in.Precision.Located() && r <= b.PrecisionRes[in.Precision] {
					want.Cells = append(want.Cells, CellAt(p, r))
				}
			}
			for _, c := range []*CellCache{&cache, nil} {
				got := &Incident{Precision: in.Precision, Location: p}
				b.Bin(c, got)
				if got.Cell != want.Cell || !slices.Equal(got.Cells, want.Cells) {
					t.Fatalf("round %d, %v %s (cache %v): got %s %v, want %s %v", round, p, in.Precision, c != nil,
						CellString(got.Cell), got.Cells, CellString(want.Cell), want.Cells)
				}
			}
		}
	}
}

// TestCellCacheStandsAside checks that a cache whose places are each seen once
// stands aside after a run of lookups and tries again later, that one whose places
// repeat stays, and that the cells are right throughout.
func TestCellCacheStandsAside(t *testing.T) {
	b, err := NewBinner(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(c *CellCache, ll LatLon) {
		t.Helper()
		in := &Incident{Precision: PrecisionExact, Location: ll}
		b.Bin(c, in)
		if want := CellAt(ll, 15); in.Cell != want {
			t.Fatalf("%v: got %s, want %s", ll, CellString(in.Cell), CellString(want))
		}
	}
	unique := randomPlaces(cacheRun*(cacheAside+2) + 10)
	var c CellCache
	for _, ll := range unique[:cacheRun] {
		check(&c, ll)
	}
	if c.aside != cacheAside*cacheRun || c.m != nil {
		t.Fatalf("after %d places seen once: aside %d, %d entries; want aside %d and none", cacheRun, c.aside, len(c.m), cacheAside*cacheRun)
	}
	for _, ll := range unique[cacheRun : cacheRun+cacheAside*cacheRun] {
		check(&c, ll)
	}
	if c.aside != 0 || c.m != nil {
		t.Fatalf("after standing aside: aside %d, %d entries", c.aside, len(c.m))
	}
	check(&c, unique[len(unique)-1])
	if len(c.m) != 1 {
		t.Fatalf("trying again: %d entries, want 1", len(c.m))
	}
	var r CellCache
	repeated := randomPlaces(100)
	for i := range 3 * cacheRun {
		check(&r, repeated[i%len(repeated)])
	}
	if r.aside != 0 || len(r.m) != len(repeated) {
		t.Fatalf("places that repeat: aside %d, %d entries; want 0 and %d", r.aside, len(r.m), len(repeated))
	}
}
