package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// runEngine runs the real engine over the environment's town as of its last day and
// stores it with two findings of known figures: a large cluster and a small one.
func (e *env) runEngine() (big, small int64) {
	e.t.Helper()
	alerts := e.runEngineWith(func(rep *tension.Report) []tension.Finding {
		var cell uint64
		for _, h := range rep.Hotspots {
			if h.Count > 0 {
				cell = h.Cell
				break
			}
		}
		return []tension.Finding{
			{Method: tension.MethodScan, Key: "cluster", Cells: []uint64{cell}, Observed: 12, Expected: 2, P: 0.001, Recurrence: 1000, Score: 9,
				WindowFrom: testEnd.AddDate(0, 0, -2), WindowTo: testEnd, Detail: "test cluster",
				Series: []tension.Point{{Day: testEnd.AddDate(0, 0, -1), Observed: 1, Expected: 0.4}, {Day: testEnd, Observed: 11, Expected: 1.6}}},
			{Method: tension.MethodEARS, Key: "area:DEMOW01:all:C2", Areas: []string{"DEMOW01"}, Observed: 2, Expected: 0.2, P: 0.04,
				Recurrence: 25, Score: 3, WindowFrom: testEnd, WindowTo: testEnd, Detail: "EARS C2"},
		}
	})
	if len(alerts) != 2 {
		e.t.Fatalf("%d alerts", len(alerts))
	}
	for _, a := range alerts {
		if a.Method == tension.MethodScan {
			big = a.ID
		} else {
			small = a.ID
		}
	}
	return big, small
}

