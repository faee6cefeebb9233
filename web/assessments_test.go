package web_test

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/tension"
)

// assessmentAnswer is an assessment as the API gives it to those who work on it.
type assessmentAnswer struct {
	Assessment struct {
		ID           int64
		Title        string
		Status       string
		TriggerKind  string  `json:"trigger_kind"`
		TensionLevel string  `json:"tension_level"`
		AlertID      int64   `json:"alert_id"`
		EventIDs     []int64 `json:"event_ids"`
		Areas        []string
		Strands      []string
		Summary      *string
		Intelligence []tension.Intelligence
		Evidence     map[string]any
		BBox         []float64
		Version      int
		Next         []string
		ClosedReason string `json:"closed_reason"`
		ActionList   []struct {
			ID      int64
			Done    bool
			Overdue bool
		} `json:"action_list"`
		History []struct {
			Actor   string
			Action  string
			Changes map[string]any
		}
		ReviewOverdue  bool `json:"review_overdue"`
		ActionsOverdue int  `json:"actions_overdue"`
	}
}

func (e *env) assessment(c caller, id int64) assessmentAnswer {
	e.t.Helper()
	var a assessmentAnswer
	e.getJSON(c, fmt.Sprintf("/api/v1/assessments/%d", id), &a)
	return a
}

