package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/uber/h3-go/v4"
)

// countingStore is the real store, counting the counts of whole resolutions it
// makes and recording the cells each read of given cells asks for.
type countingStore struct {
	*postgis.DB
	whole atomic.Int64 // whole-resolution counts finished
	mu    sync.Mutex
	asked [][]uint64
}

func (s *countingStore) CellTotals(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error) {
	defer s.whole.Add(1)
	return s.DB.CellTotals(ctx, res, f)
}

func (s *countingStore) CellTotalsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error) {
	s.mu.Lock()
	s.asked = append(s.asked, slices.Clone(cells))
	s.mu.Unlock()
	return s.DB.CellTotalsIn(ctx, res, cells, f)
}

func (s *countingStore) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.asked)
}

// TestNewDataCarryTheCountsOver: once a resolution's counts are held, a report from
// the intake does not make the server count the whole resolution again, nor read
// the cells of the tile over it: the counts are carried over to the new data
// version with the one cell the report touched at that resolution read again. The
// tile over it counts the report; a tile elsewhere is drawn from the carried counts
// with no read, and its counts equal the database's.
func TestNewDataCarryTheCountsOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store := &countingStore{DB: e.db}
	s := e.withStore(store, slog.New(slog.DiscardHandler), nil, nil)
	police := s.as(access.Police)
	const z = 14
	res := 10
	target := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), res)
	ll := target.LatLng()
	tile, path := tileAt("hotspots", ll.Lng, ll.Lat, z)
	// Tiles near it, each asked once (so drawn, not taken from the cache).
	near := func(dx, dy int) (maptile.Tile, string) {
		t := maptile.New(tile.X+uint32(dx), tile.Y+uint32(dy), tile.Z)
		return t, fmt.Sprintf("/tiles/hotspots/%d/%d/%d.mvt", t.Z, t.X, t.Y)
	}
	counts := func(r *resp, tile maptile.Tile) map[uint64]int {
		if r.status != 200 && r.status != 204 {
			t.Fatalf("tile %v: %s", tile, r)
		}
		m := map[uint64]int{}
		for _, f := range decodeTile(t, r, tile, "hotspots") {
			n, _ := num(f, "count")
			m[featureID(t, f)] = n
		}
		return m
	}

	// The first tile starts the count of the whole resolution in the background;
	// wait until tiles are drawn from it (no read of their own).
	before := counts(s.get(police, path), tile)
	deadline := time.Now().Add(2 * time.Minute)
	for i := 1; ; i++ {
		n := store.reads()
		next, nextPath := near(i%5-2, i/5+2) // rows below the tile, never the one checked after
		counts(s.get(police, nextPath), next)
		if store.whole.Load() > 0 && store.reads() == n {
			break
		}
		if time.Now().After(deadline) || i == 50 {
			t.Fatalf("the whole resolution's counts were never held (%d made, %d reads)", store.whole.Load(), store.reads())
		}
		time.Sleep(100 * time.Millisecond)
	}
	whole := store.whole.Load()

	partner, _ := e.token(access.Partner, "third_party")
	rec := intakeRecord("carry-1", "precision", "exact")
	rec["lat"], rec["lon"] = ll.Lat, ll.Lng
	var ans intakeAnswer
	r := s.send(partner, "POST", "/api/v1/incidents", []map[string]any{rec})
	r.json(t, &ans)
	if r.status != 200 || ans.Inserted != 1 {
		t.Fatalf("intake: %s", r)
	}

	n := store.reads()
	after := counts(s.get(police, path), tile)
	if got, want := after[uint64(target)], before[uint64(target)]+1; got != want {
		t.Errorf("cell %s after the intake: %d; want %d", target, got, want)
	}
	store.mu.Lock()
	asked := store.asked[n:]
	store.mu.Unlock()
	if len(asked) != 1 || !slices.Equal(asked[0], []uint64{uint64(target)}) {
		t.Errorf("reads of given cells after the intake: %v; want one, of cell %s alone", asked, target)
	}
	if got := store.whole.Load(); got != whole {
		t.Errorf("whole-resolution counts after the intake: %d; want %d (carried over, not made again)", got, whole)
	}

	// Elsewhere: drawn from the carried counts, equal to the database's.
	n = store.reads()
	other, otherPath := near(-1, -1)
	drawn := counts(s.get(police, otherPath), other)
	if store.reads() != n {
		t.Errorf("the tile elsewhere read its cells; want it drawn from the carried counts")
	}
	cells := make([]uint64, 0, len(drawn))
	for c := range drawn {
		cells = append(cells, c)
	}
	fresh, err := e.db.CellCountsIn(context.Background(), res, cells, geo.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != len(drawn) || len(drawn) == 0 {
		t.Errorf("tile elsewhere: %d hexagons drawn, %d cells counted by the database", len(drawn), len(fresh))
	}
	for _, c := range fresh {
		if drawn[c.Cell] != c.Count {
			t.Errorf("cell %x elsewhere: drawn %d, the database counts %d", c.Cell, drawn[c.Cell], c.Count)
		}
	}
}
