package web_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/access"
)

// townBound is the bound of every area of the synthetic town.
func townBound(e *env) orb.Bound {
	var b orb.Bound
	for i, a := range e.gen.GeoAreas() {
		if i == 0 {
			b = a.Geometry.Bound()
		} else {
			b = b.Union(a.Geometry.Bound())
		}
	}
	return b
}

// TestWideAlertsOnTheMap: a citywide alert is outlined by the outline of the whole
// town, a widespread one by each of its areas, and the tension view colours the
// hexagons of the town with the citywide alert's level (regression: the demo's two
// citywide alerts drew no outline and left every hexagon blank).
func TestWideAlertsOnTheMap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	citywide, widespread := e.runEngineWide()
	council := e.as(access.Council)
	town := townBound(e)
	centre := town.Center()

	tile, path := tileAt("alerts", centre[0], centre[1], 8) // the whole town in one tile
	feats := decodeTile(t, e.get(council, path), tile, "alerts")
	var city, wide orb.Bound
	var cityScope, wideScope any
	for _, f := range feats {
		switch id := int64(f.Properties["id"].(float64)); id {
		case citywide:
			city, cityScope = f.Geometry.Bound(), f.Properties["scope"]
		case widespread:
			wide, wideScope = f.Geometry.Bound(), f.Properties["scope"]
		}
	}
	if cityScope != "citywide" {
		t.Fatalf("the citywide alert in the alerts tile: scope %v; want citywide (features %d)", cityScope, len(feats))
	}
	// The outline is the town's, within a tile pixel or so at zoom 8.
	const tol = 0.002
	for i, got := range []float64{city.Min[0], city.Min[1], city.Max[0], city.Max[1]} {
		want := []float64{town.Min[0], town.Min[1], town.Max[0], town.Max[1]}[i]
		if got < want-tol || got > want+tol {
			t.Errorf("citywide outline bound %v; want the town's %v", city, town)
			break
		}
	}
	if wideScope != "areas" {
		t.Errorf("the widespread alert: scope %v; want areas", wideScope)
	}
	var wards orb.Bound
	n := 0
	for _, a := range e.gen.GeoAreas() {
		if a.Code == "DEMOW01" || a.Code == "DEMOW02" || a.Code == "DEMOW03" {
			if n == 0 {
				wards = a.Geometry.Bound()
			} else {
				wards = wards.Union(a.Geometry.Bound())
			}
			n++
		}
	}
	if n != 3 || wide.Min[0] > wards.Min[0]+tol || wide.Max[0] < wards.Max[0]-tol || wide.Min[1] > wards.Min[1]+tol || wide.Max[1] < wards.Max[1]-tol {
		t.Errorf("widespread outline bound %v; want the three wards' %v (%d found)", wide, wards, n)
	}

	// The tension view: every hexagon of the town with reports carries a level,
	// the citywide alert's at least.
	htile, hpath := tileAt("hotspots", centre[0], centre[1], 12)
	hexes := decodeTile(t, e.get(council, hpath), htile, "hotspots")
	if len(hexes) == 0 {
		t.Fatal("no hexagon in the centre's tile")
	}
	blank := 0
	for _, f := range hexes {
		if lv, _ := f.Properties["tension"].(string); lv == "" {
			blank++
		}
	}
	if blank > 0 {
		t.Errorf("%d of %d hexagons have no tension level under a citywide alert", blank, len(hexes))
	}
}

