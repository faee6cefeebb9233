package web_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
)

// TestAssessmentsFollowAreaScope: a police user scoped to a ward reads and edits the
// assessments of that ward (named, or by an LSOA inside it), reads citywide ones as
// summaries without changing them, and meets 404 for any other on every route, API
// and page alike, so that their existence does not show; council and unscoped police
// work on them all.
func TestAssessmentsFollowAreaScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	council, police := e.as(access.Council), e.as(access.Police)
	scoped := e.sessionOf(e.createUser("ward1", access.Police, "DEMOW01"))

	// An LSOA whose interior lies in ward 1, and one in ward 2 that is in no part of ward 1.
	var lsoaIn, lsoaOut string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT l.code FROM areas l JOIN areas w ON w.code = 'DEMOW01'
		WHERE l.level = 'lsoa' AND ST_Within(ST_PointOnSurface(l.geom), w.geom) ORDER BY l.code LIMIT 1`).Scan(&lsoaIn); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT l.code FROM areas l JOIN areas w ON w.code = 'DEMOW02'
		WHERE l.level = 'lsoa' AND ST_Within(l.geom, w.geom) ORDER BY l.code LIMIT 1`).Scan(&lsoaOut); err != nil {
		t.Fatal(err)
	}
	create := func(title string, areas ...string) int64 {
		t.Helper()
		in := map[string]any{"title": title, "intelligence": []map[string]any{{"text": "secret " + title, "grade": "evidenced"}}}
		if len(areas) > 0 {
			in["areas"] = areas
		}
		r := e.send(council, "POST", "/api/v1/assessments", in)
		var a assessmentAnswer
		r.json(t, &a)
		if r.status != 201 {
			t.Fatalf("creating %q: %s", title, r)
		}
		return a.Assessment.ID
	}
	ids := map[string]int64{
		"ward 1":         create("ward 1", "DEMOW01"),
		"lsoa in ward 1": create("lsoa in ward 1", lsoaIn),
		"ward 2":         create("ward 2", "DEMOW02"),
		"lsoa in ward 2": create("lsoa in ward 2", lsoaOut),
		"citywide":       create("citywide"),
	}
	event := e.send(council, "POST", "/api/v1/trigger-events", map[string]any{"day": "2026-06-20", "scope": "local", "description": "A march"})
	var ev struct{ Event struct{ ID int64 } }
	event.json(t, &ev)

	// The listings.
	listed := func(c caller) []string {
		var got struct{ Assessments []map[string]any }
		e.getJSON(c, "/api/v1/assessments", &got)
		var titles []string
		for _, a := range got.Assessments {
			titles = append(titles, a["title"].(string))
			if _, whole := a["intelligence"]; whole && c == scoped && a["title"] == "citywide" {
				t.Errorf("the scoped user's listing gives the citywide assessment whole: %v", a)
			}
		}
		slices.Sort(titles)
		return titles
	}
	if got, want := listed(scoped), []string{"citywide", "lsoa in ward 1", "ward 1"}; !slices.Equal(got, want) {
		t.Errorf("the scoped user's listing: %v; want %v", got, want)
	}
	all := []string{"citywide", "lsoa in ward 1", "lsoa in ward 2", "ward 1", "ward 2"}
	for _, c := range []caller{council, police} {
		if got := listed(c); !slices.Equal(got, all) {
			t.Errorf("%s's listing: %v; want %v", c.name, got, all)
		}
	}
	page := string(e.get(scoped, "/assessments").body)
	if strings.Contains(page, "ward 2") || !strings.Contains(page, "ward 1") {
		t.Errorf("the scoped user's assessments page lists ward 2, or not ward 1")
	}

	// Every route, for each assessment, as the scoped user: the status wanted for
	// an assessment in scope, out of scope, and citywide.
	routes := []struct {
		name            string
		do              func(id int64) *resp
		in, out, cityWd int
	}{
		{"GET api", func(id int64) *resp { return e.get(scoped, fmt.Sprintf("/api/v1/assessments/%d", id)) }, 200, 404, 200},
		{"GET page", func(id int64) *resp { return e.get(scoped, fmt.Sprintf("/assessments/%d", id)) }, 200, 404, 200},
		{"PATCH", func(id int64) *resp {
			return e.send(scoped, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", id), map[string]any{"version": 1, "summary": "calm"})
		}, 200, 404, 403},
		{"add action", func(id int64) *resp {
			return e.send(scoped, "POST", fmt.Sprintf("/api/v1/assessments/%d/actions", id), map[string]any{"description": "Visit", "owner": "PC A", "due": "2026-07-10"})
		}, 201, 404, 403},
		{"link event", func(id int64) *resp {
			return e.send(scoped, "POST", fmt.Sprintf("/api/v1/assessments/%d/events", id), map[string]any{"link": []int64{ev.Event.ID}})
		}, 200, 404, 403},
		{"status", func(id int64) *resp {
			return e.send(scoped, "POST", fmt.Sprintf("/api/v1/assessments/%d/status", id), map[string]any{"to": "open"})
		}, 200, 404, 403},
		{"form save", func(id int64) *resp {
			return e.postForm(scoped, fmt.Sprintf("/assessments/%d", id), url.Values{"version": {"0"}, "title": {"x"}})
		}, 0, 404, 403},
		{"form action", func(id int64) *resp {
			return e.postForm(scoped, fmt.Sprintf("/assessments/%d/actions", id), url.Values{"description": {"Visit"}, "owner": {"PC A"}, "due": {"2026-07-10"}})
		}, 303, 404, 403},
		{"form status", func(id int64) *resp {
			return e.postForm(scoped, fmt.Sprintf("/assessments/%d/status", id), url.Values{"to": {"under_review"}})
		}, 0, 404, 403},
	}
	for _, rt := range routes {
		for name, id := range ids {
			want := rt.in
			switch name {
			case "ward 2", "lsoa in ward 2":
				want = rt.out
			case "citywide":
				want = rt.cityWd
			}
			if want == 0 {
				continue // in scope, these depend on the version and status: the API rows cover them
			}
			r := rt.do(id)
			if r.status != want {
				t.Errorf("%s of %q as the scoped user: %s; want %d", rt.name, name, r, want)
			}
			if want == 404 && strings.Contains(string(r.body), "secret") {
				t.Errorf("%s of %q: the 404 shows the assessment: %s", rt.name, name, r)
			}
		}
	}
	// The citywide one reads as a summary, without intelligence.
	if r := e.get(scoped, fmt.Sprintf("/api/v1/assessments/%d", ids["citywide"])); strings.Contains(string(r.body), "secret") {
		t.Errorf("the citywide assessment as the scoped user: %s; want a summary without intelligence", r)
	}
	if r := e.get(scoped, fmt.Sprintf("/api/v1/assessments/%d", ids["ward 1"])); !strings.Contains(string(r.body), "secret ward 1") {
		t.Errorf("the ward 1 assessment as the scoped user: %s; want it whole", r)
	}
	// The trigger event's links, in the API and on the pages, name only what the
	// user may see: ward 1's (linked above by the scoped user) and the citywide one,
	// not ward 2's, which council links too.
	for _, name := range []string{"ward 2", "lsoa in ward 2", "citywide"} {
		if r := e.send(council, "POST", fmt.Sprintf("/api/v1/assessments/%d/events", ids[name]), map[string]any{"link": []int64{ev.Event.ID}}); r.status != 200 {
			t.Fatalf("council linking %q to the event: %s", name, r)
		}
	}
	linkedTo := func(c caller) (list, one []int64) {
		t.Helper()
		var l struct {
			Events []struct {
				ID          int64   `json:"id"`
				Assessments []int64 `json:"assessments"`
			} `json:"events"`
		}
		e.getJSON(c, "/api/v1/trigger-events", &l)
		for _, x := range l.Events {
			if x.ID == ev.Event.ID {
				list = x.Assessments
			}
		}
		var d struct {
			Event struct {
				Assessments []int64 `json:"assessments"`
			} `json:"event"`
		}
		e.getJSON(c, fmt.Sprintf("/api/v1/trigger-events/%d", ev.Event.ID), &d)
		slices.Sort(list)
		one = d.Event.Assessments
		slices.Sort(one)
		return list, one
	}
	sortedIDs := func(names ...string) []int64 {
		var out []int64
		for _, n := range names {
			out = append(out, ids[n])
		}
		slices.Sort(out)
		return out
	}
	wantScoped := sortedIDs("ward 1", "lsoa in ward 1", "citywide")
	wantAll := sortedIDs("ward 1", "lsoa in ward 1", "ward 2", "lsoa in ward 2", "citywide")
	for _, c := range []struct {
		who  caller
		want []int64
	}{{scoped, wantScoped}, {police, wantAll}, {council, wantAll}} {
		list, one := linkedTo(c.who)
		if !slices.Equal(list, c.want) || !slices.Equal(one, c.want) {
			t.Errorf("the event's assessments for %s: %v in the list, %v in the event; want %v", c.who.name, list, one, c.want)
		}
	}
	for _, path := range []string{"/events", fmt.Sprintf("/events/%d", ev.Event.ID)} {
		page := string(e.get(scoped, path).body)
		for _, name := range []string{"ward 2", "lsoa in ward 2"} {
			if strings.Contains(page, fmt.Sprintf(`href="/assessments/%d"`, ids[name])) || strings.Contains(page, name) {
				t.Errorf("%s shows the scoped user the assessment of %s", path, name)
			}
		}
		if !strings.Contains(page, fmt.Sprintf(`href="/assessments/%d"`, ids["ward 1"])) {
			t.Errorf("%s does not link the scoped user to the assessment of ward 1", path)
		}
	}
	if page := string(e.get(police, "/events").body); !strings.Contains(page, fmt.Sprintf(`href="/assessments/%d"`, ids["ward 2"])) {
		t.Errorf("/events does not link unscoped police to the assessment of ward 2")
	}

	// Making and moving: within the scope only.
	for _, c := range []struct {
		name   string
		in     map[string]any
		status int
	}{
		{"in ward 1", map[string]any{"title": "new in ward 1", "areas": []string{"DEMOW01"}}, 201},
		{"an LSOA of ward 1", map[string]any{"title": "new lsoa", "areas": []string{lsoaIn}}, 201},
		{"in ward 2", map[string]any{"title": "new in ward 2", "areas": []string{"DEMOW02"}}, 403},
		{"citywide", map[string]any{"title": "new citywide"}, 403},
	} {
		if r := e.send(scoped, "POST", "/api/v1/assessments", c.in); r.status != c.status {
			t.Errorf("the scoped user creating one %s: %s; want %d", c.name, r, c.status)
		}
	}
	var now assessmentAnswer
	e.getJSON(scoped, fmt.Sprintf("/api/v1/assessments/%d", ids["ward 1"]), &now)
	if r := e.send(scoped, "PATCH", fmt.Sprintf("/api/v1/assessments/%d", ids["ward 1"]),
		map[string]any{"version": now.Assessment.Version, "areas": []string{"DEMOW02"}}); r.status != 403 {
		t.Errorf("the scoped user moving an assessment out of their ward: %s; want 403", r)
	}

	// Council and unscoped police work on the others as before.
	for _, c := range []caller{council, police} {
		for _, name := range []string{"ward 2", "citywide"} {
			if r := e.get(c, fmt.Sprintf("/api/v1/assessments/%d", ids[name])); r.status != 200 || !strings.Contains(string(r.body), "secret "+name) {
				t.Errorf("%s reading %q: %s; want it whole", c.name, name, r)
			}
		}
	}
	if r := e.send(police, "POST", fmt.Sprintf("/api/v1/assessments/%d/actions", ids["ward 2"]),
		map[string]any{"description": "Visit", "owner": "PC B", "due": "2026-07-10"}); r.status != 201 {
		t.Errorf("unscoped police adding an action to ward 2's: %s; want 201", r)
	}
}