func (e *env) alertStatus(id int64) string {
	e.t.Helper()
	a, err := e.db.Alert(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Status
}

// TestAssessmentFromAnAlert: an alert becomes a draft with its evidence, places and
// strands; its alert follows the assessment through opening, review, closing and
// reopening; only police, council and admin create and change; strategic users read
// summaries; partners nothing.
func TestAssessmentFromAnAlert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big, small := e.runEngine()
	council, strategic, police := e.as(access.Council), e.as(access.Strategic), e.as(access.Police)

	// The engine drafted one for the critical cluster, with its history's first line.
	var drafts struct {
		Assessments []struct {
			ID      int64
			AlertID int64 `json:"alert_id"`
		}
	}
	e.getJSON(council, fmt.Sprintf("/api/v1/assessments?alert=%d", big), &drafts)
	if len(drafts.Assessments) != 1 {
		t.Fatalf("the critical alert has %d assessments; want the engine's draft", len(drafts.Assessments))
	}
	if h := e.assessment(council, drafts.Assessments[0].ID).Assessment.History; len(h) != 1 || h[0].Actor != "engine" || h[0].Action != "created" {
		t.Errorf("the engine's draft's history: %+v", h)
	}

	// Council turns the small alert into a draft.
	r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"alert_id": small})
	var created assessmentAnswer
	r.json(t, &created)
	a := created.Assessment
	if r.status != 201 || a.Status != "draft" || a.AlertID != small || a.TriggerKind != "alert" || a.Title == "" ||
		!slices.Equal(a.Areas, []string{"DEMOW01"}) || a.Evidence["observed"] != 2.0 || len(a.BBox) != 4 || a.Version != 1 {
		t.Fatalf("created from the alert: %s", r)
	}
	if !strings.HasSuffix(a.Title, " in Demo Ward 01") {
		t.Errorf("the draft's title %q does not name its area by its name", a.Title)
	}
	if r := e.get(council, fmt.Sprintf("/assessments/%d", a.ID)); r.status != 200 || !strings.Contains(string(r.body), "Demo Ward 01 (DEMOW01)") {
		t.Errorf("the assessment page does not name its area: %d", r.status)
	}
	if got := e.alertStatus(small); got != tension.StatusAcknowledged {
		t.Errorf("the alert after its draft: %s; want acknowledged", got)
	}
	if r := e.send(police, "POST", "/api/v1/assessments", map[string]any{"alert_id": small}); r.status != 409 || !strings.Contains(r.message(t), fmt.Sprint(a.ID)) {
		t.Errorf("a second assessment for the alert: %s; want 409 naming %d", r, a.ID)
	}
	for _, who := range []caller{strategic, e.as(access.Partner)} {
		if r := e.send(who, "POST", "/api/v1/assessments", map[string]any{"title": "x"}); r.status != 403 {
			t.Errorf("%s creating: %s; want 403", who.name, r)
		}
	}
	if r := e.send(strategic, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", a.ID), map[string]any{"version": 1, "title": "x"}); r.status != 403 {
		t.Errorf("strategic editing: %s", r)
	}
	if r := e.get(e.as(access.Partner), fmt.Sprintf("/api/v1/assessments/%d", a.ID)); r.status != 403 {
		t.Errorf("partner reading: %s", r)
	}

	// Edit, add an action, mark it done, link an event, then the workflow.
	edit := map[string]any{"version": 1, "summary": "Shopkeepers on the high street report verbal abuse.", "tension_level": "high",
		"strands": []string{"race"}, "communities": "Traders and their families",
		"intelligence": []map[string]string{{"grade": "experienced", "text": "Abuse reported at two shops", "source": "Neighbourhood team"}},
		"risks":        []map[string]string{{"text": "Retaliation", "rating": "medium", "mitigation": "Patrols"}},
		"partners":     []string{"Council community safety", "Mosque committee"}, "review_date": "2026-07-14"}
	if r := e.send(police, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", a.ID), edit); r.status != 200 {
		t.Fatalf("editing: %s", r)
	}
	if r := e.send(council, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", a.ID), map[string]any{"version": 1, "title": "stale"}); r.status != 409 {
		t.Errorf("an edit of a version someone else changed: %s; want 409", r)
	}
	r = e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/actions", a.ID), map[string]string{"description": "Visit the shops", "owner": "Neighbourhood team", "due": "2026-06-20"})
	var withAction assessmentAnswer
	r.json(t, &withAction)
	if r.status != 201 || len(withAction.Assessment.ActionList) != 1 || !withAction.Assessment.ActionList[0].Overdue {
		t.Fatalf("adding an overdue action: %s", r)
	}
	actionID := withAction.Assessment.ActionList[0].ID
	r = e.send(council, "POST", "/api/v1/trigger-events", map[string]any{"day": "2026-06-18", "scope": "national", "description": "A contested march", "strands": []string{"race"}})
	var ev struct{ Event struct{ ID int64 } }
	r.json(t, &ev)
	if r.status != 201 {
		t.Fatalf("recording an event: %s", r)
	}
	if r := e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/events", a.ID), map[string]any{"link": []int64{ev.Event.ID}}); r.status != 200 {
		t.Fatalf("linking the event: %s", r)
	}
	var overdue struct{ Assessments []struct{ ID int64 } }
	e.getJSON(council, "/api/v1/assessments?overdue=true", &overdue)
	if len(overdue.Assessments) != 0 {
		t.Errorf("a draft is listed overdue: %+v", overdue)
	}

	move := func(c caller, to, reason string) *resp {
		return e.send(c, "POST", fmt.Sprintf("/api/v1/assessments/%d/status", a.ID), map[string]any{"to": to, "reason": reason})
	}
	if r := move(council, "open", ""); r.status != 200 || e.alertStatus(small) != tension.StatusAssessmentOpened {
		t.Fatalf("opening: %s; alert %s", r, e.alertStatus(small))
	}
	e.getJSON(council, "/api/v1/assessments?overdue=true", &overdue)
	if len(overdue.Assessments) != 1 || overdue.Assessments[0].ID != a.ID {
		t.Errorf("the open assessment with an overdue action is not listed overdue: %+v", overdue)
	}
	if r := e.send(council, "PATCH", fmt.Sprintf("/api/v1/assessments/%d/actions/%d", a.ID, actionID), map[string]bool{"done": true}); r.status != 200 {
		t.Fatalf("marking done: %s", r)
	}
	if r := move(police, "under_review", ""); r.status != 200 || e.alertStatus(small) != tension.StatusAssessmentOpened {
		t.Fatalf("review: %s", r)
	}
	if r := move(council, "closed", ""); r.status != 400 || !strings.Contains(r.message(t), "reason") {
		t.Errorf("closing without a reason: %s; want 400", r)
	}
	if r := move(council, "closed", "Tension eased after the visits"); r.status != 200 || e.alertStatus(small) != tension.StatusClosed {
		t.Fatalf("closing: %s; alert %s", r, e.alertStatus(small))
	}
	if r := e.send(council, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", a.ID), map[string]any{"version": 100, "title": "x"}); r.status != 409 {
		t.Errorf("editing a closed assessment: %s", r)
	}
	if r := e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/actions", a.ID), map[string]string{"description": "x", "owner": "y", "due": "2026-07-01"}); r.status != 409 {
		t.Errorf("adding an action to a closed assessment: %s", r)
	}
	if r := move(council, "open", "Abuse started again"); r.status != 200 || e.alertStatus(small) != tension.StatusAssessmentOpened {
		t.Fatalf("reopening: %s", r)
	}

	// The history holds every change, in order, with who made it and what changed.
	got := e.assessment(council, a.ID).Assessment
	var actions []string
	for _, h := range got.History {
		actions = append(actions, h.Actor+" "+h.Action)
	}
	want := []string{"user:council created", "user:police edited", "user:council action_added", "user:council event_linked", "user:council opened",
		"user:council action_done", "user:police under_review", "user:council closed", "user:council reopened"}
	if !slices.Equal(actions, want) {
		t.Errorf("history\n%v\nwant\n%v", actions, want)
	}
	edited := got.History[1].Changes
	for _, field := range []string{"summary", "tension_level", "strands", "communities", "intelligence", "risks", "partners", "review_date"} {
		if edited[field] == nil {
			t.Errorf("the edit's history lacks %s: %v", field, edited)
		}
	}
	if got.History[7].Changes["reason"] != "Tension eased after the visits" {
		t.Errorf("the closing's history: %v", got.History[7].Changes)
	}

	// Strategic users read summaries only.
	body := string(e.get(strategic, fmt.Sprintf("/api/v1/assessments/%d", a.ID)).body)
	for _, secret := range []string{"Shopkeepers", "Retaliation", "Mosque committee", "Visit the shops", "history", "evidence"} {
		if strings.Contains(body, secret) {
			t.Errorf("a strategic user's summary carries %q: %s", secret, body)
		}
	}
	if !strings.Contains(body, `"actions_done":1`) || !strings.Contains(body, `"status":"open"`) {
		t.Errorf("a strategic user's summary: %s", body)
	}
}