// TestHomePage: the home page lists the open alerts in words with links to them
// on the map, the assessments due for review, and what changed since the user's
// last visit, counted from the visit before this one.
func TestHomePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	citywide, widespread := e.runEngineWide()
	council := e.as(access.Council)

	// An assessment whose review falls in three days, one in three weeks.
	soon := testNow.AddDate(0, 0, 3).Format(time.DateOnly)
	later := testNow.AddDate(0, 0, 21).Format(time.DateOnly)
	for _, x := range []struct{ title, review string }{{"Review soon", soon}, {"Review later", later}} {
		r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"title": x.title, "review_date": x.review, "trigger_kind": "other",
			"trigger": "a test", "areas": []string{"DEMOW01"}})
		if r.status != 201 {
			t.Fatalf("creating %q: %s", x.title, r)
		}
	}

	page := func(c caller) string {
		t.Helper()
		r := e.get(c, "/")
		if r.status != 200 {
			t.Fatalf("home page: %s", r)
		}
		return string(r.body)
	}
	body := page(council)
	text := visibleText(body)
	for _, want := range []string{
		"In the last week (your first visit)",
		"3000 reports loaded.",
		"Citywide rise in race hate reports after National: referendum result (national)",
		"Widespread rise in all hate reports across 3 areas",
		"Trigger-event uplift · 7 days, 24–30 Jun 2026 · 60 reports where 31.5 were expected · p 2.4e-6",
		"Review soon (draft): review due in 3 days, 4 July 2026",
		"impact assessments changed: Review later (draft,",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the home page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Review later (draft): review") {
		t.Errorf("a review three weeks away is listed as due:\n%s", text)
	}
	for _, id := range []int64{citywide, widespread} {
		if !strings.Contains(body, fmt.Sprintf(`href="/map?alert=%d"`, id)) {
			t.Errorf("no link to alert %d on the map", id)
		}
	}
	if n := strings.Count(text, "new"); n < 4 {
		t.Errorf("on a first visit every alert is new: %d marks", n)
	}
	for _, code := range []string{"widespread:", "event:1", "assessment_opened"} {
		if strings.Contains(text, code) {
			t.Errorf("the home page shows the code %q", code)
		}
	}

	// A later visit: the previous one was after the alerts were raised (the
	// database's clock), so nothing is new; and then before them, so all are.
	uid := e.users[access.Council].ID
	if _, err := e.db.Pool.Exec(e.ctx, `UPDATE users SET previous_visit_at = now() + interval '1 hour', last_visit_at = $2 WHERE id = $1`,
		uid, testNow.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	text = visibleText(page(council))
	if !strings.Contains(text, "Since your last visit") || !strings.Contains(text, "No new alert") || !strings.Contains(text, "No impact assessment changed") ||
		!strings.Contains(text, "No reports loaded.") {
		t.Errorf("after a visit later than every change:\n%s", text)
	}
	if _, err := e.db.Pool.Exec(e.ctx, `UPDATE users SET previous_visit_at = now() - interval '1 day', last_visit_at = $2 WHERE id = $1`,
		uid, testNow.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	text = visibleText(page(council))
	if !strings.Contains(text, "4 new alerts") || !strings.Contains(text, "Review soon (draft,") {
		t.Errorf("after a visit earlier than every change:\n%s", text)
	}
	// A visit after more than half an hour away starts from the one before.
	if _, err := e.db.Pool.Exec(e.ctx, `UPDATE users SET previous_visit_at = NULL, last_visit_at = $2 WHERE id = $1`,
		uid, testNow.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	text = visibleText(page(council))
	if want := "Since your last visit, " + testNow.Add(-2*time.Hour).Local().Format("2 Jan 2006 15:04"); !strings.Contains(text, want) {
		t.Errorf("the home page lacks %q:\n%s", want, text)
	}

	// The strategic group sees the same alerts, their counts as published.
	text = visibleText(page(e.as(access.Strategic)))
	if !strings.Contains(text, "Open alerts") || !strings.Contains(text, "Citywide rise in race hate reports") {
		t.Errorf("the strategic home page:\n%s", text)
	}
}

var tags = regexp.MustCompile(`(?s)<[^>]*>`)

// visibleText is a page's text with its tags removed and its spaces collapsed.
func visibleText(html string) string {
	s := tags.ReplaceAllString(html, " ")
	s = strings.NewReplacer("&amp;", "&", "&#39;", "'", "&quot;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// TestCitywideAssessmentPage: the assessment of a citywide alert shows the map of
// the whole area and, its alert having no series, the reports of each day against
// the expected daily count; the strategic group's summary shows both too
// (regression: the page had neither map nor chart).
func TestCitywideAssessmentPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	citywide, _ := e.runEngineWide()
	council := e.as(access.Council)
	var created struct {
		Assessment struct{ ID int64 } `json:"assessment"`
	}
	r := e.send(council, "POST", "/api/v1/assessments", map[string]any{"alert_id": citywide})
	if r.status != 201 {
		t.Fatalf("an assessment from the citywide alert: %s", r)
	}
	r.json(t, &created)
	for _, c := range []struct {
		role access.Role
		page string
	}{{access.Council, "the full page"}, {access.Strategic, "the summary"}} {
		r := e.get(e.as(c.role), fmt.Sprintf("/assessments/%d", created.Assessment.ID))
		if r.status != 200 {
			t.Fatalf("%s: %s", c.page, r)
		}
		body := string(r.body)
		mapFig := regexp.MustCompile(`(?s)<figure class="figure map-figure">\s*<svg.*?</svg>\s*<figcaption>Citywide: the whole area, tension level by colour\.</figcaption></figure>`)
		if !mapFig.MatchString(body) {
			t.Errorf("%s as %s: no map of the whole area", c.page, c.role)
		}
		chartFig := regexp.MustCompile(`(?s)<figure class="figure evidence-figure">\s*<svg.*?Reports each day against the expected daily count.*?</svg>\s*</figure>`)
		if !chartFig.MatchString(body) {
			t.Errorf("%s as %s: no evidence chart", c.page, c.role)
		}
		// The four weeks before the window, then its seven days.
		if want := "Reports of each day from 27 May 2026 to 30 Jun 2026; the expected line is the alert&#39;s expected count spread evenly over the 7 days of its window."; !strings.Contains(body, want) {
			t.Errorf("%s as %s: the chart does not say %q", c.page, c.role, want)
		}
	}
}