// TestAssessmentFromAlertFollowsScope: a scoped police user turns an alert of their
// own ward into a draft, but not an alert of another ward; the draft is then theirs
// and not found for the other ward's team.
func TestAssessmentFromAlertFollowsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, small := e.runEngine() // the small alert is in DEMOW01
	ward1 := e.sessionOf(e.createUser("ward1", access.Police, "DEMOW01"))
	ward2 := e.sessionOf(e.createUser("ward2", access.Police, "DEMOW02"))
	if r := e.send(ward2, "POST", "/api/v1/assessments", map[string]any{"alert_id": small}); r.status != 403 {
		t.Errorf("ward 2's team drafting from ward 1's alert: %s; want 403", r)
	}
	r := e.send(ward1, "POST", "/api/v1/assessments", map[string]any{"alert_id": small})
	var made assessmentAnswer
	r.json(t, &made)
	if r.status != 201 {
		t.Fatalf("ward 1's team drafting from its alert: %s; want 201", r)
	}
	path := fmt.Sprintf("/api/v1/assessments/%d", made.Assessment.ID)
	if r := e.get(ward1, path); r.status != 200 {
		t.Errorf("ward 1's team reading its draft: %s; want 200", r)
	}
	if r := e.get(ward2, path); r.status != 404 {
		t.Errorf("ward 2's team reading ward 1's draft: %s; want 404", r)
	}
}