// TestAssessmentTransitionsThroughTheAPI tries every move from every status: the
// allowed ones succeed, the others are refused with 409 and change nothing.
func TestAssessmentTransitionsThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	council := e.as(access.Council)
	// The path that reaches each status from a new draft.
	path := map[string][]string{tension.AssessmentDraft: nil, tension.AssessmentOpen: {"open"},
		tension.AssessmentUnderReview: {"open", "under_review"}, tension.AssessmentClosed: {"open", "under_review", "closed"}}
	allowed := map[[2]string]bool{}
	for _, tr := range tension.Transitions {
		allowed[[2]string{tr.From, tr.To}] = true
	}
	for _, from := range tension.AssessmentStatuses {
		for _, to := range tension.AssessmentStatuses {
			var c assessmentAnswer
			r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"title": from + " to " + to, "trigger_kind": "other"})
			r.json(t, &c)
			if r.status != 201 {
				t.Fatalf("creating: %s", r)
			}
			id := c.Assessment.ID
			for _, step := range path[from] {
				if r := e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/status", id), map[string]any{"to": step, "reason": "to get there"}); r.status != 200 {
					t.Fatalf("%s → %s on the way: %s", from, step, r)
				}
			}
			before := e.assessment(council, id).Assessment
			r = e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/status", id), map[string]any{"to": to, "reason": "because", "version": before.Version})
			after := e.assessment(council, id).Assessment
			if allowed[[2]string{from, to}] {
				if r.status != 200 || after.Status != to || len(after.History) != len(before.History)+1 {
					t.Errorf("%s → %s: %s, now %s; want allowed", from, to, r, after.Status)
				}
				if slices.Contains(before.Next, to) != true {
					t.Errorf("%s: next %v lacks %s", from, before.Next, to)
				}
			} else if r.status != 409 || after.Status != from || len(after.History) != len(before.History) {
				t.Errorf("%s → %s: %s, now %s; want 409 and no change", from, to, r, after.Status)
			}
		}
	}
	// A move over a version someone else changed is refused.
	var c assessmentAnswer
	e.send(council, "POST", "/api/v1/assessments", map[string]any{"title": "stale", "trigger_kind": "other"}).json(t, &c)
	e.send(council, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", c.Assessment.ID), map[string]any{"version": 1, "summary": "changed"})
	if r := e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/status", c.Assessment.ID), map[string]any{"to": "open", "version": 1}); r.status != 409 {
		t.Errorf("a move over a stale version: %s", r)
	}
}

