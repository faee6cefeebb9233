package tiles

import (
	"context"
	"errors"
	"strconv"

	"github.com/tensionmap/tensionmap/geo"
)

// CellChangeSource is a Source that says which cells, at every resolution, the
// changes of the data version since an earlier one added reports to.
type CellChangeSource interface {
	// TouchedCells returns those cells, sorted; complete is false when some change
	// did not record its cells, and then any cell may have changed.
	TouchedCells(ctx context.Context, since int64) (cells []uint64, complete bool, err error)
}

// heldCounts are the counts of a whole resolution for a filter and the data version
// they were made at, kept to be carried over to the next version.
type heldCounts struct {
	version string
	cs      *CellSet
}

func heldKey(res int, f geo.Filter) string {
	return "held|" + strconv.Itoa(res) + "|" + FilterKey(f)
}

// hold keeps cs as the latest counts of (res, f), unless later ones are held.
func (s *Service) hold(res int, f geo.Filter, version string, cs *CellSet) {
	key := heldKey(res, f)
	if v, ok := s.held.Peek(key); ok {
		if h := v.(*heldCounts); h.version == version || olderVersion(version, h.version) {
			return
		}
	}
	s.held.Put(key, &heldCounts{version, cs})
}

// errNotCarried says counts cannot be carried over and are to be made afresh.
var errNotCarried = errors.New("tiles: the counts cannot be carried over")

// carriedCounts returns the counts of every cell at res for f at version, carried
// over from the latest counts held at an earlier version of the same areas: those
// counts, with the cells that the changes since touched at res read again by index
// (an intake's report touches one cell a resolution), so that new data cost a tile
// what they touched rather than a count of the whole resolution. ok is false when
// nothing is held, or the changes since are not known cell by cell (a bulk load,
// new areas or populations) or touched more than MaxTileCells cells at res: then the
// counts are made afresh.
func (s *Service) carriedCounts(ctx context.Context, res int, f geo.Filter, version string) (*CellSet, bool) {
	v, ok := s.held.Peek(heldKey(res, f))
	if !ok {
		return nil, false
	}
	h := v.(*heldCounts)
	if !olderVersion(h.version, version) {
		return nil, false
	}
	cr, isReader := s.src.(CellReader)
	tc, isTracker := s.src.(CellChangeSource)
	if !isReader || !isTracker {
		return nil, false
	}
	ck := cellsKey(res, f, version)
	if _, failed := s.held.Peek("uncarried|" + ck); failed {
		return nil, false
	}
	out, err := s.memo.Once("carry|"+ck, func() (any, error) {
		if cs, ok := s.memo.Peek(ck); ok {
			return cs, nil
		}
		od, _, _, _ := parseVersion(h.version)
		nd, _, _, _ := parseVersion(version)
		var affected []uint64
		if nd != od {
			touched, complete, err := tc.TouchedCells(ctx, od)
			if err != nil {
				return nil, err
			}
			if !complete {
				return nil, errNotCarried
			}
			for _, c := range touched {
				if geo.CellRes(c) == res {
					affected = append(affected, c)
				}
			}
			if len(affected) > MaxTileCells {
				return nil, errNotCarried
			}
		}
		var counts []geo.CellCount
		if len(affected) > 0 {
			var err error
			if counts, err = cr.CellTotalsIn(ctx, res, affected, f); err != nil {
				return nil, err
			}
		}
		cs, err := h.cs.with(counts, affected, s.hexes)
		if err != nil {
			return nil, err
		}
		s.memo.Put(ck, cs)
		s.hold(res, f, version, cs)
		return cs, nil
	})
	if errors.Is(err, errNotCarried) {
		s.held.Put("uncarried|"+ck, true) // not asked again at this version
	}
	if err != nil {
		return nil, false
	}
	return out.(*CellSet), true
}

// with returns a copy of the set with the counts of the cells read again: counts
// the cells now hold, read holds every cell read (a cell read but not counted holds
// none). Only additions are carried: a cell that held a count and holds none now is
// an error (something other than new reports changed it).
func (cs *CellSet) with(counts []geo.CellCount, read []uint64, hexes *Hexagons) (*CellSet, error) {
	now := make(map[uint64]bool, len(counts))
	for i := range counts {
		now[counts[i].Cell] = true
	}
	for _, c := range read {
		if _, held := cs.Counts[c]; held && !now[c] {
			return nil, errNotCarried
		}
	}
	out := &CellSet{Counts: make(map[uint64]*geo.CellCount, len(cs.Counts)+len(counts))}
	for c, n := range cs.Counts {
		out.Counts[c] = n
	}
	out.Index = cs.Index.copy()
	for i := range counts {
		c := counts[i].Cell
		if _, held := out.Counts[c]; !held {
			out.Index.insert(c, hexes)
		}
		out.Counts[c] = &counts[i]
	}
	return out, nil
}
