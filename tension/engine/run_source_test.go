package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/tension"
)

// TestRunSourceFindsAsTheSource runs every detector over a generated town through the
// source a run reads (each kind of count read once and shared) and straight over the
// source, and wants the same report: findings, cells placed in areas, hot spots,
// near repeats, uplifts and counts.
func TestRunSourceFindsAsTheSource(t *testing.T) {
	ctx := context.Background()
	end := time.Date(2026, 6, 28, 0, 0, 0, 0, time.UTC)
	g, err := synth.New(synth.Options{Seed: 5, Rows: 20000, Years: 3, End: end})
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := SynthSource(g, geo.DefaultStrands)
	if err != nil {
		t.Fatal(err)
	}
	o := tension.DefaultEngineOptions()
	o.Scan.Replicates = 99
	o.NearRepeat.Replicates = 19
	shared := runSource(src, o, end)
	if _, ok := shared.(tension.CellPlacer); !ok {
		t.Fatal("the run's source does not place cells in areas, as its source does")
	}
	want, err := tension.Run(ctx, src, end, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tension.Run(ctx, shared, end, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Findings) == 0 || want.NearRepeat == nil || len(want.Hotspots) == 0 {
		t.Fatalf("%d findings, near repeat %v, %d hot spots: too little to compare", len(want.Findings), want.NearRepeat != nil, len(want.Hotspots))
	}
	// Printed, so that the NaNs (a recurrence not yet measured, a ratio with
	// nothing expected) compare equal.
	show := func(r *tension.Report) []string {
		nr := ""
		if r.NearRepeat != nil {
			nr = fmt.Sprintf("%+v %+v %+v", r.NearRepeat.Table, r.NearRepeat.Zones, r.NearRepeat.Risk != nil)
			if r.NearRepeat.Risk != nil {
				nr += fmt.Sprintf(" %+v", *r.NearRepeat.Risk)
			}
		}
		return []string{fmt.Sprintf("%+v", r.Findings), fmt.Sprintf("%+v", r.Hotspots), nr,
			fmt.Sprintf("%+v", r.Uplifts), fmt.Sprintf("%v", r.Counts), fmt.Sprintf("%+v", r.Failures)}
	}
	g2, w2 := show(got), show(want)
	for i, name := range []string{"findings", "hot spots", "near repeat", "uplifts", "counts", "failures"} {
		if g2[i] != w2[i] {
			t.Errorf("%s through the run's source differ:\n%s\nwant\n%s", name, g2[i], w2[i])
		}
	}
}