// TestAssessmentPages: the two clicks from an alert (the map's form) to its draft,
// a form error that keeps what was typed, and the pages each role sees.
func TestAssessmentPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, small := e.runEngine()
	council := e.as(access.Council)
	r := e.postForm(council, "/assessments", url.Values{"alert_id": {fmt.Sprint(small)}})
	loc := r.header.Get("Location")
	if r.status != 303 || !strings.HasPrefix(loc, "/assessments/") {
		t.Fatalf("the alert's form: %s, Location %q", r, loc)
	}
	page := e.get(council, loc)
	if page.status != 200 || !strings.Contains(string(page.body), "created as a draft") || !strings.Contains(string(page.body), "DEMOW01") {
		t.Fatalf("the new draft's page: %s", page)
	}
	// Again: the existing one.
	if r := e.postForm(council, "/assessments", url.Values{"alert_id": {fmt.Sprint(small)}}); r.header.Get("Location") != strings.Split(loc, "?")[0]+"?done=exists" {
		t.Errorf("the alert's form again: Location %q", r.header.Get("Location"))
	}
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/assessments/")
	// A form with a bad tension level: 400, the problem said, what was typed kept.
	r = e.postForm(council, "/assessments/"+id, url.Values{"version": {"1"}, "title": {"Kept title"}, "summary": {"A long account the officer typed"},
		"tension_level": {"apocalyptic"}, "intel_text": {"Seen by the patrol"}, "intel_grade": {"evidenced"}})
	body := string(r.body)
	if r.status != 400 || !strings.Contains(body, "tension_level") || !strings.Contains(body, "A long account the officer typed") || !strings.Contains(body, "Seen by the patrol") {
		t.Errorf("a bad form: %d; want 400 with the problem and the input kept", r.status)
	}
	// Saved properly, then an action and the status.
	r = e.postForm(council, "/assessments/"+id, url.Values{"version": {"1"}, "title": {"Kept title"}, "summary": {"A long account"},
		"tension_level": {"medium"}, "strands": {"race", "religion"}, "partners": {"Council\nPolice"}})
	if r.status != 303 {
		t.Fatalf("saving: %s", r)
	}
	if r := e.postForm(council, "/assessments/"+id+"/actions", url.Values{"description": {"Reassurance patrols"}, "owner": {"Police"}, "due": {"2026-07-10"}}); r.status != 303 {
		t.Fatalf("adding an action: %s", r)
	}
	if r := e.postForm(council, "/assessments/"+id+"/status", url.Values{"to": {"open"}}); r.status != 303 {
		t.Fatalf("opening: %s", r)
	}
	page = e.get(council, "/assessments/"+id)
	for _, want := range []string{"Kept title", "Reassurance patrols", "Council", "Start the review", "medium"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	strategicPage := string(e.get(e.as(access.Strategic), "/assessments/"+id).body)
	if strings.Contains(strategicPage, "Reassurance patrols") || strings.Contains(strategicPage, "A long account") || !strings.Contains(strategicPage, "Kept title") {
		t.Error("the strategic page shows more than the summary")
	}
	list := string(e.get(council, "/assessments").body)
	if !strings.Contains(list, "Kept title") {
		t.Error("the list lacks the assessment")
	}
}

