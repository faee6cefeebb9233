package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
)

// The pages of cases: a case officer's worklist (the strategic group's figures
// instead), a case with its forms, a new case (from a report on the map), and the
// repeat victims and offenders.
//
// A police officer scoped to areas opens a case only from a report in them.

func (s *Server) casePages() {
	w := allow(access.CaseWorkers...)
	s.handle("GET", "/cases", allow(access.Readers...), s.handleWorklistPage)
	s.handle("GET", "/cases/new", w, s.handleNewCasePage)
	s.handle("POST", "/cases", w, s.handleCreateCaseForm, withBody(64<<10))
	s.handle("GET", "/cases/{id}", w, s.handleCasePage)
	s.handle("POST", "/cases/{id}/{what}", w, s.handleCaseForm, withBody(64<<10))
	s.handle("GET", "/repeats", w, s.handleRepeatsPage)
}

// caseRow is a case as the pages show it: moments in the service's zone, names
// not ids, and free text only for the owning partner.
type caseRow struct {
	ID        int64
	Ref       string
	Partner   string
	Officer   string
	Opened    string
	First     string
	Code      string
	Risk      string
	Referral  bool
	Reports   []cases.ReportRef
	Contacts  []contactRow
	Actions   []actionRow
	Closure   *cases.Closure
	Closed    string
	Survey    *cases.Survey
	Surveyed  string
	Due       []cases.DueItem
	Overdue   int
	History   []string
	TextShown bool
	Erased    string
	Open      bool
}

type contactRow struct{ When, How, By, Note string }

type actionRow struct {
	N                     int
	Text, Owner, Due, Was string
	Done, Overdue         bool
}

func (s *Server) moment(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	loc := s.opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04")
}

// userNames names the service's users by id.
func (s *Server) userNames(ctx context.Context) (map[int64]string, error) {
	us, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, u := range us {
		out[u.ID] = u.Name
		if out[u.ID] == "" {
			out[u.ID] = u.Username
		}
	}
	return out, nil
}

func (s *Server) caseRow(who *access.Principal, c *cases.Case, names map[int64]string) caseRow {
	cj := s.caseFor(who, c)
	c = cj.Case
	today := s.opts.Cases.Calendar.Day(s.opts.Now())
	row := caseRow{ID: c.ID, Ref: c.Ref, Partner: upperFirst(words(c.Partner)), Officer: "not assigned", Opened: s.moment(c.OpenedAt),
		First: s.moment(c.FirstContactAt), Code: s.moment(c.VictimsCodeAt), Risk: c.Risk, Referral: c.Referral, Reports: c.Reports,
		Closure: c.Closure, Survey: c.Survey, Due: cj.Due, TextShown: cj.TextShown, Erased: s.moment(c.ErasedAt), Open: c.Open()}
	if c.Officer != 0 {
		row.Officer = names[c.Officer]
	}
	if c.Closure != nil {
		row.Closed = s.moment(c.Closure.At)
	}
	if c.Survey != nil {
		row.Surveyed = c.Survey.At.In(s.opts.Cases.Calendar.Location()).Format("Mon 2 Jan 2006")
	}
	for _, d := range cj.Due {
		if d.Overdue {
			row.Overdue++
		}
	}
	for _, x := range c.Contacts {
		row.Contacts = append(row.Contacts, contactRow{When: s.moment(x.At), How: x.How, By: x.By, Note: x.Note})
	}
	for i, a := range c.Actions {
		row.Actions = append(row.Actions, actionRow{N: i + 1, Text: a.Text, Owner: a.Owner, Due: a.Due.Format("Mon 2 Jan 2006"),
			Was: s.moment(a.DoneAt), Done: a.Done(), Overdue: !a.Done() && today.After(geo.Day(a.Due))})
	}
	w := cases.Words{Location: s.opts.Cases.Calendar.Location(), UserName: func(id int64) string { return names[id] }}
	for _, h := range c.History {
		row.History = append(row.History, s.moment(h.At)+": "+actorName(h.Actor)+". "+h.Sentence(w))
	}
	return row
}

// handleWorklistPage answers GET /cases: a case officer's worklist, or for the
// strategic group the service standards only.
func (s *Server) handleWorklistPage(w http.ResponseWriter, r *http.Request) error {
	who := access.PrincipalFrom(r.Context())
	if !who.Is(access.CaseWorkers...) {
		rq, _, err := s.reviewQuery(r.Context(), r)
		if err != nil {
			return err
		}
		st, err := s.caseStandards(r.Context(), s.disclosureFor(who), rq.From, rq.To)
		if err != nil {
			return err
		}
		data := map[string]any{"Standards": st, "Period": PeriodText(rq.From, rq.To)}
		s.render(w, r, "cases.html", data)
		return nil
	}
	q := newQuery(r.URL.Query(), "all", "done")
	all := q.single("all") == "true"
	if err := q.err(); err != nil {
		return err
	}
	data := map[string]any{"All": all}
	wl, err := s.worklist(r.Context(), who, all)
	if err != nil {
		return err
	}
	names, err := s.userNames(r.Context())
	if err != nil {
		return err
	}
	var rows []caseRow
	for _, cj := range wl.Cases {
		rows = append(rows, s.caseRow(who, cj.Case, names))
	}
	if err := s.auditErr(r, "cases.worklist", map[string]any{"all": all}, int64(len(rows))); err != nil {
		return err
	}
	data["Worker"], data["Rows"], data["Flagged"] = true, rows, wl.Flagged
	data["Today"] = s.opts.Cases.Calendar.Day(s.opts.Now())
	s.render(w, r, "cases.html", data)
	return nil
}