// runEngineWith runs the engine on the test town as of testEnd, stores the findings
// that findings gives for its report in place of the detectors' own (so that the
// alerts are known), and returns the alerts stored.
func (e *env) runEngineWith(findings func(*tension.Report) []tension.Finding) []tension.StoredAlert {
	e.t.Helper()
	o := tension.DefaultEngineOptions()
	o.Strands = geo.DefaultStrands
	o.Scan.Replicates, o.NearRepeat.Replicates = 99, 49
	id, finish, ok, err := e.db.StartEngineRun(e.ctx, testEnd, "test", nil)
	if err != nil || !ok {
		e.t.Fatal(ok, err)
	}
	rep, err := tension.Run(e.ctx, e.db, testEnd, o)
	if err != nil {
		e.t.Fatal(err)
	}
	rep.Findings = findings(rep)
	rules, _ := tension.ParseRules(tension.DefaultRules, tension.DefaultScale)
	changes := tension.Merge(nil, rep.Findings, testEnd, 14*24*time.Hour, rules, tension.DefaultScale)
	if _, _, _, err := e.db.SaveEngineRun(e.ctx, id, rep, changes, "high", tension.DefaultScale); err != nil {
		e.t.Fatal(err)
	}
	finish(rep.Counts, nil)
	alerts, err := e.db.Alerts(e.ctx, tension.AlertFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return alerts
}

func TestAlertsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big, small := e.runEngine()
	council, strategic, police := e.as(access.Council), e.as(access.Strategic), e.as(access.Police)

	var list struct {
		Alerts []struct {
			ID           int64
			Method       string
			Observed     *int
			Suppressed   bool
			TensionLevel string `json:"tension_level"`
			AssessmentID *int64 `json:"assessment_id"`
			Areas        []string
		}
	}
	e.getJSON(council, "/api/v1/alerts", &list)
	if len(list.Alerts) != 2 {
		t.Fatalf("council sees %d alerts, want 2", len(list.Alerts))
	}
	for _, a := range list.Alerts {
		switch a.ID {
		case big:
			if a.Observed == nil || *a.Observed != 12 || a.TensionLevel != "critical" || a.AssessmentID == nil || len(a.Areas) == 0 {
				t.Errorf("the cluster: %+v", a)
			}
		case small:
			if a.Observed == nil || *a.Observed != 2 || a.AssessmentID != nil {
				t.Errorf("the small alert as council: %+v", a)
			}
		}
	}
	// Strategic users read alerts without small counts: the 2 is withheld, or
	// published only as a noisy figure rounded to 5 (docs/privacy.md), never as 2.
	e.getJSON(strategic, "/api/v1/alerts?method=ears", &list)
	if len(list.Alerts) != 1 {
		t.Fatalf("strategic sees %d ears alerts, want 1", len(list.Alerts))
	}
	if a := list.Alerts[0]; a.Observed == nil && !a.Suppressed || a.Observed != nil && (*a.Observed == 2 || *a.Observed%5 != 0) {
		t.Errorf("the small alert as strategic: observed %v, suppressed %v: want withheld or a multiple of 5", a.Observed, a.Suppressed)
	}
	// Each alert has a bbox to fly the map to: the cluster's hexagon, the ward's bounds.
	var boxes struct {
		Alerts []struct {
			ID    int64
			Cells []string
			BBox  []float64
		}
	}
	e.getJSON(council, "/api/v1/alerts", &boxes)
	for _, a := range boxes.Alerts {
		if len(a.BBox) != 4 || a.BBox[0] >= a.BBox[2] || a.BBox[1] >= a.BBox[3] || a.BBox[0] > -0.5 || a.BBox[2] < -1.1 || a.BBox[1] < 51.8 || a.BBox[3] > 52.3 {
			t.Errorf("alert %d: bbox %v", a.ID, a.BBox)
		}
	}
	// Nor in an alert's history: the update that recorded observed = 2 is withheld.
	e.get(council, fmt.Sprintf("/api/v1/alerts/%d", small)) // a read changes nothing
	for _, id := range []int64{big, small} {
		body := string(e.get(strategic, fmt.Sprintf("/api/v1/alerts/%d", id)).body)
		for _, small := range []string{`"observed":1,`, `"observed":2,`, `"observed":1}`, `"observed":2}`, `"observed":1.`, `"observed":2.`} {
			if strings.Contains(body, small) {
				t.Errorf("alert %d as strategic carries %s: %s", id, small, body)
			}
		}
	}
	if r := e.get(e.as(access.Partner), "/api/v1/alerts"); r.status != http.StatusForbidden {
		t.Errorf("partner: %s", r)
	}
	if r := e.get(council, "/api/v1/alerts?status=open"); r.status != http.StatusBadRequest {
		t.Errorf("bad status filter: %s", r)
	}

	var one struct {
		Alert struct {
			Series []struct {
				Day      string
				Observed *int
			}
			Events []struct{ Action string }
			Status string
		}
	}
	e.getJSON(council, fmt.Sprintf("/api/v1/alerts/%d", big), &one)
	if len(one.Alert.Series) != 2 || *one.Alert.Series[1].Observed != 11 || len(one.Alert.Events) != 2 {
		t.Errorf("the cluster's evidence and history: %+v", one.Alert)
	}
	e.getJSON(strategic, fmt.Sprintf("/api/v1/alerts/%d", big), &one)
	if o := one.Alert.Series[0].Observed; o != nil && (*o == 1 || *o%5 != 0) {
		t.Errorf("strategic sees a day's count of 1 in the evidence as %d: want it withheld or a noisy multiple of 5", *o)
	}

	// Status moves, under the route policy and the workflow's rules.
	path := func(id int64, to string) string { return fmt.Sprintf("/api/v1/alerts/%d/%s", id, to) }
	if r := e.send(strategic, "POST", path(big, "acknowledge"), map[string]string{}); r.status != http.StatusForbidden {
		t.Errorf("strategic acknowledging: %s", r)
	}
	if r := e.send(council, "POST", path(big, "dismiss"), map[string]string{}); r.status != http.StatusBadRequest {
		t.Errorf("dismissing without a reason: %s", r)
	}
	if r := e.do(council, "POST", path(big, "acknowledge"), nil); r.status != http.StatusOK {
		t.Fatalf("acknowledging: %s", r)
	}
	if r := e.do(police, "POST", path(big, "acknowledge"), nil); r.status != http.StatusConflict {
		t.Errorf("acknowledging twice: %s", r)
	}
	if r := e.send(police, "POST", path(big, "dismiss"), map[string]string{"reason": "a known dispute between neighbours"}); r.status != http.StatusOK {
		t.Fatalf("dismissing: %s", r)
	}
	e.getJSON(council, fmt.Sprintf("/api/v1/alerts/%d", big), &one)
	if one.Alert.Status != tension.StatusDismissed || len(one.Alert.Events) != 4 {
		t.Errorf("after the moves: %+v", one.Alert)
	}
	if n := len(e.auditEntries("alerts.dismiss")); n != 1 {
		t.Errorf("%d alerts.dismiss audit entries, want 1", n)
	}
}

func TestHotspotsNearRepeatAndRunsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runEngine()
	var hs struct {
		Resolution int
		Hotspots   []struct {
			Cell       string
			Count      *int
			Confidence int
			Category   string
		}
	}
	e.getJSON(e.as(access.Police), "/api/v1/hotspots?res=8", &hs)
	if hs.Resolution != 8 || len(hs.Hotspots) == 0 {
		t.Fatalf("hotspots: %+v", hs)
	}
	hs.Hotspots = nil // a field the answer leaves out must not keep the police value
	e.getJSON(e.as(access.Strategic), "/api/v1/hotspots?res=8", &hs)
	for _, h := range hs.Hotspots {
		if h.Count != nil && *h.Count > 0 && *h.Count < 3 {
			t.Fatalf("strategic sees a hot spot count of %d", *h.Count)
		}
	}
	var nr struct {
		Events   int
		Period   struct{ From, To string }
		Coverage string
		Table    []struct {
			Distance, Time string
			Observed       int
		}
	}
	e.getJSON(e.as(access.Council), "/api/v1/near-repeat", &nr)
	if nr.Events == 0 || len(nr.Table) == 0 || nr.Table[0].Distance == "" || nr.Period.From == "" || nr.Period.To < nr.Period.From ||
		!strings.Contains(nr.Coverage, " located incidents over ") {
		t.Errorf("near repeat: %+v", nr)
	}
	if r := e.get(e.as(access.Strategic), "/api/v1/near-repeat"); r.status != http.StatusForbidden {
		t.Errorf("strategic reading the risk zones: %s", r)
	}
	var runs struct {
		Runs []struct {
			ID       int64
			Status   string
			Failures []struct{ Detector, Error string }
			Seconds  map[string]float64
		}
	}
	e.getJSON(e.as(access.Admin), "/api/v1/runs", &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "done" || runs.Runs[0].Failures == nil || len(runs.Runs[0].Seconds) == 0 {
		t.Fatalf("runs: %+v", runs)
	}
	var one struct{ Run struct{ ID int64 } }
	e.getJSON(e.as(access.Strategic), fmt.Sprintf("/api/v1/runs/%d", runs.Runs[0].ID), &one)
	if one.Run.ID != runs.Runs[0].ID {
		t.Errorf("run %d: %+v", runs.Runs[0].ID, one)
	}
	if r := e.get(e.as(access.Partner), "/api/v1/runs"); r.status != http.StatusForbidden {
		t.Errorf("a partner reading the runs: %s", r)
	}
}

// runEngineWide runs the engine with runEngine's two findings and two that span
// the town: a citywide rise of race hate reports after a trigger event (no place
// named) and a widespread rise over three wards. It returns the ids of the two.
func (e *env) runEngineWide() (citywide, widespread int64) {
	e.t.Helper()
	from := testEnd.AddDate(0, 0, -6)
	ev := &tension.TriggerEvent{Day: from, Scope: "national", Description: "National: referendum result", Strands: []string{"race"}}
	if err := e.db.CreateTriggerEvent(e.ctx, ev, "cli:test"); err != nil {
		e.t.Fatal(err)
	}
	alerts := e.runEngineWith(func(rep *tension.Report) []tension.Finding {
		var cell uint64
		for _, h := range rep.Hotspots {
			if h.Count > 0 {
				cell = h.Cell
				break
			}
		}
		return []tension.Finding{
			{Method: tension.MethodScan, Key: "cluster", Cells: []uint64{cell}, Observed: 12, Expected: 2, P: 0.001, Recurrence: 1000, Score: 9,
				WindowFrom: testEnd.AddDate(0, 0, -2), WindowTo: testEnd, Detail: "test cluster"},
			{Method: tension.MethodEARS, Key: "area:DEMOW01:all:C2", Areas: []string{"DEMOW01"}, Observed: 2, Expected: 0.2, P: 0.04,
				Recurrence: 25, Score: 3, WindowFrom: testEnd, WindowTo: testEnd, Detail: "EARS C2"},
			{Method: tension.MethodUplift, Key: fmt.Sprintf("event:%d:race", ev.ID), EventID: ev.ID, Strands: []string{"race"}, Observed: 60, Expected: 31.5, P: 2.4e-6, Score: 5,
				WindowFrom: from, WindowTo: testEnd,
				Detail: "After National: referendum result (national), the 7 days from 24 Jun 2026 (the event day) to 30 Jun 2026, against the four weeks before, 27 May – 23 Jun 2026"},
			{Method: tension.MethodWidespread, Key: "widespread:ward:all", AreaLevel: "ward", Areas: []string{"DEMOW01", "DEMOW02", "DEMOW03"},
				Observed: 40, Expected: 20, P: 0.0004, Score: 4, WindowFrom: from, WindowTo: testEnd, Breadth: 0.3, Detail: "a rise in three wards at once"},
		}
	})
	for _, a := range alerts {
		switch a.Method {
		case tension.MethodUplift:
			citywide = a.ID
		case tension.MethodWidespread:
			widespread = a.ID
		}
	}
	if citywide == 0 || widespread == 0 {
		e.t.Fatalf("the engine raised %d alerts, without the citywide or the widespread one", len(alerts))
	}
	return citywide, widespread
}
