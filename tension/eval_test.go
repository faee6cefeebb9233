package tension

import (
	"math"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

func TestScorer(t *testing.T) {
	center := geo.LatLon{Lat: 52.04, Lon: -0.76}
	near := uint64(h3.LatLngToCell(h3.NewLatLng(52.041, -0.761), 8))
	far := uint64(h3.LatLngToCell(h3.NewLatLng(52.10, -0.60), 8))
	spikes := []EvalSpike{
		{ID: "local", Start: day("2026-03-01"), End: day("2026-03-04"), Center: center, RadiusM: 500, Areas: []string{"A1", "W1"}, Strands: []string{"religion"}},
		{ID: "city", Start: day("2026-04-01"), End: day("2026-04-10"), Citywide: true, Strands: []string{"race"}},
	}
	s := NewScorer(spikes)
	in := func(from, to string) (time.Time, time.Time) { return day(from), day(to) }
	f1, t1 := in("2026-03-01", "2026-03-03")
	s.Add(day("2026-03-03"), []string{MethodScan}, []Finding{
		{Method: MethodScan, Key: "cluster", Cells: []uint64{near}, WindowFrom: f1, WindowTo: t1},                                  // finds "local" after 2 days
		{Method: MethodScan, Key: "cluster", Cells: []uint64{far}, WindowFrom: f1, WindowTo: t1},                                   // too far: false
		{Method: MethodFarrington, Key: "area:A1", Areas: []string{"A1"}, Strands: []string{"race"}, WindowFrom: f1, WindowTo: t1}, // wrong strand: false
	})
	f2, t2 := in("2026-04-05", "2026-04-05")
	s.Add(day("2026-04-05"), []string{MethodEARS}, []Finding{{Method: MethodEARS, Key: "city:all", WindowFrom: f2, WindowTo: t2}})              // finds "city" after 4 days
	s.Add(day("2026-05-20"), nil, []Finding{{Method: MethodEARS, Key: "city:all", WindowFrom: day("2026-05-20"), WindowTo: day("2026-05-20")}}) // false
	scores := s.Scores([]string{MethodScan, MethodEARS, MethodFarrington}, 100)
	want := []struct {
		found, falses int
		days          float64
	}{{1, 1, 2}, {1, 1, 4}, {0, 1, math.NaN()}}
	for i, w := range want {
		sc := scores[i]
		if sc.Detected != w.found || sc.FalseAlarms != w.falses || !(sc.MedianDays == w.days || math.IsNaN(w.days) && math.IsNaN(sc.MedianDays)) {
			t.Errorf("%s: found %d, false %d, median %v; want %d, %d, %v", sc.Detector, sc.Detected, sc.FalseAlarms, sc.MedianDays, w.found, w.falses, w.days)
		}
		if sc.FalsePerAreaWeek != float64(w.falses)/100 {
			t.Errorf("%s: %v false alarms per area-week", sc.Detector, sc.FalsePerAreaWeek)
		}
	}
}

func TestPAI(t *testing.T) {
	cells := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	score := []float64{0, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	ranked := RankCells(cells, func(i int) float64 { return score[i] })
	if ranked[0] != 2 || ranked[1] != 3 || ranked[2] != 1 {
		t.Fatalf("ranking %v", ranked[:3])
	}
	// The top 5% of 20 cells is 1 cell, holding 6 of 10 incidents: PAI = 0.6/0.05.
	next := map[uint64]int{2: 6, 7: 4}
	if got := PAI(ranked, next, len(cells), 0.05); math.Abs(got-12) > 1e-12 {
		t.Errorf("PAI = %v, want 12", got)
	}
	if got := PAI(ranked, map[uint64]int{}, len(cells), 0.05); !math.IsNaN(got) {
		t.Errorf("PAI with no incidents = %v, want NaN", got)
	}
}