// handleNewCasePage answers GET /cases/new, from a report on the map
// (?incident=id) or blank.
func (s *Server) handleNewCasePage(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "incident")
	id := q.intIn("incident", 0, 0, 1<<62)
	if err := q.err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	partner, all := casePartner(who)
	form := map[string]string{"partner": partner, "opened_at": s.opts.Now().In(s.opts.Cases.Calendar.Location()).Format("2006-01-02T15:04"), "risk": cases.RiskStandard}
	if id != 0 {
		src, ref, key, areas, err := s.cases.ReportForCase(r.Context(), int64(id))
		if err != nil {
			return err
		}
		if who.Scoped() && !slices.ContainsFunc(areas, func(a string) bool { return slices.Contains(who.Areas, a) }) {
			return geo.Errorf(geo.ENOTFOUND, "no such report") // outside the areas the caller covers
		}
		if !all && src != partner {
			return geo.Errorf(geo.EFORBIDDEN, "this report came from %s; a %s case follows %s reports", words(src), words(partner), words(partner))
		}
		if key == "" {
			return geo.Errorf(geo.EINVALID, "incident: this report names no victim, so no case can follow it")
		}
		s.audit(r, "incidents.read", map[string]any{"id": id, "for": "case"}, 1)
		form["report_source"], form["report_ref"], form["victim_key"], form["ref"] = src, ref, key, ref
		form["partner"] = src
	}
	s.render(w, r, "case_new.html", map[string]any{"Form": form, "Risks": cases.RiskLevels, "Partners": s.opts.Sources, "All": all})
	return nil
}

// localMoment reads a form's datetime-local (or date) in the service's zone.
func (s *Server) localMoment(field, v string, def time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	loc := s.opts.Cases.Calendar.Location()
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			if layout == time.DateOnly {
				t = t.Add(12 * time.Hour)
			}
			return t, nil
		}
	}
	return time.Time{}, geo.Errorf(geo.EINVALID, "%s: %q is not a day and time such as 2026-07-01T10:30", field, v)
}

func (s *Server) handleCreateCaseForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	f := r.PostForm
	who := access.PrincipalFrom(r.Context())
	now := s.opts.Now()
	opened, err := s.localMoment("opened_at", f.Get("opened_at"), now)
	if err != nil {
		return err
	}
	c := &cases.Case{Partner: strings.TrimSpace(f.Get("partner")), Ref: strings.TrimSpace(f.Get("ref")),
		VictimKey: strings.ToLower(strings.TrimSpace(f.Get("victim_key"))), OpenedAt: opened, Risk: f.Get("risk"),
		Referral: f.Get("referral") == "true", Reports: []cases.ReportRef{}, Actions: []cases.Action{}, Contacts: []cases.Contact{}}
	if src, ref := strings.TrimSpace(f.Get("report_source")), strings.TrimSpace(f.Get("report_ref")); src != "" && ref != "" {
		c.Reports = append(c.Reports, cases.ReportRef{Source: src, Ref: ref})
	}
	p, all := casePartner(who)
	if !all {
		if c.Partner != "" && c.Partner != p {
			return geo.Errorf(geo.EFORBIDDEN, "partner: you open %s cases, not %s cases", words(p), words(c.Partner))
		}
		c.Partner = p
		c.Officer = who.UserID
	}
	if err := s.checkCaseScope(r.Context(), who, c.Reports); err != nil {
		return err
	}
	e, err := s.caseRules().Open(c, who.Actor(), now)
	if err != nil {
		return err
	}
	if err := s.cases.CreateCase(r.Context(), c, e); err != nil {
		return err
	}
	s.audit(r, "cases.create", map[string]any{"id": c.ID, "partner": c.Partner}, 1)
	http.Redirect(w, r, fmt.Sprintf("/cases/%d?done=created", c.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request, status int, c *cases.Case, problem string) error {
	who := access.PrincipalFrom(r.Context())
	names, err := s.userNames(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"C": s.caseRow(who, c, names), "Problem": problem, "Ways": cases.ContactWays, "Outcomes": cases.Outcomes,
		"Risks": cases.RiskLevels, "Now": s.opts.Now().In(s.opts.Cases.Calendar.Location()).Format("2006-01-02T15:04")}
	if msg := r.URL.Query().Get("done"); msg != "" {
		data["Message"] = map[string]string{"created": "Case opened.", "contact": "Contact recorded.", "action": "Action added.",
			"actions": "Action updated.", "edit": "Saved.", "close": "Case closed.", "survey": "Survey recorded."}[msg]
	}
	s.renderStatus(w, r, status, "case.html", data)
	return nil
}

// handleCasePage answers GET /cases/{id}; the read is audited.
func (s *Server) handleCasePage(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query(), "done").err(); err != nil {
		return err
	}
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	if err := s.auditErr(r, "cases.read", map[string]any{"id": c.ID, "partner": c.Partner, "text": ownsCase(access.PrincipalFrom(r.Context()), c)}, 1); err != nil {
		return err
	}
	return s.casePage(w, r, http.StatusOK, c, "")
}

