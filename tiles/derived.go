package tiles

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// The derived values below are computed once per key (the filter and the parts of
// the data version they depend on) and shared by every tile and panel that asks.

// Resolutions are the stored H3 resolutions, ascending.
func (s *Service) Resolutions(ctx context.Context) ([]int, error) {
	v, err := s.memo.Get(ctx, "resolutions", func() (any, error) { return s.src.Resolutions(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]int), nil
}

// CellSet is the counts of every cell at a resolution for a filter, indexed by
// place: each cell's Count alone (Source.CellTotals), what the tiles draw.
type CellSet struct {
	Counts map[uint64]*geo.CellCount
	Index  *CellIndex
}

// CellTotals are the counts of every cell at a resolution for a filter.
func (s *Service) CellTotals(ctx context.Context, res int, f geo.Filter, version string) (*CellSet, error) {
	v, err := s.memo.Get(ctx, cellsKey(res, f, version), func() (any, error) {
		counts, err := s.src.CellTotals(ctx, res, f)
		if err != nil {
			return nil, err
		}
		cs := &CellSet{Counts: make(map[uint64]*geo.CellCount, len(counts))}
		cells := make([]uint64, len(counts))
		for i := range counts {
			cs.Counts[counts[i].Cell] = &counts[i]
			cells[i] = counts[i].Cell
		}
		cs.Index = NewCellIndex(cells, s.hexes)
		s.hold(res, f, version, cs)
		return cs, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*CellSet), nil
}

func cellsKey(res int, f geo.Filter, version string) string {
	return "cells|" + strconv.Itoa(res) + "|" + FilterKey(f) + "|" + version
}

func populationKey(res int, version string) string {
	return "population|" + strconv.Itoa(res) + "|" + AreasVersion(version)
}

// HotspotIndex is the latest hot spot analysis by cell, at its resolution, as d
// lets its caller see it.
func (s *Service) HotspotIndex(ctx context.Context, d Disclosure, res int, version string) (map[uint64]tension.Hotspot, error) {
	// A restricted role's analysis is made from published counts, which change with
	// the data as well as with the engine's runs.
	exact := d.Exact()
	key := "hotspots|" + strconv.Itoa(res) + "|" + AnalysisVersion(version) + "|exact=true"
	if !exact {
		key = "hotspots|" + strconv.Itoa(res) + "|" + version + "|exact=false"
	}
	v, err := s.memo.Get(ctx, key, func() (any, error) {
		from, to, _, hs, err := s.src.Hotspots(ctx, res)
		if err != nil {
			return nil, err
		}
		if hs, err = d.Hotspots(ctx, res, from, to, hs); err != nil {
			return nil, err
		}
		m := make(map[uint64]tension.Hotspot, len(hs))
		for _, h := range hs {
			m[h.Cell] = h
		}
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[uint64]tension.Hotspot), nil
}

// Areas returns the stored areas with their geometry.
func (s *Service) Areas(ctx context.Context, version string) ([]geo.Area, error) {
	v, err := s.memo.Get(ctx, "areas|"+AreasVersion(version), func() (any, error) { return s.src.LoadAreas(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]geo.Area), nil
}

// AreasOutline is the outline of every area together, the place of a citywide alert.
func (s *Service) AreasOutline(ctx context.Context, version string) (orb.MultiPolygon, error) {
	v, err := s.memo.Get(ctx, "outline|"+AreasVersion(version), func() (any, error) { return s.src.AreasOutline(ctx) })
	if err != nil {
		return nil, err
	}
	return v.(orb.MultiPolygon), nil
}

// CellPopulation spreads the finest populated level's populations over the cells at
// res, each area's people evenly over the cells of its polygon (a dasymetric guess:
// the rate of a hexagon that straddles areas borrows from each): as the source
// stores them when it can, computed from the areas otherwise.
func (s *Service) CellPopulation(ctx context.Context, res int, version string) (map[uint64]float64, error) {
	v, err := s.memo.Get(ctx, populationKey(res, version), func() (any, error) {
		if cr, ok := s.src.(CellReader); ok {
			// Computed once when the areas or their populations were imported.
			return cr.AllCellPopulations(ctx, res)
		}
		areas, err := s.Areas(ctx, version)
		if err != nil {
			return nil, err
		}
		return geo.CellPopulation(areas, res), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[uint64]float64), nil
}

// AreaCounts are the counts of the areas of a level for a filter, by code.
func (s *Service) AreaCounts(ctx context.Context, level string, f geo.Filter, version string) (map[string]geo.AreaCount, error) {
	v, err := s.memo.Get(ctx, fmt.Sprintf("areacounts|%s|%s|%s", level, FilterKey(f), version), func() (any, error) {
		counts, err := s.src.AreaCounts(ctx, level, f)
		if err != nil {
			return nil, err
		}
		m := map[string]geo.AreaCount{}
		for _, c := range counts {
			m[c.Area.Code] = c
		}
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]geo.AreaCount), nil
}

// OpenStatuses are the statuses of an alert still being dealt with.
var OpenStatuses = []string{tension.StatusNew, tension.StatusAcknowledged, tension.StatusAssessmentOpened}

// Alerts returns the alerts of the last 90 days with the statuses given.
func (s *Service) Alerts(ctx context.Context, status []string, version string) ([]tension.StoredAlert, error) {
	v, err := s.memo.Get(ctx, fmt.Sprintf("alerts|%s|%s", strings.Join(SortedCopy(status), ","), AnalysisVersion(version)), func() (any, error) {
		return s.src.Alerts(ctx, tension.AlertFilter{Status: status, Since: s.opts.Now().AddDate(0, 0, -90), Limit: 1000})
	})
	if err != nil {
		return nil, err
	}
	return v.([]tension.StoredAlert), nil
}

// TensionIndex is the highest tension level of the open alerts over each cell at
// res: the cells of a cluster, or those whose centres lie in an alert's areas.
func (s *Service) TensionIndex(ctx context.Context, res int, version string) (map[uint64]string, error) {
	v, err := s.memo.Get(ctx, "tension|"+strconv.Itoa(res)+"|"+AnalysisVersion(version), func() (any, error) {
		alerts, err := s.Alerts(ctx, OpenStatuses, version)
		if err != nil {
			return nil, err
		}
		areas, err := s.Areas(ctx, version)
		if err != nil {
			return nil, err
		}
		byCode := map[string]*geo.Area{}
		for i := range areas {
			byCode[areas[i].Code] = &areas[i]
		}
		scale := s.opts.TensionScale
		out := map[uint64]string{}
		mark := func(cell uint64, level string) {
			if prev, ok := out[cell]; !ok || scale.Rank(level) > scale.Rank(prev) {
				out[cell] = level
			}
		}
		for _, a := range alerts {
			if scale.Rank(a.TensionLevel) < 0 {
				continue
			}
			for _, c := range a.Cells {
				for _, x := range geo.CellsAt(c, res) {
					mark(x, a.TensionLevel)
				}
			}
			if len(a.Cells) == 0 {
				spans := a.Areas
				if len(spans) == 0 { // a citywide alert: every area
					spans = nil
					for i := range areas {
						spans = append(spans, areas[i].Code)
					}
				}
				for _, code := range spans {
					if ar, ok := byCode[code]; ok {
						for _, x := range geo.PolygonCells(ar.Geometry, res) {
							mark(x, a.TensionLevel)
						}
					}
				}
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[uint64]string), nil
}

// NearRepeat is the latest near-repeat report (empty when none was made).
func (s *Service) NearRepeat(ctx context.Context, version string) (*tension.NearRepeatReport, error) {
	v, err := s.memo.Get(ctx, "nearrepeat|"+AnalysisVersion(version), func() (any, error) {
		nr, _, err := s.src.NearRepeat(ctx)
		if geo.ErrorCode(err) == geo.ENOTFOUND {
			return &tension.NearRepeatReport{}, nil
		}
		return nr, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*tension.NearRepeatReport), nil
}

// FinestLevel is the level with the most areas.
func FinestLevel(areas []geo.Area) string {
	n := map[string]int{}
	best := ""
	for _, a := range areas {
		n[a.Level]++
		if best == "" || n[a.Level] > n[best] {
			best = a.Level
		}
	}
	return best
}
