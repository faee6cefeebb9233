package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

// resolutionHeldStore is the real store whose counts of a whole resolution wait
// until the test ends, while a tile's own cells are read at once and counted.
type resolutionHeldStore struct {
	*postgis.DB
	held chan struct{}
	own  atomic.Int64
}

func (s *resolutionHeldStore) CellTotals(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error) {
	select {
	case <-s.held:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.DB.CellTotals(ctx, res, f)
}

func (s *resolutionHeldStore) CellTotalsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error) {
	s.own.Add(1)
	return s.DB.CellTotalsIn(ctx, res, cells, f)
}

// TestFirstTilesReadTheirOwnCells: the first tiles of a new server, for a few
// weeks, a year, a period from mid-month to mid-month and all years, at every zoom
// of the finer resolutions, are drawn from their own cells while the count of the
// whole resolution never finishes: none waits for it (a tile that did would be
// answered 503 once the server's wait ran out), and the tile over all years carries
// the town centre's hexagons.
func TestFirstTilesReadTheirOwnCells(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store := &resolutionHeldStore{DB: e.db, held: make(chan struct{})}
	t.Cleanup(func() { close(store.held) })
	s := e.withStore(store, slog.New(slog.DiscardHandler), nil, nil)
	police := s.as(access.Police)
	for _, period := range []string{"?from=2026-06-03&to=2026-06-30", "?from=2025-07-01&to=2026-06-30", "?from=2024-08-17&to=2026-03-09", ""} {
		for z := 10; z <= 14; z++ {
			tile, path := tileAt("hotspots", -0.76, 52.04, z)
			before := store.own.Load()
			r := s.get(police, path+period)
			what := fmt.Sprintf("z%d %s", z, period)
			if r.status != 200 && r.status != 204 {
				t.Fatalf("%s: %s; want the tile drawn from its own cells", what, r)
			}
			if store.own.Load() == before {
				t.Errorf("%s: the tile read no cells of its own", what)
			}
			if period == "" && z == 14 && len(decodeTile(t, r, tile, "hotspots")) == 0 {
				t.Errorf("%s: no hexagon over the town centre", what)
			}
		}
	}
}

var _ web.Store = (*resolutionHeldStore)(nil)
