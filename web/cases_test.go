package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/web"
)

// caseAnswer is the API's answer about one case, as far as the tests read it.
type caseAnswer struct {
	Case struct {
		ID        int64  `json:"id"`
		Partner   string `json:"partner"`
		Ref       string `json:"ref"`
		Officer   int64  `json:"officer"`
		TextShown bool   `json:"text_shown"`
		Contacts  []struct {
			How  string `json:"how"`
			Note string `json:"note"`
		} `json:"contacts"`
		Actions []struct {
			Text  string `json:"text"`
			Owner string `json:"owner"`
		} `json:"actions"`
		Closure *struct {
			Outcome string `json:"outcome"`
			Reason  string `json:"reason"`
		} `json:"closure"`
		Survey *struct {
			Declined bool `json:"declined"`
		} `json:"survey"`
		Due []struct {
			Kind    string `json:"kind"`
			Overdue bool   `json:"overdue"`
			Text    string `json:"text"`
		} `json:"due"`
		History []struct {
			Action string `json:"action"`
			Actor  string `json:"actor"`
		} `json:"history"`
	} `json:"case"`
}

var (
	keyA = strings.Repeat("a1", 16)
	keyB = strings.Repeat("b2", 16)
)

// intakeCase is a case as a partner system posts it.
func intakeCase(ref, key string, contacts ...map[string]any) map[string]any {
	c := map[string]any{"ref": ref, "victim_key": key, "opened_at": "2026-06-22T10:00:00Z", "risk": "medium",
		"reports": []map[string]string{{"source": "council", "ref": "C-" + ref}}}
	if len(contacts) > 0 {
		c["contacts"] = contacts
	}
	return c
}

type caseIntakeAnswer struct {
	Created, Updated, Unchanged int
	Rejected                    []struct {
		Index  int
		Ref    string
		Field  string
		Reason string
	}
}

// TestCaseIntakeWithPartnerToken posts cases as a partner system would: new ones
// are opened, the same ones posted again are left alone, a changed one is updated
// and recorded in its history, and a bad one is rejected by number, field and
// reason while the others are kept. A token writes its own partner's cases only.
func TestCaseIntakeWithPartnerToken(t *testing.T) {
	e := newEnv(t)
	council, _ := e.token(access.Partner, "council")
	first := []map[string]any{
		intakeCase("ASB-100", keyA, map[string]any{"at": "2026-06-22T15:00:00Z", "how": "phone", "by": "Housing officer", "note": "Spoke to her"}),
		intakeCase("ASB-101", keyB),
		{"ref": "ASB-102", "victim_key": "Jane Smith", "opened_at": "2026-06-22"},
		{"partner": "police", "ref": "HC-1", "victim_key": keyA, "opened_at": "2026-06-22"},
		{"ref": "ASB-103", "victim_key": keyA, "opened_at": "2026-06-22", "colour": "blue"},
	}
	r := e.send(council, "POST", "/api/v1/cases/intake", first)
	if r.status != http.StatusOK {
		t.Fatalf("intake: %s", r)
	}
	var a caseIntakeAnswer
	r.json(t, &a)
	if a.Created != 2 || a.Updated != 0 || len(a.Rejected) != 3 {
		t.Fatalf("first post: %+v", a)
	}
	want := []struct {
		index int
		field string
		in    string
	}{{3, "victim_key", "never a name"}, {4, "partner", "posts council cases, not police"}, {5, "record", "colour"}}
	for i, w := range want {
		got := a.Rejected[i]
		if got.Index != w.index || got.Field != w.field || !strings.Contains(got.Reason, w.in) {
			t.Errorf("rejection %d: got %+v, want case %d, field %s, reason with %q", i, got, w.index, w.field, w.in)
		}
	}
	if n := e.count(`SELECT count(*) FROM cases WHERE partner = 'council'`); n != 2 {
		t.Errorf("stored %d council cases, want 2", n)
	}

	// The same post again changes nothing.
	r = e.send(council, "POST", "/api/v1/cases/intake", first[:2])
	a = caseIntakeAnswer{}
	r.json(t, &a)
	if a.Created != 0 || a.Updated != 0 || a.Unchanged != 2 {
		t.Errorf("second post: %+v, want 2 unchanged", a)
	}
	if n := e.count(`SELECT count(*) FROM case_history`); n != 2 {
		t.Errorf("history after posting twice: %d lines, want 2", n)
	}

	// A contact added in the partner's system updates the case.
	changed := intakeCase("ASB-101", keyB, map[string]any{"at": "2026-06-23T09:00:00Z", "how": "visit", "by": "Housing officer"})
	r = e.send(council, "POST", "/api/v1/cases/intake", []any{changed})
	a = caseIntakeAnswer{}
	r.json(t, &a)
	if a.Updated != 1 {
		t.Errorf("changed post: %+v, want 1 updated", a)
	}
	if n := e.count(`SELECT count(*) FROM case_history h JOIN cases c ON c.id = h.case_id WHERE c.ref = 'ASB-101' AND h.action = 'edited'`); n != 1 {
		t.Errorf("edited lines: %d, want 1", n)
	}

	// A partner token without a source, or a police officer, may not post cases.
	bare, _ := e.token(access.Partner, "")
	if r := e.send(bare, "POST", "/api/v1/cases/intake", first[:1]); r.status != http.StatusForbidden {
		t.Errorf("a token without a source: %s, want 403", r)
	}
	if r := e.send(e.as(access.Police), "POST", "/api/v1/cases/intake", first[:1]); r.status != http.StatusForbidden {
		t.Errorf("a police officer on the intake: %s, want 403", r)
	}
	if r := e.do(council, "POST", "/api/v1/cases/intake", strings.NewReader(`{"ref": "x"}`)); r.status != http.StatusBadRequest {
		t.Errorf("an object, not an array: %s, want 400", r)
	}
	if es := e.auditEntries("cases.intake"); len(es) != 3 {
		t.Errorf("intakes audited: %d, want 3", len(es))
	}
}