// handleCaseForm answers the case page's forms: POST /cases/{id}/contact,
// action, action-done, edit, close, survey.
func (s *Server) handleCaseForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	what := chi.URLParam(r, "what")
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	who := access.PrincipalFrom(r.Context())
	now := s.opts.Now()
	rules := s.caseRules()
	at := func(field string) (time.Time, error) { return s.localMoment(field, f.Get(field), now) }
	var e cases.HistoryEntry
	switch what {
	case "contact":
		var t time.Time
		if t, err = at("at"); err == nil {
			by := strings.TrimSpace(f.Get("by"))
			if by == "" {
				by = who.Name
			}
			e, err = rules.AddContact(c, cases.Contact{At: t, How: f.Get("how"), By: by, Note: f.Get("note")}, who.Actor(), now)
		}
	case "action":
		var due time.Time
		if due, err = time.Parse(time.DateOnly, strings.TrimSpace(f.Get("due"))); err != nil {
			err = geo.Errorf(geo.EINVALID, "due: %q is not a day such as 2026-07-10", f.Get("due"))
		} else {
			e, err = rules.AddAction(c, cases.Action{Text: f.Get("text"), Owner: f.Get("owner"), Due: due}, who.Actor(), now)
		}
	case "action-done":
		n, _ := strconv.Atoi(f.Get("n"))
		t := time.Time{}
		if f.Get("done") == "true" {
			t = now
		}
		e, err = rules.SetActionDone(c, n, t, who.Actor(), now)
	case "edit":
		next := c.Clone()
		next.Risk, next.Referral = f.Get("risk"), f.Get("referral") == "true"
		if f.Has("victims_code_at") {
			next.VictimsCodeAt, err = at("victims_code_at")
			if f.Get("victims_code_at") == "" {
				next.VictimsCodeAt = time.Time{}
			}
		}
		if err == nil {
			e, err = rules.Edit(c, next, who.Actor(), now)
		}
	case "close":
		var t time.Time
		if t, err = at("at"); err == nil {
			e, err = rules.Close(c, cases.Closure{At: t, Outcome: f.Get("outcome"), Reason: f.Get("reason")}, who.Actor(), now)
		}
	case "survey":
		var t time.Time
		if t, err = at("at"); err == nil {
			declined := f.Get("answer") == "declined"
			e, err = rules.RecordSurvey(c, cases.Survey{At: t, Declined: declined, SatisfiedOutcome: !declined && f.Get("satisfied_outcome") == "true",
				SatisfiedHandling: !declined && f.Get("satisfied_handling") == "true"}, who.Actor(), now)
		}
	default:
		return geo.Errorf(geo.ENOTFOUND, "no such form")
	}
	if err == nil {
		err = s.cases.UpdateCase(r.Context(), c, e)
	}
	if err != nil {
		if code := geo.ErrorCode(err); code == geo.EINVALID || code == geo.ECONFLICT || code == geo.ENOTFOUND {
			fresh, lerr := s.cases.Case(r.Context(), c.ID)
			if lerr != nil {
				return lerr
			}
			st := http.StatusBadRequest
			if code == geo.ECONFLICT {
				st = http.StatusConflict
			}
			return s.casePage(w, r, st, fresh, geo.ErrorMessage(err))
		}
		return err
	}
	s.audit(r, "cases."+strings.ReplaceAll(what, "-", "_"), map[string]any{"id": c.ID, "partner": c.Partner}, 1)
	done := map[string]string{"action-done": "actions"}[what]
	if done == "" {
		done = what
	}
	http.Redirect(w, r, fmt.Sprintf("/cases/%d?done=%s", c.ID, done), http.StatusSeeOther)
	return nil
}

// handleRepeatsPage answers GET /repeats: repeat victims and offenders of the
// caller's partner's reports, in the window ending today.
func (s *Server) handleRepeatsPage(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	today := s.opts.Cases.Calendar.Day(s.opts.Now())
	victims, err := s.repeatsFor(r.Context(), who, cases.Victim, today)
	if err != nil {
		return err
	}
	offenders, err := s.repeatsFor(r.Context(), who, cases.Offender, today)
	if err != nil {
		return err
	}
	if err := s.auditErr(r, "repeats.read", map[string]any{"as_of": today.Format(time.DateOnly)}, int64(len(victims)+len(offenders))); err != nil {
		return err
	}
	from, to := s.opts.Cases.Repeats.Window(today)
	s.render(w, r, "repeats.html", map[string]any{"Victims": victims, "Offenders": offenders, "From": from, "To": to,
		"Months": s.opts.Cases.Repeats.WindowMonths})
	return nil
}
