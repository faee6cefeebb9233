package postgis_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/access"
)

// TestVisit: a first visit has no last visit; home pages within the gap belong to
// the same visit and keep its start; after the gap the visit before is the last.
func TestVisit(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	u := newUser(t, db, "visitor", access.Council)
	t0 := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	gap := 30 * time.Minute
	for i, c := range []struct {
		at   time.Time
		want time.Time
	}{
		{t0, time.Time{}},                                             // first visit
		{t0.Add(10 * time.Minute), time.Time{}},                       // the same visit
		{t0.Add(2 * time.Hour), t0.Add(10 * time.Minute)},             // a new visit: the last page of the one before
		{t0.Add(2*time.Hour + time.Minute), t0.Add(10 * time.Minute)}, // still that visit
		{t0.Add(5 * time.Hour), t0.Add(2*time.Hour + time.Minute)},
	} {
		got, err := db.Visit(ctx, u.ID, c.at, gap)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(c.want) {
			t.Errorf("visit %d at %s: last visit %s, want %s", i, c.at.Format(time.TimeOnly), got, c.want)
		}
	}
	if _, err := db.Visit(ctx, u.ID+1000, t0, gap); err == nil {
		t.Error("a visit of no user: no error")
	}
}

// TestAreasOutline: the outline of the demo's areas covers them all and is one
// polygon without holes (the synthetic town's areas tile it).
func TestAreasOutline(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	empty, err := db.AreasOutline(ctx)
	if err != nil || len(empty) != 0 {
		t.Fatalf("with no areas: %v, %v; want nothing", empty, err)
	}
	areas := importDemoAreas(t, db, demo(t, 10))
	got, err := db.AreasOutline(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want orb.Bound
	for i, a := range areas {
		if i == 0 {
			want = a.Geometry.Bound()
		} else {
			want = want.Union(a.Geometry.Bound())
		}
	}
	b := got.Bound()
	for i, v := range []float64{b.Min[0] - want.Min[0], b.Min[1] - want.Min[1], b.Max[0] - want.Max[0], b.Max[1] - want.Max[1]} {
		if math.Abs(v) > 1e-9 {
			t.Errorf("outline bound %v, want the areas' %v (edge %d off by %g)", b, want, i, v)
			break
		}
	}
	if len(got) != 1 || len(got[0]) != 1 {
		t.Errorf("outline: %d polygons, the first with %d rings; want one without holes", len(got), len(got[0]))
	}
}