// TestTriggerEvents: recorded by those who may, refused with the field named,
// measured by the engine, shown with daily counts around it, small counts withheld
// from strategic users.
func TestTriggerEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	council, strategic := e.as(access.Council), e.as(access.Strategic)
	for body, field := range map[string]map[string]any{
		"scope":       {"day": "2026-06-01", "scope": "galactic", "description": "x"},
		"day":         {"day": "01/06/2026", "scope": "local", "description": "x"},
		"description": {"day": "2026-06-01", "scope": "local", "description": " "},
		"strands":     {"day": "2026-06-01", "scope": "local", "description": "x", "strands": []string{"astrology"}},
	} {
		if r := e.send(council, "POST", "/api/v1/trigger-events", field); r.status != 400 || !strings.HasPrefix(r.message(t), body) {
			t.Errorf("bad %s: %s", body, r)
		}
	}
	if r := e.send(strategic, "POST", "/api/v1/trigger-events", map[string]any{"day": "2026-06-01", "scope": "local", "description": "x"}); r.status != 403 {
		t.Errorf("strategic recording: %s", r)
	}
	var ev struct{ Event struct{ ID int64 } }
	e.send(council, "POST", "/api/v1/trigger-events", map[string]any{"day": "2026-06-10", "scope": "local", "description": "Graffiti on the community centre"}).json(t, &ev)
	e.runEngine()
	var got struct {
		Event   struct{ Day string }
		Uplifts []struct {
			Strand  string
			Windows []struct {
				Days, Length int
				From, To     string
				Text         string
				Observed     *int
				Prior        *struct{ Baseline *int }
			}
		}
		Daily struct {
			From, To string
			Days     []struct {
				Day   string
				Count *int
			}
		}
	}
	e.getJSON(council, fmt.Sprintf("/api/v1/trigger-events/%d", ev.Event.ID), &got)
	if got.Event.Day != "2026-06-10" || got.Daily.From != "2026-05-13" || got.Daily.To != "2026-07-01" && got.Daily.To != "2026-07-08" {
		t.Errorf("event %+v, daily %s to %s", got.Event, got.Daily.From, got.Daily.To)
	}
	if len(got.Uplifts) == 0 || got.Uplifts[0].Strand != "" || len(got.Uplifts[0].Windows) == 0 {
		t.Fatalf("the engine's uplift: %+v", got.Uplifts)
	}
	total := 0
	for _, d := range got.Daily.Days {
		total += *d.Count
	}
	want := int(e.count(`SELECT count(*) FROM incidents WHERE occurred_from BETWEEN $1::date AND $2::date`, got.Daily.From, got.Daily.To))
	if total != want {
		t.Errorf("the daily counts sum to %d; the incidents give %d", total, want)
	}
	body := string(e.get(strategic, fmt.Sprintf("/api/v1/trigger-events/%d", ev.Event.ID)).body)
	for _, small := range []string{`"count":1,`, `"count":2,`, `"observed":1,`, `"observed":2,`, `"baseline":1,`, `"baseline":2,`, `"year_before":1,`, `"year_before":2,`} {
		if strings.Contains(body, small) {
			t.Errorf("a strategic user's event carries %s", small)
		}
	}
	page := e.get(strategic, fmt.Sprintf("/events/%d", ev.Event.ID))
	if page.status != 200 || !strings.Contains(string(page.body), "Graffiti on the community centre") {
		t.Errorf("the event page: %s", page)
	}
	// Each window says the days it covers, as dates, and how many: never a
	// configured 14 days over fewer days.
	for _, w := range got.Uplifts[0].Windows {
		from, _ := time.Parse(time.DateOnly, w.From)
		to, _ := time.Parse(time.DateOnly, w.To)
		covered := int(to.Sub(from).Hours()/24) + 1
		text := tension.DaysWord(covered) + ", " + tension.DayRange(from, to)
		if covered < w.Length {
			text = fmt.Sprintf("%d of %d days so far, %s", covered, w.Length, tension.DayRange(from, to))
		}
		if w.Days != covered || w.Days > w.Length || w.Text != text {
			t.Errorf("window %s to %s: days %d of %d, %q; want %d covered, %q", w.From, w.To, w.Days, w.Length, w.Text, covered, text)
		}
		if !strings.Contains(string(page.body), text) {
			t.Errorf("the event page lacks the window %q", text)
		}
	}
	if strings.Contains(string(page.body), "p 0.000") {
		t.Error(`the event page says "p 0.000"`)
	}

	// The rise after the event, citywide: the alerts name the event and span every
	// area; the engine's draft (high) and a person's (medium) both answer to it.
	evDay := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	alerts := e.runEngineWith(func(*tension.Report) []tension.Finding {
		return []tension.Finding{
			{Method: tension.MethodUplift, Key: fmt.Sprintf("event:%d:", ev.Event.ID), Observed: 40, Expected: 20, P: 1e-5, Recurrence: math.NaN(),
				WindowFrom: evDay, WindowTo: evDay.AddDate(0, 0, 13), Detail: "After Graffiti on the community centre (local), the 14 days from 10 Jun 2026 (the event day) to 23 Jun 2026, against the four weeks before, 13 May – 9 Jun 2026"},
			{Method: tension.MethodUplift, Key: fmt.Sprintf("event:%d:race", ev.Event.ID), Strands: []string{"race"}, Observed: 15, Expected: 10,
				P: 2e-12, Recurrence: math.NaN(), WindowFrom: evDay, WindowTo: evDay.AddDate(0, 0, 3), Detail: "After Graffiti on the community centre (local), the 4 days from 10 Jun 2026 (the event day) to 13 Jun 2026, against the four weeks before, 13 May – 9 Jun 2026"},
		}
	})
	var west, south, east, north float64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM (SELECT ST_Extent(geom) AS x FROM areas) b`).Scan(&west, &south, &east, &north); err != nil {
		t.Fatal(err)
	}
	var upAll, upRace int64
	for _, a := range alerts {
		if a.Method != tension.MethodUplift {
			continue
		}
		var got struct {
			Alert struct {
				EventID      int64     `json:"event_id"`
				BBox         []float64 `json:"bbox"`
				TensionLevel string    `json:"tension_level"`
				PValue       *float64  `json:"p_value"`
				PText        string    `json:"p_text"`
				MethodName   string    `json:"method_name"`
				Days         int       `json:"days"`
				WindowText   string    `json:"window_text"`
				BaselineText string    `json:"baseline_text"`
			}
		}
		e.getJSON(council, fmt.Sprintf("/api/v1/alerts/%d", a.ID), &got)
		// The alert reads right: its method by name, the days it covers, its baseline in
		// words and a p-value of 2e-12 as it is (it was rounded to 0).
		want := struct {
			p          float64
			pText      string
			days       int
			windowText string
		}{1e-5, "1.0e-5", 14, "14 days, 10–23 Jun 2026"}
		if len(a.Strands) > 0 {
			want.p, want.pText, want.days, want.windowText = 2e-12, "2.0e-12", 4, "4 days, 10–13 Jun 2026"
		}
		if got.Alert.PValue == nil || *got.Alert.PValue != want.p || got.Alert.PText != want.pText || got.Alert.Days != want.days ||
			got.Alert.WindowText != want.windowText || got.Alert.MethodName != "trigger-event uplift" ||
			got.Alert.BaselineText != "the four weeks before, 13 May – 9 Jun 2026" {
			t.Errorf("the uplift alert %d reads p %v %q, %q, %d days %q, baseline %q; want p %v %q, %d days %q and the four weeks before",
				a.ID, got.Alert.PValue, got.Alert.PText, got.Alert.MethodName, got.Alert.Days, got.Alert.WindowText, got.Alert.BaselineText,
				want.p, want.pText, want.days, want.windowText)
		}
		if got.Alert.EventID != ev.Event.ID || len(got.Alert.BBox) != 4 || math.Abs(got.Alert.BBox[0]-west) > 1e-5 || math.Abs(got.Alert.BBox[1]-south) > 1e-5 ||
			math.Abs(got.Alert.BBox[2]-east) > 1e-5 || math.Abs(got.Alert.BBox[3]-north) > 1e-5 {
			t.Errorf("the citywide alert %d: event %d, bbox %v; want event %d and every area's bound %v", a.ID, got.Alert.EventID, got.Alert.BBox,
				ev.Event.ID, []float64{west, south, east, north})
		}
		if len(a.Strands) == 0 {
			upAll = a.ID
		} else {
			upRace = a.ID
		}
	}
	if upAll == 0 || upRace == 0 {
		t.Fatalf("the uplift alerts: %+v", alerts)
	}
	var drafts struct{ Assessments []struct{ ID int64 } }
	e.getJSON(council, fmt.Sprintf("/api/v1/assessments?alert=%d", upAll), &drafts)
	if len(drafts.Assessments) != 1 {
		t.Fatalf("the high uplift alert has %d assessments; want the engine's draft", len(drafts.Assessments))
	}
	engineDraft := e.assessment(council, drafts.Assessments[0].ID).Assessment
	if !slices.Equal(engineDraft.EventIDs, []int64{ev.Event.ID}) {
		t.Errorf("the engine's draft of the uplift links events %v; want %d", engineDraft.EventIDs, ev.Event.ID)
	}
	var made assessmentAnswer
	if r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"alert_id": upRace}); r.status != 201 {
		t.Fatalf("an assessment of the race uplift: %s", r)
	} else {
		r.json(t, &made)
	}
	if !slices.Equal(made.Assessment.EventIDs, []int64{ev.Event.ID}) || made.Assessment.History[0].Changes["event_ids"] == nil {
		t.Errorf("a person's draft of the uplift links events %v, history %+v", made.Assessment.EventIDs, made.Assessment.History)
	}
	var detail struct{ Event struct{ Assessments []int64 } }
	e.getJSON(council, fmt.Sprintf("/api/v1/trigger-events/%d", ev.Event.ID), &detail)
	if as := detail.Event.Assessments; !slices.Contains(as, engineDraft.ID) || !slices.Contains(as, made.Assessment.ID) {
		t.Errorf("the event lists assessments %v; want %d and %d", as, engineDraft.ID, made.Assessment.ID)
	}
	if p := string(e.get(council, fmt.Sprintf("/assessments/%d", made.Assessment.ID)).body); !strings.Contains(p, "everywhere: a rise across the whole area") ||
		!strings.Contains(p, "Graffiti on the community centre") {
		t.Error("the page of the uplift's assessment says neither where nor which event")
	}
}

// TestAssessmentByHand: an assessment of an incident (from the map's incident panel,
// its strands, kind and day filled in) or of a trigger event, made without an alert.
func TestAssessmentByHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	council, police, strategic := e.as(access.Council), e.as(access.Police), e.as(access.Strategic)
	incident := e.idsWhere("kind = 0")[0]

	page := e.get(council, fmt.Sprintf("/assessments/new?incident=%d&kind=crime&from=2026-06-01&strand=race,religion", incident))
	body := string(page.body)
	if page.status != 200 || !strings.Contains(body, `value="Hate crime on 1 June 2026"`) || !strings.Contains(body, `value="race" checked`) ||
		!strings.Contains(body, `value="religion" checked`) || strings.Contains(body, `value="disability" checked`) ||
		!strings.Contains(body, fmt.Sprintf(`name="incident_id" value="%d"`, incident)) {
		t.Errorf("the new assessment page of an incident: %s", page)
	}
	if r := e.get(council, "/assessments/new?incident=1&strand=astrology"); r.status != 400 || !strings.Contains(string(r.body), "strand") {
		t.Errorf("an unknown strand: %s", r)
	}
	if r := e.get(strategic, "/assessments/new"); r.status != 403 {
		t.Errorf("strategic opening the new assessment page: %s", r)
	}

	// The form, as the page posts it.
	r := e.postForm(police, "/assessments", url.Values{"incident_id": {fmt.Sprint(incident)}, "title": {"Hate crime on 1 June 2026"},
		"strands": {"race", "religion"}, "areas": {"DEMOW01"}, "tension_level": {"medium"}})
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/assessments/") {
		t.Fatalf("creating an assessment of an incident: %s", r)
	}
	var id int64
	fmt.Sscanf(strings.TrimPrefix(r.header.Get("Location"), "/assessments/"), "%d", &id)
	var got struct {
		Assessment struct {
			TriggerKind string `json:"trigger_kind"`
			IncidentID  int64  `json:"incident_id"`
			Strands     []string
			Areas       []string
			EventIDs    []int64 `json:"event_ids"`
			Status      string
		}
	}
	e.getJSON(council, fmt.Sprintf("/api/v1/assessments/%d", id), &got)
	if a := got.Assessment; a.TriggerKind != "incident" || a.IncidentID != incident || !slices.Equal(a.Strands, []string{"race", "religion"}) ||
		!slices.Equal(a.Areas, []string{"DEMOW01"}) || a.Status != "draft" {
		t.Errorf("the assessment of incident %d: %+v", incident, a)
	}

	// Of a trigger event, through the API.
	var ev struct{ Event struct{ ID int64 } }
	e.send(council, "POST", "/api/v1/trigger-events", map[string]any{"day": "2026-06-20", "scope": "national", "description": "Referendum result"}).json(t, &ev)
	r = e.send(council, "POST", "/api/v1/assessments", map[string]any{"title": "After the referendum", "event_ids": []int64{ev.Event.ID}})
	var made assessmentAnswer
	r.json(t, &made)
	if r.status != 201 || made.Assessment.TriggerKind != "event" || !slices.Equal(made.Assessment.EventIDs, []int64{ev.Event.ID}) {
		t.Errorf("an assessment of a trigger event: %s", r)
	}
	if r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"title": "x", "event_ids": []int64{ev.Event.ID + 100}}); r.status != 400 ||
		!strings.Contains(r.message(t), "event") {
		t.Errorf("an assessment of an unknown event: %s", r)
	}
	if r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"event_ids": []int64{ev.Event.ID}}); r.status != 400 || !strings.HasPrefix(r.message(t), "title") {
		t.Errorf("an assessment without a title: %s", r)
	}
}
