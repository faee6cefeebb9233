package tiles

import (
	"context"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
)

// CellReader is a Source that reads the counts and the populations of given cells
// through an index, so that a tile costs what its own cells hold, not the whole
// resolution, and populations are read as stored rather than computed from the
// areas' polygons.
type CellReader interface {
	CellCountsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error)
	CellPopulations(ctx context.Context, res int, cells []uint64) (map[uint64]float64, error)
	AllCellPopulations(ctx context.Context, res int) (map[uint64]float64, error)
}

// MaxTileCells bounds the cells a tile reads by index: a tile with more (a wide view
// at a fine resolution) reads the whole resolution's counts, shared by every tile.
const MaxTileCells = 4096

// TileCells returns the counts and populations of the cells at res whose hexagons
// meet the tile and its buffer, read for those cells alone; ok is false when the
// source cannot read given cells or the tile holds more than MaxTileCells.
func (s *Service) TileCells(ctx context.Context, t maptile.Tile, res int, f geo.Filter) (cs *CellSet, pop map[uint64]float64, ok bool, err error) {
	cr, isReader := s.src.(CellReader)
	if !isReader {
		return nil, nil, false, nil
	}
	cells := s.CellsMeeting(Bound(t), res, MaxTileCells)
	if cells == nil {
		return nil, nil, false, nil
	}
	counts, err := cr.CellCountsIn(ctx, res, cells, f)
	if err != nil {
		return nil, nil, false, err
	}
	if pop, err = cr.CellPopulations(ctx, res, cells); err != nil {
		return nil, nil, false, err
	}
	cs = &CellSet{Counts: make(map[uint64]*geo.CellCount, len(counts))}
	with := make([]uint64, len(counts))
	for i := range counts {
		cs.Counts[counts[i].Cell] = &counts[i]
		with[i] = counts[i].Cell
	}
	cs.Index = NewCellIndex(with, s.hexes)
	return cs, pop, true, nil
}

// CellsMeeting returns the cells at res whose hexagons meet b: those whose centres
// fall in b grown by a hexagon's width on every side, kept when their hexagon meets
// b. It returns nil when there are more than max.
func (s *Service) CellsMeeting(b orb.Bound, res, max int) []uint64 {
	hex := geo.CellPolygon(geo.CellAt(geo.LatLon{Lat: b.Center()[1], Lon: b.Center()[0]}, res)).Bound()
	dx, dy := hex.Max[0]-hex.Min[0], hex.Max[1]-hex.Min[1]
	grown := orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
	// Cells of about the hexagon's area: give up before filling a view far too wide.
	if area := (grown.Max[0] - grown.Min[0]) * (grown.Max[1] - grown.Min[1]); area > 2*float64(max)*dx*dy {
		return nil
	}
	var out []uint64
	for _, c := range geo.PolygonCells(orb.MultiPolygon{grown.ToPolygon()}, res) {
		if s.hexes.Get(c).Bound.Intersects(b) {
			out = append(out, c)
		}
	}
	if len(out) > max {
		return nil
	}
	if out == nil {
		out = []uint64{}
	}
	return out
}
