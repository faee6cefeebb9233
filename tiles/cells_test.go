package tiles

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
)

// TestCellsMeetingTile checks the cells a tile reads by index against every cell
// of a much wider area whose hexagon meets the tile: none is missed, none extra.
func TestCellsMeetingTile(t *testing.T) {
	s := &Service{hexes: NewHexagons(1 << 16)}
	centre := orb.Point{-0.7594, 52.0406} // Milton Keynes
	for _, c := range []struct{ z, res int }{{10, 6}, {11, 7}, {12, 8}, {13, 9}, {14, 10}, {15, 10}} {
		tile := maptile.At(centre, maptile.Zoom(c.z))
		for _, tt := range []maptile.Tile{tile, {X: tile.X + 1, Y: tile.Y, Z: tile.Z}, {X: tile.X, Y: tile.Y + 1, Z: tile.Z}} {
			b := Bound(tt)
			got := s.CellsMeeting(b, c.res, MaxTileCells)
			if got == nil {
				t.Fatalf("z%d at resolution %d: more than %d cells", c.z, c.res, MaxTileCells)
			}
			w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
			wide := orb.Bound{Min: orb.Point{b.Min[0] - 2*w, b.Min[1] - 2*h}, Max: orb.Point{b.Max[0] + 2*w, b.Max[1] + 2*h}}
			var want []uint64
			for _, cell := range geo.PolygonCells(orb.MultiPolygon{wide.ToPolygon()}, c.res) {
				if s.hexes.Get(cell).Bound.Intersects(b) {
					want = append(want, cell)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("tile %v at resolution %d: %d cells, want %d", tt, c.res, len(got), len(want))
			}
			if len(want) == 0 {
				t.Errorf("tile %v at resolution %d meets no cell", tt, c.res)
			}
		}
	}
	// A view far too wide for reading by cells.
	if got := s.CellsMeeting(Bound(maptile.At(centre, 5)), 10, MaxTileCells); got != nil {
		t.Errorf("a zoom 5 tile at resolution 10 gave %d cells, want none (too many)", len(got))
	}
}
