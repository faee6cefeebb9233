package postgis_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
)

// TestAreaGeometryCrossesAsEWKB: an area written and read back through the database
// keeps every vertex and its hole, and is stored in SRID 4326 without the query
// naming it (the EWKB carries it).
func TestAreaGeometryCrossesAsEWKB(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	want := orb.MultiPolygon{
		{{{-0.8, 52}, {-0.7, 52}, {-0.7, 52.1}, {-0.8, 52.1}, {-0.8, 52}}, {{-0.76, 52.04}, {-0.76, 52.06}, {-0.74, 52.06}, {-0.74, 52.04}, {-0.76, 52.04}}},
		{{{-0.6, 52}, {-0.5, 52}, {-0.5, 52.1}, {-0.6, 52}}},
	}
	if _, err := db.ImportAreas(ctx, []geo.Area{{Level: "lsoa", Code: "E01000001", Name: "Test 001A", Geometry: want}}); err != nil {
		t.Fatal(err)
	}
	var srid int
	if err := db.Pool.QueryRow(ctx, `SELECT ST_SRID(geom) FROM areas WHERE code = 'E01000001'`).Scan(&srid); err != nil || srid != 4326 {
		t.Fatalf("stored SRID %d (%v), want 4326", srid, err)
	}
	areas, err := db.LoadAreas(ctx)
	if err != nil || len(areas) != 1 {
		t.Fatalf("%d areas (%v), want 1", len(areas), err)
	}
	got := areas[0].Geometry
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 {
		t.Fatalf("read back %v, want two polygons, the first with a hole", got)
	}
	// PostGIS may start and orient rings its own way after making them valid: the
	// same rings hold the same vertices and enclose the same area.
	for i := range want {
		for j := range want[i] {
			if len(got[i][j]) != len(want[i][j]) {
				t.Errorf("polygon %d ring %d: %d vertices, want %d", i, j, len(got[i][j]), len(want[i][j]))
			}
		}
	}
	if b := got.Bound(); b != want.Bound() {
		t.Errorf("bound %v, want %v", b, want.Bound())
	}
}
