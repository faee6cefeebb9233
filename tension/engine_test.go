package tension

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
)

// demoSource returns a synthetic town's incidents as a MemorySource, with the
// generator for its ground truth.
func demoSource(tb testing.TB, rows, years int, end time.Time) (*MemorySource, *synth.Generator) {
	tb.Helper()
	g, err := synth.New(synth.Options{Seed: 11, Rows: rows, Years: years, End: end})
	if err != nil {
		tb.Fatal(err)
	}
	areas := g.GeoAreas()
	for i := range areas {
		areas[i].ID = int32(i + 1)
	}
	ix := geo.NewAreaIndex(areas)
	v, err := geo.NewValidator(geo.ValidatorOptions{Key: []byte("engine test key, thirty-two bytes"), Now: func() time.Time { return end.AddDate(0, 0, 2) }})
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := geo.NewBinner(nil, nil)
	var incidents []MemoryIncident
	r := g.Reader()
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			tb.Fatal(err)
		}
		in, err := v.Validate(raw)
		if err != nil {
			tb.Fatal(err)
		}
		in.Cell = b.Cell(in)
		if in.Cell != 0 {
			in.Areas = ix.Containing(nil, in.Location)
		}
		incidents = append(incidents, FromIncident(in))
	}
	var events []TriggerEvent
	for i, e := range g.Events() {
		events = append(events, TriggerEvent{ID: int64(i + 1), Day: e.Date, Scope: e.Scope, Description: e.Description, Strands: e.Strands})
	}
	return NewMemorySource(areas, incidents, events, geo.DefaultStrands), g
}

func TestWeekly(t *testing.T) {
	daily := []float64{9, 9, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2}
	got := weekly(daily)
	if len(got) != 2 || got[0] != 7 || got[1] != 14 {
		t.Errorf("got %v, want [7 14] (the two days before the first whole week dropped)", got)
	}
}

// TestEngineFindsInjectedSpikes runs the engine on the day after each of a few
// injected spikes of a synthetic town and checks that some detector raises a finding
// for it: the scan for local clusters, the baseline detectors for citywide rises.
func TestEngineFindsInjectedSpikes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole engine several times")
	}
	end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	src, g := demoSource(t, 60000, 3, end)
	o := DefaultEngineOptions()
	o.Strands = geo.DefaultStrands
	o.Scan.Replicates = 199
	o.NearRepeat.Replicates = 99
	found, tried := 0, 0
	for _, sp := range g.Spikes() {
		if sp.Start.Before(end.AddDate(-2, 0, 0)) || sp.End.After(end) {
			continue
		}
		asOf := sp.Start.AddDate(0, 0, 2)
		rep, err := Run(context.Background(), src, asOf, o)
		if err != nil {
			t.Fatal(err)
		}
		tried++
		hit := false
		for _, f := range rep.Findings {
			if f.Method == MethodScan && sp.RadiusM > 0 && len(f.Cells) > 0 {
				hit = true
			}
			if sp.RadiusM == 0 && (f.Method == MethodEARS || f.Method == MethodFarrington || f.Method == MethodUplift) {
				hit = true
			}
		}
		if hit {
			found++
		}
		t.Logf("%s (%s, %d injected, radius %.0f m) as of %s: %d findings %v", sp.ID, sp.Event.Scope, sp.Injected, sp.RadiusM,
			asOf.Format(time.DateOnly), len(rep.Findings), rep.Counts)
		if tried == 4 {
			break
		}
	}
	if tried == 0 {
		t.Fatal("no spike in range to test")
	}
	if found*2 < tried {
		t.Errorf("found %d of %d injected spikes", found, tried)
	}
}

func TestEngineReportShape(t *testing.T) {
	end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	src, _ := demoSource(t, 8000, 3, end)
	o := DefaultEngineOptions()
	o.Strands = geo.DefaultStrands
	o.Scan.Replicates = 99
	o.NearRepeat.Replicates = 49
	rep, err := Run(context.Background(), src, end, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["farrington_series"] == 0 || rep.Counts["ears_series"] == 0 {
		t.Errorf("no series evaluated: %v", rep.Counts)
	}
	if len(rep.Hotspots) == 0 || rep.HotspotRes != 8 {
		t.Errorf("no hotspots: %d at res %d", len(rep.Hotspots), rep.HotspotRes)
	}
	if rep.NearRepeat == nil || rep.NearRepeat.Table.Events == 0 {
		t.Errorf("no near-repeat analysis")
	}
	for _, f := range rep.Findings {
		if f.Method == "" || f.Key == "" || f.WindowTo.After(end) || f.Observed <= f.Expected || math.IsNaN(f.Expected) {
			t.Errorf("odd finding %+v", f)
		}
	}
}

// TestEngineNearRepeatWholeYear checks that the near-repeat test covers every located
// incident of the year, beyond the 20,000 it was once capped at, that a bound keeps
// whole days only, and that the text names the period and the count.
func TestEngineNearRepeatWholeYear(t *testing.T) {
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(5, 6))
	var incidents []MemoryIncident
	for range 30000 {
		day := asOf.AddDate(0, 0, -r.IntN(400)) // some before the year
		at := geo.LatLon{Lat: 52.0 + r.Float64()*0.05, Lon: -0.8 + r.Float64()*0.08}
		incidents = append(incidents, MemoryIncident{Day: day, Strands: []string{"race"}, Cell: 1, At: at, Exact: true})
	}
	inYear := 0
	first := asOf.AddDate(0, 0, -364)
	for _, in := range incidents {
		if !in.Day.Before(first) {
			inYear++
		}
	}
	src := NewMemorySource(nil, incidents, nil, nil)
	o := DefaultEngineOptions()
	o.Detectors = []string{"near_repeat"}
	o.NearRepeat.Replicates = 19
	rep, err := Run(context.Background(), src, asOf, o)
	if err != nil || len(rep.Failures) > 0 {
		t.Fatal(err, rep.Failures)
	}
	nr := rep.NearRepeat
	if nr == nil || nr.Table.Events != inYear || inYear <= 20000 || !nr.From.Equal(first) || !nr.To.Equal(asOf) {
		t.Fatalf("near repeat over %v: %d events from %v to %v, want %d from %v", nr != nil, nr.Table.Events, nr.From, nr.To, inYear, first)
	}
	want := fmt.Sprintf("%s located incidents over the 365 days from 1 April 2025 to 31 March 2026", groupThousands(inYear))
	if got := nr.Coverage(); got != want {
		t.Errorf("coverage %q, want %q", got, want)
	}

	// A bound keeps the latest whole days within it.
	o.NearRepeatMaxEvents = 5000
	rep, err = Run(context.Background(), src, asOf, o)
	if err != nil || len(rep.Failures) > 0 {
		t.Fatal(err, rep.Failures)
	}
	nr = rep.NearRepeat
	kept, before := 0, 0
	for _, in := range incidents {
		if !in.Day.Before(nr.From) && !in.Day.After(asOf) {
			kept++
		}
		if in.Day.Equal(nr.From.AddDate(0, 0, -1)) {
			before++
		}
	}
	if nr.Table.Events != kept || kept > 5000 || kept+before <= 5000 || rep.Counts["near_repeat_located"] != inYear || rep.Counts["near_repeat_events"] != kept {
		t.Errorf("bounded: %d events from %v (%d there, %d the day before), counts %v", nr.Table.Events, nr.From, kept, before, rep.Counts)
	}
	if !strings.HasPrefix(nr.Coverage(), groupThousands(kept)+" located incidents over the ") {
		t.Errorf("bounded coverage %q", nr.Coverage())
	}
}
