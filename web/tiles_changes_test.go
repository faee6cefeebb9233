package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// TestTileCacheKeepsWhatAnIngestDidNotTouch: a report added in one corner of the
// town makes the tiles over it count it, while a tile at the other corner held in
// the cache is served from it as it was (the same ETag, a cache hit, counted as kept
// in the metrics). Layers whose values depend on more than their own cells go
// wholesale: the hot spots of a role that may not see small counts (published hot
// spots take every cell's counts). A change not recorded by cell (new populations)
// draws everything again.
func TestTileCacheKeepsWhatAnIngestDidNotTouch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police, strategic := e.as(access.Police), e.as(access.Strategic)
	town, ok := geo.AreasBound(e.gen.GeoAreas())
	if !ok {
		t.Fatal("the town has no areas")
	}
	at := func(fx, fy float64) orb.Point {
		return orb.Point{town.Min[0] + fx*(town.Max[0]-town.Min[0]), town.Min[1] + fy*(town.Max[1]-town.Min[1])}
	}
	const z = 13
	// The report goes to the centre of a resolution-9 cell (what zoom 13 draws) near
	// the south-west corner; the tile kept is near the north-east corner.
	target := h3.LatLngToCell(h3.NewLatLng(at(0.2, 0.2)[1], at(0.2, 0.2)[0]), 9)
	ll := target.LatLng()
	near, nearPath := tileAt("hotspots", ll.Lng, ll.Lat, z)
	farPoint := at(0.85, 0.85)
	far, farPath := tileAt("hotspots", farPoint[0], farPoint[1], z)
	_, farAreas := tileAt("areas", farPoint[0], farPoint[1], z)
	_, farAlerts := tileAt("alerts", farPoint[0], farPoint[1], z)
	_, nearAreas := tileAt("areas", ll.Lng, ll.Lat, z)

	counts := func(r *resp, tile maptile.Tile) map[uint64]int {
		m := map[uint64]int{}
		for _, f := range decodeTile(t, r, tile, "hotspots") {
			n, _ := num(f, "count")
			m[featureID(t, f)] = n
		}
		return m
	}
	nearBefore := e.get(police, nearPath)
	before := counts(nearBefore, near)
	farBefore := e.get(police, farPath)
	if farBefore.status != 200 || len(counts(farBefore, far)) == 0 {
		t.Fatalf("the far tile %v: %s; want hexagons drawn", far, farBefore)
	}
	held := map[string]*resp{}
	for _, p := range []string{farAreas, farAlerts, nearAreas} {
		held[p] = e.get(police, p)
	}
	strategicBefore := e.get(strategic, farPath)
	if strategicBefore.status >= 300 && strategicBefore.status != 204 {
		t.Fatalf("strategic far tile: %s", strategicBefore)
	}

	// The intake.
	partner, _ := e.token(access.Partner, "third_party")
	rec := intakeRecord("tile-corner-1", "precision", "exact")
	rec["lat"], rec["lon"] = ll.Lat, ll.Lng
	var ans intakeAnswer
	r := e.send(partner, "POST", "/api/v1/incidents", []map[string]any{rec})
	r.json(t, &ans)
	if r.status != 200 || ans.Inserted != 1 {
		t.Fatalf("intake: %s", r)
	}

	// The far tile: from the cache, as it was.
	_, _, hits0, _ := e.srv.TileCacheStats()
	farAfter := e.get(police, farPath)
	_, _, hits1, _ := e.srv.TileCacheStats()
	if farAfter.header.Get("ETag") != farBefore.header.Get("ETag") || hits1 != hits0+1 {
		t.Errorf("far tile after an intake in the other corner: ETag %q (was %q), cache hits %d -> %d; want the same tile from the cache",
			farAfter.header.Get("ETag"), farBefore.header.Get("ETag"), hits0, hits1)
	}
	if r := e.get(police, farPath, "If-None-Match", farBefore.header.Get("ETag")); r.status != 304 {
		t.Errorf("far tile with its old ETag: %s; want 304", r)
	}
	for _, p := range []string{farAreas, farAlerts} {
		_, _, h0, _ := e.srv.TileCacheStats()
		got := e.get(police, p)
		_, _, h1, _ := e.srv.TileCacheStats()
		if got.header.Get("ETag") != held[p].header.Get("ETag") || h1 != h0+1 {
			t.Errorf("%s after the intake: ETag %q (was %q), hits %d -> %d; want it from the cache", p, got.header.Get("ETag"),
				held[p].header.Get("ETag"), h0, h1)
		}
	}
	kept, redrawn := e.srv.TileCacheChanges()
	if kept < 3 || redrawn < 2 {
		t.Errorf("tiles kept %d, left to draw again %d; want at least 3 and 2", kept, redrawn)
	}
	metrics := e.get(e.as(access.Admin), "/metrics")
	if want := `tensionmap_tile_cache_version_changes_total{outcome="kept"} ` + fmt.Sprint(kept); !strings.Contains(string(metrics.body), want) {
		t.Errorf("metrics lack %q", want)
	}

	// The tile over the new report counts it.
	_, _, hits2, _ := e.srv.TileCacheStats()
	nearAfter := e.get(police, nearPath)
	_, _, hits3, _ := e.srv.TileCacheStats()
	if hits3 != hits2 {
		t.Errorf("the tile over the new report came from the cache")
	}
	if got := counts(nearAfter, near)[uint64(target)]; got != before[uint64(target)]+1 {
		t.Errorf("cell %s: %d before the intake, %d after; want one more", target, before[uint64(target)], got)
	}
	// The area holding it is drawn again too.
	if got := e.get(police, nearAreas); got.header.Get("ETag") == held[nearAreas].header.Get("ETag") {
		t.Errorf("the areas tile over the new report kept its ETag")
	}
	// A role that may not see small counts: its hot spots are published from every
	// cell's counts, so its far tile is drawn again.
	_, _, hits4, _ := e.srv.TileCacheStats()
	e.get(strategic, farPath)
	if _, _, hits5, _ := e.srv.TileCacheStats(); hits5 != hits4 {
		t.Errorf("strategic far tile came from the cache after new data")
	}

	// New populations are not recorded by cell: everything is drawn again.
	doubled := map[string]int{}
	for code, n := range e.gen.Populations() {
		doubled[code] = 2 * n
	}
	if _, err := e.db.SetPopulation(context.Background(), doubled); err != nil {
		t.Fatal(err)
	}
	e.srv.DataChanged()
	_, _, hits6, _ := e.srv.TileCacheStats()
	e.get(police, farPath)
	if _, _, hits7, _ := e.srv.TileCacheStats(); hits7 != hits6 {
		t.Errorf("far tile came from the cache after new populations")
	}
}
