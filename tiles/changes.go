package tiles

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// ChangeSource is a Source that says what a change of the data version touched.
type ChangeSource interface {
	// ChangedCells returns the cells at resolution res that the data version's
	// changes since the version since added reports to; complete is false when some
	// change is not recorded by cell, and then everything may have changed.
	ChangedCells(ctx context.Context, since int64) (res int, cells []uint64, complete bool, err error)
}

// advance moves the tile cache on to version, the first time a tile is asked for at
// it. A tile that the change cannot have touched is kept as it is; the others are
// drawn again (and given as stale while that takes too long). What each layer
// depends on:
//
//   - hotspots, for a role that sees exact counts: each hexagon's count and rate, its
//     own cells alone, and the engine's analysis (Gi* z and emerging hot spot class,
//     tension levels), which changes with the analysis version only. Kept when no
//     touched cell meets the tile and the analysis is the same.
//   - hotspots, for a role that may not see small counts: the published hot spot
//     analysis is made afresh from every cell's published counts (Gi* takes its
//     neighbours and the mean of all), so any new data touch every tile: dropped.
//   - areas: an area's count covers all of it, so a tile is kept when no area that a
//     touched cell meets reaches it.
//   - incidents: points, kept when no touched cell meets the tile.
//   - alerts and near-repeat zones: the engine's results alone, kept unless the
//     analysis changed.
//
// A change of the areas (or of populations, or any change not recorded by cell)
// drops everything.
func (s *Service) advance(ctx context.Context, version string) {
	if p := s.seen.Load(); p != nil && *p == version {
		return // every request but the first of a version: nothing allocated
	}
	s.advanceTo(ctx, version)
}

func (s *Service) advanceTo(ctx context.Context, version string) {
	s.advancing.Lock()
	defer s.advancing.Unlock()
	old := ""
	if p := s.seen.Load(); p != nil {
		old = *p
	}
	if old == version || (old != "" && olderVersion(version, old)) {
		// Already there, or a request that read the version before the change.
		return
	}
	var keep func(Tag) bool
	if old != "" {
		keep = s.untouched(ctx, old, version)
	}
	s.cache.Advance(old, version, keep)
	s.seen.Store(&version)
}

// parseVersion splits "data.analysis.areas".
func parseVersion(v string) (data, analysis int64, areas string, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) != 3 {
		return 0, 0, "", false
	}
	d, err1 := strconv.ParseInt(parts[0], 10, 64)
	a, err2 := strconv.ParseInt(parts[1], 10, 64)
	return d, a, parts[2], err1 == nil && err2 == nil
}

// olderVersion reports whether a comes before b: the same areas, and neither the
// data nor the analysis version later.
func olderVersion(a, b string) bool {
	ad, aa, aar, ok1 := parseVersion(a)
	bd, ba, bar, ok2 := parseVersion(b)
	return ok1 && ok2 && aar == bar && ad <= bd && aa <= ba && a != b
}

// untouched returns what the change from version old to new left as it was, by the
// tag of a cached tile (see advance); nil when it may have touched everything.
func (s *Service) untouched(ctx context.Context, old, new string) func(Tag) bool {
	od, oa, oar, ok1 := parseVersion(old)
	nd, na, nar, ok2 := parseVersion(new)
	if !ok1 || !ok2 || oar != nar {
		return nil
	}
	sameAnalysis, sameData := oa == na, od == nd
	known := sameData // the cells the change touched are known (none when the data are the same)
	// cells holds where the finer hexagons drawn for a report in a touched cell may
	// reach; points, where the report itself may lie.
	var cells, points, areas rtree.RTreeG[struct{}]
	if !sameData {
		if cs, ok := s.src.(ChangeSource); ok {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, changed, complete, err := cs.ChangedCells(cctx, od)
			cancel()
			if err == nil && complete {
				known = true
				for _, c := range changed {
					b := s.hexes.Get(c).Bound
					g := grow(b, 1)
					cells.Insert(g.Min, g.Max, struct{}{})
					g = grow(b, 0.5)
					points.Insert(g.Min, g.Max, struct{}{})
				}
			}
		}
	}
	areasKnown := known
	if known && points.Len() > 0 {
		all, err := s.Areas(ctx, new)
		if err != nil {
			areasKnown = false
		}
		for _, a := range all {
			b := a.Geometry.Bound()
			if meets(&points, b) {
				areas.Insert(b.Min, b.Max, struct{}{})
			}
		}
	}
	return func(t Tag) bool {
		switch t.Layer {
		case LayerAlerts, LayerNearRepeat:
			return sameAnalysis
		case LayerHotspots:
			if !sameAnalysis || !known || (!t.Exact && !sameData) {
				return false
			}
			return !meets(&cells, Bound(t.Tile))
		case LayerIncidents:
			return known && !meets(&points, Bound(t.Tile))
		case LayerAreas:
			return areasKnown && !meets(&areas, Bound(t.Tile))
		}
		return false
	}
}

// grow widens a touched cell's bound by part of its own width and height on every
// side. A report counted in a cell at the coarsest resolution (its containing cell,
// or the ancestor of its finest cell) lies within about 0.6 of the cell's
// circumradius of its hexagon, as each H3 child's centre lies in its parent: half the
// bound's width covers it. The finer hexagons holding the report reach up to their
// own diameter (0.76 of that radius) further: the whole width covers both.
func grow(b orb.Bound, part float64) orb.Bound {
	dx, dy := part*(b.Max[0]-b.Min[0]), part*(b.Max[1]-b.Min[1])
	return orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
}

// meets reports whether any bound in tr meets b.
func meets(tr *rtree.RTreeG[struct{}], b orb.Bound) bool {
	found := false
	tr.Search(b.Min, b.Max, func(_, _ [2]float64, _ struct{}) bool { found = true; return false })
	return found
}
