package tension

import (
	"math"
	"testing"
	"time"
)

func TestParseRulesAndLevel(t *testing.T) {
	rules, err := ParseRules(DefaultRules, DefaultScale)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	tests := []struct {
		name string
		f    Finding
		want string
	}{
		{"rare recurrence", Finding{Observed: 4, Expected: 1, P: 0.001, Recurrence: 400}, "critical"},
		{"tripled, overwhelming", Finding{Observed: 12, Expected: 3, P: 0.0005, Recurrence: nan}, "critical"},
		{"tripled but few", Finding{Observed: 6, Expected: 2, P: 0.0005, Recurrence: nan}, "high"},
		{"doubled, strong", Finding{Observed: 10, Expected: 5, P: 0.005, Recurrence: nan}, "high"},
		{"recurrence 100", Finding{Observed: 3, Expected: 2, P: 0.01, Recurrence: 120}, "high"},
		{"significant", Finding{Observed: 7, Expected: 5, P: 0.04, Recurrence: nan}, "medium"},
		{"no p", Finding{Observed: 7, Expected: 5, P: nan, Recurrence: nan}, "low"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Level(rules, &tt.f); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"high: ratio>=2",             // no catch-all
		"severe: ratio>=2; low",      // not on the scale
		"high: ratio=>2; low",        // bad operator
		"high: colour>=2; low",       // unknown field
		"high: ratio>=two; low",      // not a number
		"high: ratio>=2; low: p<=.5", // last rule has conditions
	} {
		if _, err := ParseRules(s, DefaultScale); err == nil {
			t.Errorf("ParseRules(%q) accepted", s)
		}
	}
	r, err := ParseRules("high: ratio>=2 p<=0.01; low", DefaultScale)
	if err != nil || r[0].String() != "high: ratio>=2 p<=0.01" || r[1].String() != "low" {
		t.Errorf("got %v, %v", r, err)
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestMerge(t *testing.T) {
	rules, _ := ParseRules("critical: ratio>=4; high: ratio>=2; low", DefaultScale)
	asOf := day("2026-03-10")
	gap := 14 * 24 * time.Hour
	recent := []Alert{
		{ID: 1, Finding: Finding{Method: MethodFarrington, Key: "area:A1:race", WindowFrom: day("2026-03-01")}, Status: StatusAcknowledged, TensionLevel: "high", LastSeen: day("2026-03-09")},
		{ID: 2, Finding: Finding{Method: MethodFarrington, Key: "area:A2:race"}, Status: StatusNew, TensionLevel: "high", LastSeen: day("2026-02-01")},
		{ID: 3, Finding: Finding{Method: MethodScan, Key: "cluster", Cells: []uint64{10, 11}}, Status: StatusDismissed, TensionLevel: "high", LastSeen: day("2026-03-08")},
		{ID: 4, Finding: Finding{Method: MethodScan, Key: "cluster", Cells: []uint64{20}}, Status: StatusNew, TensionLevel: "low", LastSeen: day("2026-03-08")},
	}
	found := []Finding{
		{Method: MethodFarrington, Key: "area:A1:race", Observed: 5, Expected: 2, WindowFrom: day("2026-03-04")}, // updates 1
		{Method: MethodFarrington, Key: "area:A2:race", Observed: 5, Expected: 2},                                // 2 is too old: new
		{Method: MethodScan, Key: "cluster", Cells: []uint64{11, 12}, Observed: 9, Expected: 2},                  // overlaps 3, rises to critical: re-raised
		{Method: MethodScan, Key: "cluster", Cells: []uint64{30}, Observed: 3, Expected: 2},                      // no overlap: new
		{Method: MethodEARS, Key: "area:A1:race", Observed: 5, Expected: 2},                                      // other method: new
	}
	changes := Merge(recent, found, asOf, gap, rules, DefaultScale)
	if len(changes) != 5 {
		t.Fatalf("got %d changes, want 5", len(changes))
	}
	c := changes[0]
	if c.New || c.Alert.ID != 1 || c.Alert.Status != StatusAcknowledged || c.Alert.TensionLevel != "high" || !c.Alert.LastSeen.Equal(asOf) || !c.Alert.WindowFrom.Equal(day("2026-03-01")) {
		t.Errorf("alert 1: %+v", c)
	}
	if !changes[1].New || changes[1].Alert.TensionLevel != "high" || !changes[1].Alert.FirstSeen.Equal(asOf) {
		t.Errorf("stale alert 2 should give a new alert: %+v", changes[1])
	}
	if c := changes[2]; c.New || c.Alert.ID != 3 || !c.Reraised || c.Alert.Status != StatusNew || c.Alert.TensionLevel != "critical" {
		t.Errorf("dismissed cluster whose tension rose: %+v", c)
	}
	if !changes[3].New || !changes[4].New {
		t.Errorf("unrelated findings should be new: %+v %+v", changes[3], changes[4])
	}
	// A dismissed alert seen again at the same level stays dismissed.
	again := Merge([]Alert{{ID: 5, Finding: Finding{Method: MethodScan, Key: "cluster", Cells: []uint64{1}}, Status: StatusDismissed, TensionLevel: "high", LastSeen: asOf}},
		[]Finding{{Method: MethodScan, Key: "cluster", Cells: []uint64{1}, Observed: 5, Expected: 2}}, asOf.AddDate(0, 0, 1), gap, rules, DefaultScale)
	if again[0].Alert.Status != StatusDismissed || again[0].Reraised {
		t.Errorf("dismissed alert at the same level: %+v", again[0])
	}
}
