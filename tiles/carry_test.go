package tiles

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
)

// TestCellSetWith checks a set carried over to new data: the cells read again take
// their new counts, a cell new to the set is found by its index, the set it came
// from is left as it was (counts and index), and a cell that lost its count is
// refused (only additions are carried).
func TestCellSetWith(t *testing.T) {
	hexes := NewHexagons(1 << 12)
	centre := geo.CellAt(geo.LatLon{Lat: 52.0406, Lon: -0.7594}, 9)
	ring := geo.PolygonCells(orb.MultiPolygon{hexes.Get(centre).Bound.Pad(0.01).ToPolygon()}, 9)
	if len(ring) < 4 {
		t.Fatalf("%d cells around the centre", len(ring))
	}
	old := &CellSet{Counts: map[uint64]*geo.CellCount{}}
	var cells []uint64
	for i, c := range ring[:len(ring)-1] {
		old.Counts[c] = &geo.CellCount{Cell: c, Count: i + 1}
		cells = append(cells, c)
	}
	old.Index = NewCellIndex(cells, hexes)
	added, grown := ring[len(ring)-1], ring[0]
	got, err := old.with([]geo.CellCount{{Cell: grown, Count: 100}, {Cell: added, Count: 1}}, []uint64{grown, added}, hexes)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts[grown].Count != 100 || got.Counts[added].Count != 1 || len(got.Counts) != len(ring) {
		t.Errorf("carried: %d cells, %s %d, %s %d; want %d cells, 100 and 1", len(got.Counts), geo.CellString(grown), got.Counts[grown].Count,
			geo.CellString(added), got.Counts[added].Count, len(ring))
	}
	found := func(cs *CellSet, c uint64) bool {
		hit := false
		cs.Index.Search(hexes.Get(c).Bound, func(x uint64) bool { hit = hit || x == c; return true })
		return hit
	}
	if !found(got, added) || got.Index.Len() != len(ring) {
		t.Errorf("the carried index lacks the added cell (%d cells indexed)", got.Index.Len())
	}
	if found(old, added) || old.Index.Len() != len(ring)-1 || old.Counts[grown].Count != 1 || len(old.Counts) != len(ring)-1 {
		t.Errorf("the set carried from changed")
	}
	lost := slices.Clone(ring[1:2])
	if _, err := old.with(nil, lost, hexes); err == nil {
		t.Errorf("a cell read again with no count: carried; want it refused")
	}
}
