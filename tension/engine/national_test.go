package engine

import (
	"context"
	"testing"
)

// TestNationalScenario runs the engine every Monday over two years of the national
// scenario (one seed, so the figures are fixed) and checks the goal: at least 75%
// of the areas risen in a national event flagged within the event's month, at most
// 2% of quiet area-months alarmed.
func TestNationalScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine 105 times")
	}
	o := DefaultNationalOptions()
	town := NewNationalTown(1, o)
	scores, err := RunNational(context.Background(), town, o)
	if err != nil {
		t.Fatal(err)
	}
	var engine *NationalScore
	for i, s := range scores {
		t.Logf("%-22s flagged %d of %d risen areas, %d of %d quiet area-months alarmed", s.Detector, s.Flagged, s.Risen, s.QuietAlarmed, s.Quiet)
		if s.Detector == labelEngine {
			engine = &scores[i]
		}
	}
	if engine == nil || engine.Risen == 0 || engine.Quiet == 0 {
		t.Fatalf("no engine row, or nothing to score: %+v", scores)
	}
	if engine.Flagging() < 0.75 {
		t.Errorf("flagged %.1f%% of the risen areas within the event's month, want at least 75%%", 100*engine.Flagging())
	}
	if engine.QuietRate() > 0.02 {
		t.Errorf("alarmed %.1f%% of the quiet area-months, want at most 2%%", 100*engine.QuietRate())
	}
}

// TestNationalTown checks the scenario's shape: 33 areas of 20 to 80 reports a
// month, race about three quarters of them, a national event in most areas.
func TestNationalTown(t *testing.T) {
	o := DefaultNationalOptions()
	town := NewNationalTown(2, o)
	if len(town.Areas) != 33 {
		t.Errorf("%d areas, want 33", len(town.Areas))
	}
	months := float64(len(town.months()))
	perArea := float64(len(town.Incidents)) / float64(len(town.Areas)) / months
	race := 0
	for _, in := range town.Incidents {
		if in.Strands[0] == "race" {
			race++
		}
	}
	if perArea < 20 || perArea > 80 {
		t.Errorf("%.1f reports a month an area, want 20 to 80", perArea)
	}
	if share := float64(race) / float64(len(town.Incidents)); share < 0.72 || share > 0.8 {
		t.Errorf("race share %.2f, want about 0.75", share)
	}
	national := 0
	for _, r := range town.Rises {
		if r.National {
			national++
			if len(r.Areas) < 26 || r.Strand != "race" || r.End.Sub(r.Start).Hours()/24 < 27 || r.End.Sub(r.Start).Hours()/24 > 56 {
				t.Errorf("national rise %+v: want race in 80%% of the areas for 4 to 8 weeks", r)
			}
		}
	}
	if national != o.EvalYears {
		t.Errorf("%d national events, want one a year evaluated", national)
	}
	if got := len(town.Mondays()); got < 104 || got > 105 {
		t.Errorf("%d runs, want every Monday of two years", got)
	}
}
