package tension

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	h3 "github.com/uber/h3-go/v4"

	"github.com/tensionmap/tensionmap/geo"
)

// TestAssessmentTransitions tries every move between statuses: the allowed ones are
// exactly the workflow's, each closing or reopening from closed needs a reason, and
// a refused move names the moves there are.
func TestAssessmentTransitions(t *testing.T) {
	allowed := map[[2]string]bool{
		{AssessmentDraft, AssessmentOpen}:         true,
		{AssessmentDraft, AssessmentClosed}:       true,
		{AssessmentOpen, AssessmentUnderReview}:   true,
		{AssessmentUnderReview, AssessmentOpen}:   true,
		{AssessmentUnderReview, AssessmentClosed}: true,
		{AssessmentClosed, AssessmentOpen}:        true,
	}
	for _, from := range AssessmentStatuses {
		for _, to := range AssessmentStatuses {
			tr, err := FindTransition(from, to)
			if allowed[[2]string{from, to}] {
				if err != nil {
					t.Errorf("%s → %s: %v; want allowed", from, to, err)
				}
				if want := to == AssessmentClosed || from == AssessmentClosed; tr.NeedsReason != want {
					t.Errorf("%s → %s: needs reason %v", from, to, tr.NeedsReason)
				}
				continue
			}
			if geo.ErrorCode(err) != geo.ECONFLICT || !strings.Contains(geo.ErrorMessage(err), "it can become") {
				t.Errorf("%s → %s: %v; want a conflict naming the moves there are", from, to, err)
			}
		}
	}
	if _, err := FindTransition(AssessmentOpen, "archived"); geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("unknown status: %v", err)
	}
	for status, want := range map[string]string{AssessmentDraft: StatusAcknowledged, AssessmentOpen: StatusAssessmentOpened,
		AssessmentUnderReview: StatusAssessmentOpened, AssessmentClosed: StatusClosed} {
		if got := AlertStatusFor(status); got != want {
			t.Errorf("alert status for %s: %s; want %s", status, got, want)
		}
	}
}

func TestAssessmentCheck(t *testing.T) {
	rules := AssessmentRules{Scale: DefaultScale, Strands: geo.DefaultStrands}
	good := func() *Assessment {
		return &Assessment{Title: "Tension after the march", TriggerKind: TriggerKindEvent, TensionLevel: "high", Strands: []string{"race"},
			Intelligence: []Intelligence{{Grade: GradeExperienced, Text: "Shopkeepers report abuse"}},
			Risks:        []Risk{{Text: "Retaliation", Rating: "medium"}}, Partners: []string{"Council"}, BBox: []float64{-0.8, 52, -0.7, 52.1}}
	}
	if err := rules.Check(good()); err != nil {
		t.Fatal(err)
	}
	for field, mod := range map[string]func(*Assessment){
		"title":          func(a *Assessment) { a.Title = " " },
		"tension_level":  func(a *Assessment) { a.TensionLevel = "severe" },
		"strands":        func(a *Assessment) { a.Strands = []string{"astrology"} },
		"intelligence 1": func(a *Assessment) { a.Intelligence[0].Grade = "rumour" },
		"risk 1":         func(a *Assessment) { a.Risks[0].Rating = "extreme" },
		"partner 1":      func(a *Assessment) { a.Partners = []string{""} },
		"bbox":           func(a *Assessment) { a.BBox = []float64{1, 2, 0, 3} },
		"trigger_kind":   func(a *Assessment) { a.TriggerKind = "rumour" },
		"summary":        func(a *Assessment) { a.Summary = strings.Repeat("x", 20001) },
	} {
		a := good()
		mod(a)
		if err := rules.Check(a); geo.ErrorCode(err) != geo.EINVALID || !strings.HasPrefix(geo.ErrorMessage(err), field) {
			t.Errorf("bad %s: %v", field, err)
		}
	}
	if err := CheckAction(&Action{Description: "Visit the mosque", Owner: "Neighbourhood team"}); err == nil || !strings.Contains(err.Error(), "due") {
		t.Errorf("action without a due date: %v", err)
	}
}

func TestAssessmentChangesAndOverdue(t *testing.T) {
	a := &Assessment{Title: "A", Strands: []string{"race"}, ReviewDate: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	b := *a
	b.Title = "B"
	b.Strands = []string{"race", "religion"}
	b.ReviewDate = time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)
	ch := Changes(a, &b)
	if len(ch) != 3 || ch["title"] == nil || ch["strands"] == nil || ch["review_date"].(map[string]any)["to"] != "2026-06-08" {
		t.Errorf("changes %v", ch)
	}
	if len(Changes(a, a)) != 0 {
		t.Error("no change gave changes")
	}
	today := time.Date(2026, 6, 9, 15, 0, 0, 0, time.UTC)
	b.Status = AssessmentOpen
	b.Actions = []Action{{ID: 1, Due: time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)}, {ID: 2, Due: time.Date(2026, 6, 9, 0, 0, 0, 0, time.UTC)},
		{ID: 3, Due: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Done: true}}
	if !b.ReviewOverdue(today) || len(b.OverdueActions(today)) != 1 {
		t.Errorf("review overdue %v, overdue actions %v", b.ReviewOverdue(today), b.OverdueActions(today))
	}
	b.Status = AssessmentClosed
	if b.ReviewOverdue(today) || len(b.OverdueActions(today)) != 0 {
		t.Error("a closed assessment is overdue")
	}
}