// TestCaseWorkAndPrivacy opens a case in the council's name, works it through
// the API and reads it as every role: the council sees it whole, police do not
// see it, an administrator sees it without its free text, the strategic group
// sees the figures only; every read is audited; an erasure removes the text and
// keeps the counts.
func TestCaseWorkAndPrivacy(t *testing.T) {
	e := newEnv(t)
	council := e.as(access.Council)
	r := e.send(council, "POST", "/api/v1/cases", map[string]any{"ref": "CC-1", "victim_key": keyA, "opened_at": "2026-06-29T16:00:00Z",
		"risk": "high", "referral": true})
	if r.status != http.StatusCreated {
		t.Fatalf("open: %s", r)
	}
	var c caseAnswer
	r.json(t, &c)
	id := c.Case.ID
	if c.Case.Partner != "council" || c.Case.Officer != e.users[access.Council].ID {
		t.Errorf("opened as %s by officer %d", c.Case.Partner, c.Case.Officer)
	}
	// Opened on Monday 29 June 2026: the first contact is due by Tuesday 30 June,
	// and on Wednesday 1 July it is overdue.
	if len(c.Case.Due) != 1 || c.Case.Due[0].Kind != "first_contact" || !c.Case.Due[0].Overdue ||
		!strings.Contains(c.Case.Due[0].Text, "Tue 30 Jun 2026") {
		t.Errorf("due on opening: %+v", c.Case.Due)
	}
	path := fmt.Sprintf("/api/v1/cases/%d", id)
	steps := []struct {
		path string
		body map[string]any
	}{
		{path + "/contacts", map[string]any{"at": "2026-06-30T11:00:00Z", "how": "visit", "note": "Frightened to go out"}},
		{path + "/actions", map[string]any{"text": "Move her to a new flat", "owner": "housing", "due": "2026-07-10"}},
	}
	for _, s := range steps {
		if r := e.send(council, "POST", s.path, s.body); r.status != http.StatusOK {
			t.Fatalf("POST %s: %s", s.path, r)
		}
	}
	if r := e.send(council, "PATCH", path, map[string]any{"victims_code_at": "2026-06-30T11:00:00Z"}); r.status != http.StatusOK {
		t.Fatalf("Victims' Code: %s", r)
	}
	// Closing before the first contact's day is refused with its reason.
	r = e.send(council, "POST", path+"/close", map[string]any{"at": "2026-06-28T10:00:00Z", "outcome": "resolved"})
	if r.status != http.StatusBadRequest || !strings.Contains(r.message(t), "closure at") {
		t.Errorf("closing before opening: %s", r)
	}

	c = caseAnswer{}
	e.getJSON(council, path, &c)
	if !c.Case.TextShown || c.Case.Contacts[0].Note != "Frightened to go out" || c.Case.Actions[0].Text != "Move her to a new flat" {
		t.Errorf("the owning partner reads: %+v", c.Case)
	}
	kinds := []string{}
	for _, d := range c.Case.Due {
		kinds = append(kinds, d.Kind)
	}
	if strings.Join(kinds, ",") != "action,contact" {
		t.Errorf("due after a contact and an action: %v", kinds)
	}

	if r := e.get(e.as(access.Police), path); r.status != http.StatusNotFound {
		t.Errorf("police reading a council case: %s, want 404", r)
	}
	if r := e.get(e.as(access.Strategic), path); r.status != http.StatusForbidden {
		t.Errorf("strategic reading a case: %s, want 403", r)
	}
	c = caseAnswer{}
	e.getJSON(e.as(access.Admin), path, &c)
	if c.Case.TextShown || c.Case.Contacts[0].Note != "" || c.Case.Actions[0].Text != "" || c.Case.Actions[0].Owner != "housing" {
		t.Errorf("an administrator reads the text: %+v", c.Case)
	}
	for _, d := range c.Case.Due {
		if strings.Contains(d.Text, "flat") {
			t.Errorf("an administrator's due list shows action text: %q", d.Text)
		}
	}
	reads := e.auditEntries("cases.read")
	if len(reads) != 2 || reads[0].Params["id"] != float64(id) {
		t.Errorf("reads audited: %+v", reads)
	}

	// Worklists: the council officer's holds the case; the police officer's not.
	var wl struct {
		Worklist struct {
			Cases []struct {
				ID int64 `json:"id"`
			} `json:"cases"`
		} `json:"worklist"`
	}
	e.getJSON(council, "/api/v1/worklist", &wl)
	if len(wl.Worklist.Cases) != 1 || wl.Worklist.Cases[0].ID != id {
		t.Errorf("council worklist: %+v", wl)
	}
	wl.Worklist.Cases = nil
	e.getJSON(e.as(access.Police), "/api/v1/worklist", &wl)
	if len(wl.Worklist.Cases) != 0 {
		t.Errorf("police worklist holds a council case: %+v", wl)
	}
	if r := e.get(e.as(access.Strategic), "/api/v1/worklist"); r.status != http.StatusForbidden {
		t.Errorf("strategic worklist: %s, want 403", r)
	}

	// Closed and surveyed: the complainant declined the survey.
	if r := e.send(council, "POST", path+"/close", map[string]any{"at": "2026-06-30T17:00:00Z", "outcome": "not_resolved",
		"reason": "Offender not identified"}); r.status != http.StatusOK {
		t.Fatalf("close: %s", r)
	}
	if r := e.send(council, "POST", path+"/survey", map[string]any{"at": "2026-07-01", "declined": true}); r.status != http.StatusOK {
		t.Fatalf("survey: %s", r)
	}

	// Erasure on request: the text goes, the counts stay, the erasure is audited.
	if r := e.send(council, "POST", "/api/v1/cases/erase", map[string]any{"victim_key": keyA}); r.status != http.StatusForbidden {
		t.Errorf("erasure by a council officer: %s, want 403", r)
	}
	if r := e.send(e.as(access.Admin), "POST", "/api/v1/cases/erase", map[string]any{"victim_key": keyA}); r.status != http.StatusOK {
		t.Fatalf("erase: %s", r)
	}
	c = caseAnswer{}
	e.getJSON(council, path, &c)
	if c.Case.Contacts[0].Note != "" || c.Case.Actions[0].Text != "" || c.Case.Closure.Reason != "" ||
		c.Case.Closure.Outcome != "not_resolved" || c.Case.Survey == nil || !c.Case.Survey.Declined {
		t.Errorf("after erasure: %+v", c.Case)
	}
	if es := e.auditEntries("cases.erase"); len(es) != 1 || es[0].Rows != 1 {
		t.Errorf("erasure audited: %+v", es)
	}
	if n := e.count(`SELECT count(*) FROM case_history WHERE changes::text LIKE '%Frightened%'`); n != 0 {
		t.Errorf("the history holds free text")
	}
}

