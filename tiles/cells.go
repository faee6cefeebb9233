package tiles

import (
	"context"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
)

// CellReader is a Source that reads the counts (their totals, what tiles draw) and
// the populations of given cells through an index, so that a tile costs what its own cells hold, not the whole
// resolution, and populations are read as stored rather than computed from the
// areas' polygons.
type CellReader interface {
	CellTotalsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error)
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
	return s.tileCells(ctx, t, res, f, nil)
}

// tileCells is TileCells with the populations given when known (pop not nil).
func (s *Service) tileCells(ctx context.Context, t maptile.Tile, res int, f geo.Filter, pop map[uint64]float64) (*CellSet, map[uint64]float64, bool, error) {
	cr, isReader := s.src.(CellReader)
	if !isReader {
		return nil, nil, false, nil
	}
	cells := s.CellsMeeting(Bound(t), res, MaxTileCells)
	if cells == nil {
		return nil, nil, false, nil
	}
	start := time.Now()
	counts, err := cr.CellTotalsIn(ctx, res, cells, f)
	if err != nil {
		return nil, nil, false, err
	}
	step(ctx, "the tile's counts", start)
	if pop == nil {
		start = time.Now()
		if pop, err = cr.CellPopulations(ctx, res, cells); err != nil {
			return nil, nil, false, err
		}
		step(ctx, "the tile's populations", start)
	}
	cs := &CellSet{Counts: make(map[uint64]*geo.CellCount, len(counts))}
	with := make([]uint64, len(counts))
	for i := range counts {
		cs.Counts[counts[i].Cell] = &counts[i]
		with[i] = counts[i].Cell
	}
	cs.Index = NewCellIndex(with, s.hexes)
	return cs, pop, true, nil
}

// backgroundTimeout bounds the counting of a whole resolution for later tiles.
const backgroundTimeout = 2 * time.Minute

// cellsFor returns the counts and populations a hexagon tile draws. Every tile of a
// resolution and filter shares that resolution's counts once they are held, and its
// populations: no query at all. After new data the counts held before them are
// carried over, the cells the data touched read again (carriedCounts). Until then a
// tile reads its own cells by index, for any period (it costs what its area holds: a
// few weeks of its cells, or their whole years and months from the roll-ups), and
// never waits for the whole resolution, which is counted in the background, one
// count at a time, for the tiles after it.
func (s *Service) cellsFor(ctx context.Context, t maptile.Tile, res int, f geo.Filter, version string) (*CellSet, map[uint64]float64, error) {
	ck, pk := cellsKey(res, f, version), populationKey(res, version)
	held, haveCells := s.memo.Peek(ck)
	popHeld, havePop := s.memo.Peek(pk)
	var pop map[uint64]float64
	if havePop {
		pop = popHeld.(map[uint64]float64)
	}
	if haveCells && havePop {
		return held.(*CellSet), pop, nil
	}
	if !haveCells {
		// New data: the counts before them, with the cells they touched read again.
		start := time.Now()
		cs, ok := s.carriedCounts(ctx, res, f, version)
		step(ctx, "carried counts", start)
		if ok {
			held, haveCells = cs, true
			if havePop {
				return cs, pop, nil
			}
		}
	}
	// The first tiles of a resolution start the shared counts, once; the render's own
	// context may end first (it is a single tile's), so they get one of their own.
	if _, busy := s.warming.LoadOrStore(ck, true); !busy {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
		go func() {
			defer s.warming.Delete(ck)
			defer cancel()
			// One at a time: many filters and resolutions at once would crowd out the
			// tiles' own reads.
			select {
			case s.warmers <- struct{}{}:
				defer func() { <-s.warmers }()
			case <-bg.Done():
				return
			}
			// On failure the tiles go on reading their own cells.
			bg, done := s.watch(bg, "background count of a resolution past the tile wait")
			defer func() { done(bg.Err(), func() []any { return []any{"res", res, "filter", FilterKey(f)} }) }()
			if !havePop {
				if _, err := s.CellPopulation(bg, res, version); err != nil {
					s.warmFailed.Add(1)
				}
			}
			if !haveCells {
				if _, err := s.CellTotals(bg, res, f, version); err != nil {
					s.warmFailed.Add(1)
				}
			}
		}()
	}
	if haveCells {
		// Counts held, populations on their way: read the tile's own.
		if cr, ok := s.src.(CellReader); ok {
			if cells := s.CellsMeeting(Bound(t), res, MaxTileCells); cells != nil {
				p, err := cr.CellPopulations(ctx, res, cells)
				return held.(*CellSet), p, err
			}
		}
	}
	cs, p, local, err := s.tileCells(ctx, t, res, f, pop)
	if err != nil {
		return nil, nil, err
	}
	if local {
		return cs, p, nil
	}
	// A tile too wide to read by index (or a source that cannot): wait for the
	// resolution's counts.
	if cs, err = s.CellTotals(ctx, res, f, version); err != nil {
		return nil, nil, err
	}
	if pop, err = s.CellPopulation(ctx, res, version); err != nil {
		return nil, nil, err
	}
	return cs, pop, nil
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