// TestUpliftJSONWithAZeroBaseline: a window over a baseline of 0 has an infinite
// ratio, which JSON cannot hold; it is stored as null and read back.
func TestUpliftJSONWithAZeroBaseline(t *testing.T) {
	daily := make([]float64, 400)
	daily[380], daily[381] = 3, 2
	res, err := Uplift(daily, 380, DefaultUpliftOptions())
	if err != nil {
		t.Fatal(err)
	}
	var w *UpliftWindow
	for i := range res.Windows {
		if res.Windows[i].Observed > 0 && res.Windows[i].Prior.Available && res.Windows[i].Prior.Baseline == 0 {
			w = &res.Windows[i]
		}
	}
	if w == nil || !math.IsInf(w.Prior.Ratio, 1) {
		t.Fatalf("no window with an infinite ratio: %+v", res.Windows)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("marshalling an uplift with an infinite ratio: %v", err)
	}
	var back UpliftResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for i, bw := range back.Windows {
		if bw.Observed != res.Windows[i].Observed || bw.Prior.Baseline != res.Windows[i].Prior.Baseline {
			t.Errorf("window %d read back as %+v", i, bw)
		}
	}
}

func TestDraftFromAlert(t *testing.T) {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	cell := uint64(h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 8))
	local := &Alert{TensionLevel: "high", Finding: Finding{Method: MethodScan, Key: "cluster", Strands: []string{"race", "religion"},
		Cells: []uint64{cell}, Observed: 9, Expected: 1.5, P: 0.001, Recurrence: math.NaN(), WindowFrom: day.AddDate(0, 0, -6), WindowTo: day,
		Detail: "a cluster"}}
	d := DraftFromAlert(7, local, nil)
	if d.AlertID != 7 || d.TriggerKind != TriggerKindAlert || d.Title != "High rise in race, religion hate reports" || len(d.EventIDs) != 0 {
		t.Errorf("draft of a cluster: %+v", d)
	}
	if len(d.BBox) != 4 || d.BBox[0] >= d.BBox[2] || d.BBox[1] >= d.BBox[3] || d.Cells[0] != cell {
		t.Errorf("draft of a cluster: bbox %v cells %v", d.BBox, d.Cells)
	}
	if _, ok := d.Evidence["recurrence_days"]; ok || d.Evidence["p_value"] != 0.001 || d.Evidence["window_from"] != "2026-11-16" {
		t.Errorf("draft evidence: %v", d.Evidence)
	}
	// The rise after a trigger event answers to that event.
	up := &Alert{TensionLevel: "medium", Finding: Finding{Method: MethodUplift, Key: "event:27:race", Strands: []string{"race"}, Observed: 181,
		Expected: 115.5, P: 3e-7, Recurrence: math.NaN(), WindowFrom: day.AddDate(0, 0, -5), WindowTo: day, Detail: "14 days after National: referendum result"}}
	if d := DraftFromAlert(2, up, nil); !slices.Equal(d.EventIDs, []int64{27}) || d.BBox != nil || d.Title != "Medium rise in race hate reports" {
		t.Errorf("draft of an uplift: events %v bbox %v title %q", d.EventIDs, d.BBox, d.Title)
	}
	// Areas are named by their names where the caller knows them, codes otherwise.
	wide := &Alert{TensionLevel: "high", Finding: Finding{Method: MethodWidespread, Key: "widespread", Strands: []string{"race"},
		AreaLevel: "msoa", Areas: []string{"M1", "M2", "M3", "M4"}, Observed: 30, Expected: 12, P: 1e-6, Recurrence: math.NaN(),
		WindowFrom: day.AddDate(0, 0, -27), WindowTo: day}}
	names := map[string]string{"M1": "Milton Keynes 001", "M2": "Milton Keynes 002"}
	if d := DraftFromAlert(3, wide, names); d.Title != "High rise in race hate reports in Milton Keynes 001, Milton Keynes 002, M3 and 1 more area" ||
		!slices.Equal(d.Areas, wide.Areas) {
		t.Errorf("draft of a widespread rise: title %q areas %v", d.Title, d.Areas)
	}
	for key, want := range map[string]int64{"event:27:race": 27, "event:3:": 3, "event:x:race": 0, "event:-1:race": 0, "area:E01:race": 0, "cluster": 0, "": 0} {
		if got := EventOfAlertKey(key); got != want {
			t.Errorf("EventOfAlertKey(%q) = %d, want %d", key, got, want)
		}
	}
}