// TestCasePagesByRole opens a case from a police report as the map links to it,
// works it through the page's forms, and shows each role its own: the police
// officer's worklist holds it while something is due, the council's does not,
// the strategic group sees the standards and no case.
func TestCasePagesByRole(t *testing.T) {
	e := newEnv(t)
	var incident int64
	var ref string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT i.id, i.source_ref FROM incidents i JOIN sources s ON s.id = i.source_id
		WHERE s.name = 'police' AND coalesce(i.victim_key, '') <> '' ORDER BY i.id LIMIT 1`).Scan(&incident, &ref); err != nil {
		t.Fatal(err)
	}
	police := e.as(access.Police)
	r := e.get(police, fmt.Sprintf("/cases/new?incident=%d", incident))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), ref) {
		t.Fatalf("new case from report %s: %s", ref, r)
	}
	// A neighbourhood officer whose areas the report is not in does not see it.
	scoped := e.sessionOf(e.createUser("pc-elsewhere", access.Police, "NOWHERE01"))
	if r := e.get(scoped, fmt.Sprintf("/cases/new?incident=%d", incident)); r.status != http.StatusNotFound {
		t.Errorf("a report outside the officer's areas: %s, want 404", r)
	}
	var key string
	e.db.Pool.QueryRow(e.ctx, `SELECT victim_key FROM incidents WHERE id = $1`, incident).Scan(&key)
	if !strings.Contains(string(r.body), key) {
		t.Errorf("the form does not carry the report's victim key")
	}
	form := url.Values{"partner": {"police"}, "ref": {"HC-" + ref}, "victim_key": {key}, "report_source": {"police"}, "report_ref": {ref},
		"opened_at": {"2026-07-01T08:00"}, "risk": {"medium"}}
	r = e.postForm(police, "/cases", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("open: %s", r)
	}
	page := r.header.Get("Location")
	page = page[:strings.Index(page, "?")]
	r = e.get(police, "/cases")
	if !strings.Contains(string(r.body), "HC-"+ref) || !strings.Contains(string(r.body), "First contact due by Thu 2 Jul 2026") {
		t.Errorf("police worklist: %s", r.body)
	}
	if r := e.get(e.as(access.Council), "/cases"); strings.Contains(string(r.body), "HC-"+ref) {
		t.Error("the council worklist holds a police case")
	}
	if r := e.get(e.as(access.Council), page); r.status != http.StatusNotFound {
		t.Errorf("council reading a police case page: %s", r)
	}
	r = e.get(e.as(access.Strategic), "/cases")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "Service standards") || strings.Contains(string(r.body), "HC-"+ref) {
		t.Errorf("strategic cases page: %s", r)
	}

	for _, step := range []struct {
		path string
		form url.Values
	}{
		{page + "/contact", url.Values{"at": {"2026-07-01T09:00"}, "how": {"phone"}, "note": {"Called, will visit"}}},
		{page + "/close", url.Values{"at": {"2026-07-01T09:15"}, "outcome": {"resolved"}}},
		{page + "/survey", url.Values{"at": {"2026-07-01"}, "answer": {"answered"}, "satisfied_outcome": {"true"}, "satisfied_handling": {"true"}}},
	} {
		if r := e.postForm(police, step.path, step.form); r.status != http.StatusSeeOther {
			t.Fatalf("POST %s: %s", step.path, r)
		}
	}
	// A second closure is refused on the page, with its reason.
	r = e.postForm(police, page+"/close", url.Values{"outcome": {"resolved"}})
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "already closed") {
		t.Errorf("second closure: %s", r)
	}
	r = e.get(police, page)
	for _, want := range []string{"Called, will visit", "closed Wed 1 Jul 2026 09:15: resolved", "satisfied with the outcome, satisfied with the handling",
		"Recorded the satisfaction survey"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	if r := e.get(police, "/cases"); strings.Contains(string(r.body), "HC-"+ref) {
		t.Error("a closed and surveyed case is still on the worklist")
	}
	if r := e.get(police, "/repeats"); r.status != http.StatusOK || !strings.Contains(string(r.body), "Repeat victims") {
		t.Errorf("repeats page: %s", r)
	}
}

// TestReviewServiceStandards posts three council cases of the second quarter of
// 2026 and checks the review's standards table against counts made by hand:
//
//  1. Opened on Good Friday, 3 April: the first contact is due by Tuesday 7 April
//     (Easter Monday is a bank holiday) and made then, with the Victims' Code;
//     closed resolved on 16 April (13 days); surveyed on 20 May, by the 28 May
//     deadline, satisfied with both.
//  2. Opened on the early May bank holiday, 4 May: due by Tuesday 5 May, made on
//     Wednesday 6 May, late; never offered the Code; closed not resolved on 8 May
//     (4 days); the complainant declined the survey on 1 June, by 19 June.
//  3. Opened Wednesday 10 June, contacted with the Code on 11 June, still open:
//     from 11 June to 30 June are 13 working days, so not kept in contact.
//
// First contact 2 of 3, kept in contact 2 of 3, Victims' Code 2 of 3, resolved 1
// of 2, satisfied with outcome and handling 1 of 1 (the declined survey in
// neither), surveys on time 2 of 2, median days to closure 8.5.
func TestReviewServiceStandards(t *testing.T) {
	e := newEnv(t)
	council, _ := e.token(access.Partner, "council")
	key := func(n int) string { return fmt.Sprintf("%032x", n) }
	posted := []map[string]any{
		{"ref": "S1", "victim_key": key(1), "opened_at": "2026-04-03T10:00:00Z", "victims_code_at": "2026-04-07T10:00:00Z",
			"contacts": []map[string]any{{"at": "2026-04-07T10:00:00Z", "how": "phone", "by": "Officer"}, {"at": "2026-04-14T10:00:00Z", "how": "visit", "by": "Officer"}},
			"closure":  map[string]any{"at": "2026-04-16T15:00:00Z", "outcome": "resolved"},
			"survey":   map[string]any{"at": "2026-05-20", "satisfied_outcome": true, "satisfied_handling": true}},
		{"ref": "S2", "victim_key": key(2), "opened_at": "2026-05-04T10:00:00Z",
			"contacts": []map[string]any{{"at": "2026-05-06T10:00:00Z", "how": "phone", "by": "Officer"}},
			"closure":  map[string]any{"at": "2026-05-08T15:00:00Z", "outcome": "not_resolved", "reason": "No further contact wanted"},
			"survey":   map[string]any{"at": "2026-06-01", "declined": true}},
		{"ref": "S3", "victim_key": key(3), "opened_at": "2026-06-10T10:00:00Z", "victims_code_at": "2026-06-11T10:00:00Z",
			"contacts": []map[string]any{{"at": "2026-06-11T10:00:00Z", "how": "visit", "by": "Officer"}}},
	}
	var a caseIntakeAnswer
	e.send(council, "POST", "/api/v1/cases/intake", posted).json(t, &a)
	if a.Created != 3 {
		t.Fatalf("intake: %+v", a)
	}
	type std struct {
		Key         string   `json:"key"`
		Met         *int     `json:"met"`
		Of          *int     `json:"of"`
		Share       *float64 `json:"share_pct"`
		MeetsTarget *bool    `json:"meets_target"`
	}
	var rv struct {
		Review struct {
			To        string `json:"to"`
			Standards struct {
				Partners []struct {
					Partner  string   `json:"partner"`
					Opened   *int     `json:"opened"`
					Closed   *int     `json:"closed"`
					Declined *int     `json:"surveys_declined"`
					Median   *float64 `json:"median_days_to_closure"`
					Std      []std    `json:"standards"`
				} `json:"partners"`
			} `json:"service_standards"`
		} `json:"review"`
	}
	e.getJSON(e.as(access.Council), "/api/v1/review?from=2026-04-01&to=2026-06-30", &rv)
	ps := rv.Review.Standards.Partners
	if len(ps) != 2 || ps[0].Partner != "" || ps[1].Partner != "council" {
		t.Fatalf("partners: %+v", ps)
	}
	c := ps[1]
	want := map[string][2]int{"first_contact": {2, 3}, "kept_in_contact": {2, 3}, "victims_code": {2, 3}, "resolved": {1, 2},
		"satisfied_outcome": {1, 1}, "satisfied_handling": {1, 1}, "survey_on_time": {2, 2}}
	for _, s := range c.Std {
		w := want[s.Key]
		if s.Met == nil || s.Of == nil || *s.Met != w[0] || *s.Of != w[1] {
			t.Errorf("%s: got %v of %v, want %d of %d", s.Key, s.Met, s.Of, w[0], w[1])
		}
	}
	if c.Std[3].MeetsTarget == nil || *c.Std[3].MeetsTarget || c.Std[4].MeetsTarget == nil || !*c.Std[4].MeetsTarget {
		t.Errorf("targets: resolved 50%% is below 80%%, satisfied 100%% meets 70%%: %+v", c.Std)
	}
	if *c.Opened != 3 || *c.Closed != 2 || *c.Declined != 1 || c.Median == nil || *c.Median != 8.5 {
		t.Errorf("council: opened %v closed %v declined %v median %v", *c.Opened, *c.Closed, *c.Declined, c.Median)
	}

	// The printed review holds the table.
	r := e.get(e.as(access.Council), "/review?from=2026-04-01&to=2026-06-30")
	for _, s := range []string{"Service standards for victims", "First contact within 1 working day", "66.7%", "50.0%", "8.5"} {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("the review page lacks %q", s)
		}
	}

	// The strategic group sees the same table through the same suppression:
	// every count shown is rounded to 5, and shares come from the counts shown.
	rv.Review.Standards.Partners = nil
	e.getJSON(e.as(access.Strategic), "/api/v1/review?from=2026-04-01&to=2026-06-30", &rv)
	for _, p := range rv.Review.Standards.Partners {
		for _, s := range p.Std {
			for _, n := range []*int{s.Met, s.Of} {
				if n != nil && *n%5 != 0 {
					t.Errorf("strategic %s %s: %d is not rounded", p.Partner, s.Key, *n)
				}
			}
			if s.Share != nil && (s.Met == nil || s.Of == nil) {
				t.Errorf("strategic %s %s: a share without its counts", p.Partner, s.Key)
			}
		}
	}
}

// TestStrategicStandardShares posts 60 council cases opened on working days of
// June 2026, 54 contacted the day they were opened and 6 a week later, each
// offered the Victims' Code at first contact, and 19 opened in June 2025, all
// contacted on the day. Counted by hand, for the second quarter of 2026: first
// contact 54 of 60 (90%, below the 100% target), Victims' Code 60 of 60 (100%,
// met); a year earlier 19 of 19. Under this key the counts perturbed one by
// one read "60 of 60" (TestCaseShareFromTrueCounts); the strategic group is
// given 90%, below, and for a year earlier no share: fewer than 20 cases.
func TestStrategicStandardShares(t *testing.T) {
	e := newEnv(t, func(o *web.Options) { o.DisclosureKey = []byte("service standards 0") })
	council, _ := e.token(access.Partner, "council")
	var posted []map[string]any
	add := func(n int, opened, contacted time.Time) {
		posted = append(posted, map[string]any{"ref": fmt.Sprintf("SS%d", n), "victim_key": fmt.Sprintf("%032x", 1000+n),
			"opened_at": opened.Format(time.RFC3339), "victims_code_at": contacted.Format(time.RFC3339),
			"contacts": []map[string]any{{"at": contacted.Format(time.RFC3339), "how": "phone", "by": "Officer"}}})
	}
	working := func(from time.Time, n int) time.Time { // the nth working day (Monday to Friday) from a Monday
		return from.AddDate(0, 0, n/5*7+n%5)
	}
	for n := range 60 {
		opened := working(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), n%20) // 1 to 26 June, no bank holiday
		contacted := opened.Add(time.Hour)
		if n < 6 {
			contacted = opened.AddDate(0, 0, 7)
		}
		add(n, opened, contacted)
	}
	for n := range 19 {
		opened := working(time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC), n)
		add(100+n, opened, opened.Add(time.Hour))
	}
	var a caseIntakeAnswer
	e.send(council, "POST", "/api/v1/cases/intake", posted).json(t, &a)
	if a.Created != 79 {
		t.Fatalf("intake: %+v", a)
	}
	type std struct {
		Key          string   `json:"key"`
		Met          *int     `json:"met"`
		Of           *int     `json:"of"`
		Share        *float64 `json:"share_pct"`
		Meets        *bool    `json:"meets_target"`
		Withheld     string   `json:"share_withheld"`
		PrevShare    *float64 `json:"previous_share_pct"`
		PrevMet      *int     `json:"previous_met"`
		PrevMeets    *bool    `json:"previous_meets_target"`
		PrevWithheld string   `json:"previous_share_withheld"`
	}
	type table struct {
		Partners []struct {
			Partner string `json:"partner"`
			Std     []std  `json:"standards"`
		} `json:"partners"`
		ShareRule string `json:"share_rule"`
	}
	find := func(tb table, partner, key string) std {
		for _, p := range tb.Partners {
			if p.Partner == partner {
				for _, s := range p.Std {
					if s.Key == key {
						return s
					}
				}
			}
		}
		t.Fatalf("no %s %s in %+v", partner, key, tb)
		return std{}
	}
	check := func(where string, tb table) {
		for _, partner := range []string{"council", ""} {
			fc := find(tb, partner, "first_contact")
			if fc.Share == nil || *fc.Share != 90 || fc.Meets == nil || *fc.Meets || fc.Met != nil || fc.Of == nil {
				t.Errorf("%s %q first contact: share %v met %v of %v verdict %v, want 90%%, below, no number met, the cases", where, partner, fc.Share, fc.Met, fc.Of, fc.Meets)
			}
			if fc.PrevShare != nil || fc.PrevMeets != nil || fc.PrevWithheld != "fewer than 20 cases" || fc.PrevMet != nil {
				t.Errorf("%s %q a year earlier (19 cases): %v %v %q, want withheld", where, partner, fc.PrevShare, fc.PrevMeets, fc.PrevWithheld)
			}
			vc := find(tb, partner, "victims_code")
			if vc.Share == nil || *vc.Share != 100 || vc.Meets == nil || !*vc.Meets {
				t.Errorf("%s %q Victims' Code: %v %v, want 100%%, met", where, partner, vc.Share, vc.Meets)
			}
		}
		if tb.ShareRule == "" {
			t.Errorf("%s: the rule is not said", where)
		}
	}
	var rv struct {
		Review struct {
			Standards table `json:"service_standards"`
		} `json:"review"`
	}
	e.getJSON(e.as(access.Strategic), "/api/v1/review?from=2026-04-01&to=2026-06-30", &rv)
	check("review", rv.Review.Standards)
	var fg struct {
		Standards table `json:"standards"`
	}
	e.getJSON(e.as(access.Strategic), "/api/v1/cases/figures?from=2026-04-01&to=2026-06-30", &fg)
	check("figures", fg.Standards)

	// The council sees the exact counts and shares.
	fg.Standards = table{}
	e.getJSON(e.as(access.Council), "/api/v1/cases/figures?from=2026-04-01&to=2026-06-30", &fg)
	if fc := find(fg.Standards, "council", "first_contact"); fc.Met == nil || *fc.Met != 54 || *fc.Of != 60 || *fc.Share != 90 || fc.PrevShare == nil || *fc.PrevShare != 100 || fg.Standards.ShareRule != "" {
		t.Errorf("council: %+v", fc)
	}

	// The review page (printed as it is) and the cases page say the same.
	for _, path := range []string{"/review?from=2026-04-01&to=2026-06-30", "/cases?from=2026-04-01&to=2026-06-30"} {
		r := e.get(e.as(access.Strategic), path)
		body := string(r.body)
		for _, want := range []string{"90.0%", "withheld, fewer than 20 cases", "rounded to the nearest 5%", "below"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		if strings.Contains(body, "54 of 60") || strings.Contains(body, "60 of 60") {
			t.Errorf("%s shows a number met beside the share", path)
		}
	}
}

// TestScopedOfficerSeesCasesInTheirAreas opens a police case following a report
// of one area and another following no report: a neighbourhood officer scoped to
// that area finds the first on the service's worklist, the case list and its page; one
// scoped elsewhere finds neither (404 for the page and the API, so that the
// case's existence is not told); an unscoped officer finds both.
func TestScopedOfficerSeesCasesInTheirAreas(t *testing.T) {
	e := newEnv(t)
	var incident int64
	var ref, area, key string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT i.id, i.source_ref, a.code, i.victim_key FROM incidents i JOIN sources s ON s.id = i.source_id
		JOIN areas a ON a.id = i.areas[1]
		WHERE s.name = 'police' AND coalesce(i.victim_key, '') <> '' ORDER BY i.id LIMIT 1`).Scan(&incident, &ref, &area, &key); err != nil {
		t.Fatal(err)
	}
	var other string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT a.code FROM areas a WHERE a.level = (SELECT level FROM areas WHERE code = $1)
		AND a.code <> $1 AND NOT EXISTS (SELECT 1 FROM incidents i JOIN sources s ON s.id = i.source_id
		WHERE s.name = 'police' AND i.source_ref = $2 AND a.id = ANY(i.areas)) ORDER BY a.code LIMIT 1`, area, ref).Scan(&other); err != nil {
		t.Fatal(err)
	}
	police := e.as(access.Police)
	open := func(caseRef string, form url.Values) string {
		form.Set("partner", "police")
		form.Set("ref", caseRef)
		form.Set("opened_at", "2026-07-01T08:00")
		form.Set("risk", "medium")
		r := e.postForm(police, "/cases", form)
		if r.status != http.StatusSeeOther {
			t.Fatalf("open %s: %s", caseRef, r)
		}
		page := r.header.Get("Location")
		return page[:strings.Index(page, "?")]
	}
	inArea := open("HC-IN-AREA", url.Values{"victim_key": {key}, "report_source": {"police"}, "report_ref": {ref}})
	noReport := open("HC-NO-REPORT", url.Values{"victim_key": {fmt.Sprintf("%032x", 77)}})
	here := e.sessionOf(e.createUser("pc-here", access.Police, area))
	elsewhere := e.sessionOf(e.createUser("pc-elsewhere", access.Police, other))

	for _, c := range []struct {
		name       string
		s          caller
		in, noRept bool
	}{{"scoped to " + area, here, true, false}, {"scoped to " + other, elsewhere, false, false}, {"unscoped", police, true, true}} {
		body := string(e.get(c.s, "/cases?all=true").body) // every case of the service with something due
		if strings.Contains(body, "HC-IN-AREA") != c.in || strings.Contains(body, "HC-NO-REPORT") != c.noRept {
			t.Errorf("%s: worklist holds the case in %s: %v, the case without a report: %v", c.name, area, strings.Contains(body, "HC-IN-AREA"), strings.Contains(body, "HC-NO-REPORT"))
		}
		list := string(e.get(c.s, "/api/v1/cases").body)
		if strings.Contains(list, "HC-IN-AREA") != c.in || strings.Contains(list, "HC-NO-REPORT") != c.noRept {
			t.Errorf("%s: the case list: %s", c.name, list)
		}
		for _, p := range []struct {
			page string
			want bool
		}{{inArea, c.in}, {noReport, c.noRept}} {
			want := http.StatusNotFound
			if p.want {
				want = http.StatusOK
			}
			if r := e.get(c.s, p.page); r.status != want {
				t.Errorf("%s: %s: %d, want %d", c.name, p.page, r.status, want)
			}
			api := "/api/v1" + p.page
			if r := e.get(c.s, api); r.status != want {
				t.Errorf("%s: %s: %d, want %d", c.name, api, r.status, want)
			}
		}
	}
	// Nor can the officer elsewhere change it.
	if r := e.postForm(elsewhere, inArea+"/contact", url.Values{"at": {"2026-07-01T09:00"}, "how": {"phone"}}); r.status != http.StatusNotFound {
		t.Errorf("a contact by the officer elsewhere: %s, want 404", r)
	}

	// A scoped team opens cases for reports in its areas, and only those: a case it
	// could not see afterwards is refused with the reason, by the API and the form.
	report := []map[string]string{{"source": "police", "ref": ref}}
	for i, c := range []struct {
		name    string
		s       caller
		reports []map[string]string
		want    int
	}{
		{"the officer in " + area + ", the report there", here, report, http.StatusCreated},
		{"the officer in " + other + ", the report in " + area, elsewhere, report, http.StatusForbidden},
		{"the officer in " + other + ", no report", elsewhere, nil, http.StatusForbidden},
		{"the unscoped officer, no report", police, nil, http.StatusCreated},
	} {
		r := e.send(c.s, "POST", "/api/v1/cases", map[string]any{"ref": fmt.Sprintf("HC-API-%d", i), "victim_key": key, "reports": c.reports,
			"opened_at": "2026-07-01T07:00:00Z"})
		if r.status != c.want {
			t.Errorf("%s opens a case: %s, want %d", c.name, r, c.want)
		}
		if r.status == http.StatusForbidden && !strings.Contains(r.message(t), "your team covers "+other) {
			t.Errorf("%s: the refusal does not say why: %s", c.name, r)
		}
	}
	if r := e.postForm(elsewhere, "/cases", url.Values{"partner": {"police"}, "ref": {"HC-FORM-ELSEWHERE"}, "opened_at": {"2026-07-01T08:00"},
		"report_source": {"police"}, "report_ref": {ref}}); r.status != http.StatusForbidden {
		t.Errorf("the officer elsewhere opens a case by the form for a report in %s: %s, want 403", area, r)
	}
	// Nor does the officer in the area move a case out of it.
	if r := e.send(here, "PATCH", "/api/v1"+inArea, map[string]any{"reports": []map[string]string{}}); r.status != http.StatusForbidden {
		t.Errorf("the officer in %s takes the case's reports away: %s, want 403", area, r)
	}
	if r := e.send(here, "PATCH", "/api/v1"+inArea, map[string]any{"reports": report, "risk": "high"}); r.status != http.StatusOK {
		t.Errorf("the officer in %s edits the case: %s, want 200", area, r)
	}
}
