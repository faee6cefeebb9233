package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// formList reads a form's list field: several values, or one value split at
// commas and line ends.
func formList(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.PostForm[name] {
		for _, part := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' }) {
			out = append(out, part)
		}
	}
	return cleanList(out)
}

// formLines reads a textarea with one item a line.
func formLines(r *http.Request, name string) []string {
	return cleanList(strings.Split(strings.ReplaceAll(r.PostForm.Get(name), "\r", ""), "\n"))
}

// assessmentForm reads the edit form into an input: every editable field.
func assessmentForm(r *http.Request) (*assessmentInput, error) {
	str := func(name string) *string {
		v := r.PostForm.Get(name)
		return &v
	}
	in := &assessmentInput{Title: str("title"), Trigger: str("trigger"), Communities: str("communities"), Summary: str("summary"),
		TensionLevel: str("tension_level"), ReviewDate: str("review_date"), AreaLevel: str("area_level")}
	areas, strands, partners := formList(r, "areas"), r.PostForm["strands"], formLines(r, "partners")
	in.Areas, in.Strands, in.Partners = &areas, &strands, &partners
	var intel []tension.Intelligence
	grades, texts, sources := r.PostForm["intel_grade"], r.PostForm["intel_text"], r.PostForm["intel_source"]
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		x := tension.Intelligence{Text: strings.TrimSpace(t)}
		if i < len(grades) {
			x.Grade = grades[i]
		}
		if i < len(sources) {
			x.Source = strings.TrimSpace(sources[i])
		}
		intel = append(intel, x)
	}
	var risks []tension.Risk
	rtexts, ratings, mitigations := r.PostForm["risk_text"], r.PostForm["risk_rating"], r.PostForm["risk_mitigation"]
	for i, t := range rtexts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		x := tension.Risk{Text: strings.TrimSpace(t)}
		if i < len(ratings) {
			x.Rating = ratings[i]
		}
		if i < len(mitigations) {
			x.Mitigation = strings.TrimSpace(mitigations[i])
		}
		risks = append(risks, x)
	}
	in.Intelligence, in.Risks = &intel, &risks
	if v := r.PostForm.Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, geo.Errorf(geo.EINVALID, "version: not a number")
		}
		in.Version = &n
	}
	return in, nil
}

// assessmentPage is what the assessment page shows.
func (s *Server) assessmentPage(w http.ResponseWriter, r *http.Request, status int, a *tension.Assessment, form *tension.Assessment, problem string) error {
	who := access.PrincipalFrom(r.Context())
	data := map[string]any{"A": a, "Problem": problem, "Today": s.opts.Now(), "Summary": s.summaryOf(a)}
	if msg := r.URL.Query().Get("done"); msg != "" {
		data["Message"] = map[string]string{"saved": "Saved.", "created": "Impact assessment created as a draft: fill it in and open it.",
			"status": "Status changed.", "action": "Action added.", "actions": "Action updated.", "events": "Trigger events updated.",
			"exists": "This alert already has an impact assessment: here it is."}[msg]
	}
	// Areas by name beside their codes: a council officer knows "Milton Keynes 023"
	// where "E02003500" says nothing.
	names, err := s.store.AreaNames(r.Context(), a.Areas)
	if err != nil {
		return err
	}
	data["AreaNames"] = names
	// The map of its place and the evidence chart, on every version of the page.
	data["Evidence"] = evidenceRows(a.Evidence)
	data["EvidenceSVG"] = evidenceChart(a.Evidence)
	if data["EvidenceSVG"] == template.HTML("") {
		data["EvidenceSVG"] = s.dailyEvidenceChart(r.Context(), s.disclosureFor(who), a.Evidence, a.Strands)
	}
	data["MapSVG"], data["MapCaption"] = s.assessmentMap(r.Context(), a)
	if !who.Is(access.AssessmentEditors...) || (who.Scoped() && a.Citywide()) {
		s.renderStatus(w, r, status, "assessment_summary.html", data)
		return nil
	}
	if form == nil {
		form = a
	}
	data["Form"] = form
	data["Scale"] = s.opts.TensionScale
	data["Strands"] = s.opts.Strands
	data["Grades"] = tension.Grades
	data["Ratings"] = tension.RiskRatings
	data["Next"] = tension.NextStatuses(a.Status)
	data["Closed"] = a.Status == tension.AssessmentClosed
	// Intelligence and risk rows: those there are and two blank ones to add to.
	data["IntelRows"] = append(slices.Clone(form.Intelligence), tension.Intelligence{}, tension.Intelligence{})
	data["RiskRows"] = append(slices.Clone(form.Risks), tension.Risk{}, tension.Risk{})
	events, err := s.store.TriggerEventList(r.Context(), 200)
	if err != nil {
		return err
	}
	data["Events"] = events
	linked := map[int64]bool{}
	for _, id := range a.EventIDs {
		linked[id] = true
	}
	data["Linked"] = linked
	if a.AlertID != 0 {
		if al, err := s.store.Alert(r.Context(), a.AlertID); err == nil {
			data["Alert"] = s.alertJSON(s.disclosureFor(who), al, false, nil)
		}
	}
	s.renderStatus(w, r, status, "assessment.html", data)
	return nil
}

// evidenceRows turns an alert's evidence, as its assessment keeps it, into labelled
// figures for the page, in the words the map's alert panel uses.
func evidenceRows(ev map[string]any) [][2]string {
	if len(ev) == 0 {
		return nil
	}
	num := func(k string) (float64, bool) { v, ok := ev[k].(float64); return v, ok }
	str := func(k string) string { s, _ := ev[k].(string); return s }
	day := func(k string) time.Time { t, _ := time.Parse(time.DateOnly, str(k)); return t }
	f := &tension.Finding{Method: str("method"), Detail: str("detail"), WindowFrom: day("window_from"), WindowTo: day("window_to")}
	var out [][2]string
	add := func(label, value string) {
		if value != "" {
			out = append(out, [2]string{label, value})
		}
	}
	if f.Method != "" {
		add("Method", upperFirst(f.MethodName()))
	}
	add("Finding", f.Detail)
	if !f.WindowFrom.IsZero() && !f.WindowTo.IsZero() {
		add("Window", f.WindowText())
	}
	if v, ok := num("observed"); ok {
		add("Observed", strconv.FormatFloat(v, 'f', 0, 64))
	}
	if v, ok := num("expected"); ok {
		f.Expected = v
		add("Expected", expectedText(f))
	}
	if v, ok := num("p_value"); ok {
		add("p-value", tension.FormatP(v))
	}
	if v, ok := num("recurrence_days"); ok {
		add("Recurrence", "once in "+strconv.FormatFloat(v, 'f', 0, 64)+" days")
	}
	return out
}

func (s *Server) handleAssessmentsPage(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "status", "overdue")
	f := tension.AssessmentFilter{Status: q.list("status"), Overdue: q.single("overdue") == "true", Today: s.opts.Now(), Limit: 500}
	for _, st := range f.Status {
		if !slices.Contains(tension.AssessmentStatuses, st) {
			q.fail("status", "%q is not %s", st, strings.Join(tension.AssessmentStatuses, ", "))
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	scopeFilter(who, &f)
	list, err := s.store.Assessments(r.Context(), f)
	if err != nil {
		return err
	}
	rows := make([]assessmentSummary, len(list))
	for i, a := range list {
		rows[i] = s.summaryOf(a)
	}
	// What is overdue, whatever the listing: reviews past their date, actions past due.
	of := tension.AssessmentFilter{Overdue: true, Today: s.opts.Now(), Limit: 500}
	scopeFilter(who, &of)
	overdue, err := s.store.Assessments(r.Context(), of)
	if err != nil {
		return err
	}
	type overdueAction struct {
		Assessment *tension.Assessment
		Action     tension.Action
	}
	var reviews []*tension.Assessment
	var actions []overdueAction
	for _, a := range overdue {
		if a.ReviewOverdue(s.opts.Now()) {
			reviews = append(reviews, a)
		}
		if who.Is(access.AssessmentEditors...) && !(who.Scoped() && a.Citywide()) {
			for _, x := range a.OverdueActions(s.opts.Now()) {
				actions = append(actions, overdueAction{a, x})
			}
		}
	}
	s.render(w, r, "assessments.html", map[string]any{"Rows": rows, "Statuses": tension.AssessmentStatuses, "Status": f.Status,
		"Overdue": f.Overdue, "OverdueReviews": reviews, "OverdueActions": actions, "OverdueCount": len(overdue),
		"CanEdit": who.Is(access.AssessmentEditors...)})
	return nil
}

func (s *Server) handleNewAssessmentPage(w http.ResponseWriter, r *http.Request) error {
	// The map's incident panel links here with the record's strands, kind and day
	// (from), which fill the form in.
	q := newQuery(r.URL.Query(), "incident", "event", "strand", "kind", "from")
	incident := q.intIn("incident", 0, 1, 1<<62)
	event := q.intIn("event", 0, 1, 1<<62)
	f := q.filter(s.opts.Strands, s.opts.Sources)
	if err := q.err(); err != nil {
		return err
	}
	events, err := s.store.TriggerEventList(r.Context(), 200)
	if err != nil {
		return err
	}
	title := ""
	if incident != 0 && len(f.Kinds) == 1 && !f.From.IsZero() {
		title = fmt.Sprintf("Hate %s on %s", f.Kinds[0], f.From.Format("2 January 2006"))
	}
	s.render(w, r, "assessment_new.html", map[string]any{"Incident": incident, "Event": event, "Events": events,
		"Scale": s.opts.TensionScale, "Strands": s.opts.Strands, "Checked": f.Strands, "Title": title})
	return nil
}

// handleCreateAssessmentForm creates a draft from the form of the map's alert panel
// (alert_id alone: two clicks from the alert to its assessment) or of the new
// assessment page, and shows it.
func (s *Server) handleCreateAssessmentForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	in := &assessmentInput{}
	intField := func(name string) (*int64, error) {
		v := r.PostForm.Get(name)
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, geo.Errorf(geo.EINVALID, "%s: %q is not an id", name, v)
		}
		return &n, nil
	}
	var err error
	if in.AlertID, err = intField("alert_id"); err != nil {
		return err
	}
	if in.IncidentID, err = intField("incident_id"); err != nil {
		return err
	}
	if ev, err := intField("event_id"); err != nil {
		return err
	} else if ev != nil {
		in.EventIDs = &[]int64{*ev}
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"title", &in.Title}, {"trigger", &in.Trigger}, {"communities", &in.Communities}, {"tension_level", &in.TensionLevel}} {
		if v := r.PostForm.Get(f.name); v != "" {
			*f.dst = &v
		}
	}
	if in.AlertID == nil && in.Title == nil {
		return geo.Errorf(geo.EINVALID, "title: required")
	}
	if areas := formList(r, "areas"); len(areas) > 0 {
		in.Areas = &areas
	}
	if strands := r.PostForm["strands"]; len(strands) > 0 {
		in.Strands = &strands
	}
	if in.AlertID != nil {
		existing, err := s.store.Assessments(r.Context(), tension.AssessmentFilter{AlertID: *in.AlertID, Limit: 1})
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=exists", existing[0].ID), http.StatusSeeOther)
			return nil
		}
	}
	a, err := s.newAssessment(r.Context(), in)
	if err != nil {
		return err
	}
	if err := s.checkNewPlaces(r.Context(), access.PrincipalFrom(r.Context()), a); err != nil {
		return err
	}
	if err := s.store.CreateAssessment(r.Context(), a, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return err
	}
	s.forgetVersion()
	s.audit(r, "assessments.create", map[string]any{"id": a.ID, "alert_id": a.AlertID}, 1)
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=created", a.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) loadAssessment(r *http.Request) (*tension.Assessment, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.Assessment(r.Context(), id)
}

func (s *Server) handleAssessmentPage(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query(), "done").err(); err != nil {
		return err
	}
	a, err := s.loadAssessment(r)
	if err != nil {
		return err
	}
	if err := s.checkScope(r.Context(), access.PrincipalFrom(r.Context()), a, false); err != nil {
		return err
	}
	return s.assessmentPage(w, r, http.StatusOK, a, nil, "")
}

// formProblem re-renders the assessment page with the person's input kept and the
// problem said, for an error a person can fix; other errors go up.
func (s *Server) formProblem(w http.ResponseWriter, r *http.Request, id int64, form *tension.Assessment, err error) error {
	code := geo.ErrorCode(err)
	if code != geo.EINVALID && code != geo.ECONFLICT {
		return err
	}
	a, lerr := s.store.Assessment(r.Context(), id)
	if lerr != nil {
		return lerr
	}
	status := http.StatusBadRequest
	if code == geo.ECONFLICT {
		status = http.StatusConflict
	}
	return s.assessmentPage(w, r, status, a, form, geo.ErrorMessage(err))
}

func (s *Server) handleSaveAssessmentForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	a, err := s.loadAssessment(r)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	if err := s.checkScope(r.Context(), who, a, true); err != nil {
		return err
	}
	in, err := assessmentForm(r)
	if err != nil {
		return err
	}
	form := *a
	if in.Version != nil {
		form.Version = *in.Version
	}
	if err := in.apply(&form); err != nil {
		return s.formProblem(w, r, a.ID, &form, err)
	}
	if err := s.assessmentRules().Check(&form); err != nil {
		return s.formProblem(w, r, a.ID, &form, err)
	}
	if err := s.checkNewPlaces(r.Context(), who, &form); err != nil {
		return err
	}
	if _, err := s.store.UpdateAssessment(r.Context(), &form, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return s.formProblem(w, r, a.ID, &form, err)
	}
	s.audit(r, "assessments.update", map[string]any{"id": a.ID}, 1)
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=saved", a.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) handleMoveAssessmentForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	to, reason := r.PostForm.Get("to"), r.PostForm.Get("reason")
	if _, err := s.store.MoveAssessment(r.Context(), id, to, reason, version, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return s.formProblem(w, r, id, nil, err)
	}
	s.forgetVersion()
	s.audit(r, "assessments.status", map[string]any{"id": id, "to": to, "reason": reason}, 1)
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=status", id), http.StatusSeeOther)
	return nil
}

func (s *Server) handleAddActionForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	x, err := actionInput{Description: r.PostForm.Get("description"), Owner: r.PostForm.Get("owner"), Due: r.PostForm.Get("due")}.action()
	if err == nil {
		err = s.store.AddAction(r.Context(), id, x, access.PrincipalFrom(r.Context()).Actor())
	}
	if err != nil {
		return s.formProblem(w, r, id, nil, err)
	}
	s.audit(r, "assessments.action_add", map[string]any{"id": id, "action_id": x.ID}, 1)
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=action#actions", id), http.StatusSeeOther)
	return nil
}

func (s *Server) handleActionForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	aid, err := pathID(r, "action")
	if err != nil {
		return err
	}
	done := r.PostForm.Get("done") == "true"
	if err := s.store.SetActionDone(r.Context(), id, aid, done, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return s.formProblem(w, r, id, nil, err)
	}
	s.audit(r, "assessments.action_done", map[string]any{"id": id, "action_id": aid, "done": done}, 1)
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=actions#actions", id), http.StatusSeeOther)
	return nil
}

func (s *Server) handleLinkEventsForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	ids := func(name string) ([]int64, error) {
		var out []int64
		for _, v := range r.PostForm[name] {
			if v == "" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return nil, geo.Errorf(geo.EINVALID, "%s: %q is not an id", name, v)
			}
			out = append(out, n)
		}
		return out, nil
	}
	link, err := ids("link")
	if err != nil {
		return err
	}
	unlink, err := ids("unlink")
	if err != nil {
		return err
	}
	if len(link)+len(unlink) == 0 {
		return s.formProblem(w, r, id, nil, geo.Errorf(geo.EINVALID, "event: choose a trigger event"))
	}
	if err := s.store.LinkEvents(r.Context(), id, link, unlink, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return s.formProblem(w, r, id, nil, err)
	}
	s.audit(r, "assessments.events", map[string]any{"id": id, "link": link, "unlink": unlink}, 1)
	http.Redirect(w, r, fmt.Sprintf("/assessments/%d?done=events#events", id), http.StatusSeeOther)
	return nil
}

// Trigger event pages.

func (s *Server) handleEventsPage(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query(), "done").err(); err != nil {
		return err
	}
	return s.eventsPage(w, r, http.StatusOK, nil, "")
}

func (s *Server) eventsPage(w http.ResponseWriter, r *http.Request, status int, form *eventInput, problem string) error {
	list, err := s.store.TriggerEventList(r.Context(), 500)
	if err != nil {
		return err
	}
	if err := s.scopeLinks(r.Context(), access.PrincipalFrom(r.Context()), list); err != nil {
		return err
	}
	if form == nil {
		form = &eventInput{Day: s.opts.Now().Format(time.DateOnly), Scope: "local"}
	}
	who := access.PrincipalFrom(r.Context())
	data := map[string]any{"Events": list, "Form": form, "Problem": problem, "Strands": s.opts.Strands,
		"CanEdit": who.Is(access.AssessmentEditors...), "Scopes": []string{"local", "national", "international"}}
	if r.URL.Query().Get("done") == "created" {
		data["Message"] = "Trigger event recorded. The engine measures the rise after it on its next run."
	}
	s.renderStatus(w, r, status, "events.html", data)
	return nil
}

func (s *Server) handleCreateEventForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	in := eventInput{Day: r.PostForm.Get("day"), Scope: r.PostForm.Get("scope"), Description: r.PostForm.Get("description"), Strands: r.PostForm["strands"]}
	e, err := s.eventOf(in)
	if err != nil {
		return s.eventsPage(w, r, http.StatusBadRequest, &in, geo.ErrorMessage(err))
	}
	if err := s.store.CreateTriggerEvent(r.Context(), e, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return err
	}
	s.audit(r, "events.create", map[string]any{"id": e.ID, "day": in.Day, "scope": e.Scope}, 1)
	if s.opts.AfterIngest != nil {
		s.opts.AfterIngest()
	}
	http.Redirect(w, r, fmt.Sprintf("/events/%d", e.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) handleEventPage(w http.ResponseWriter, r *http.Request) error {
	e, err := s.loadTriggerEvent(r)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	if err := s.scopeLink(r.Context(), who, e); err != nil {
		return err
	}
	d := s.disclosureFor(who)
	daily, err := s.eventDaily(r.Context(), d, e)
	if err != nil {
		return err
	}
	lf := tension.AssessmentFilter{EventID: e.ID}
	scopeFilter(who, &lf)
	linked, err := s.store.Assessments(r.Context(), lf)
	if err != nil {
		return err
	}
	uplifts := eventUplifts(d, e)
	priorText := ""
	for _, u := range uplifts {
		for _, w := range u.Windows {
			if w.Prior != nil && priorText == "" {
				priorText = w.Prior.Text
			}
		}
	}
	s.render(w, r, "event.html", map[string]any{"E": e, "Uplifts": uplifts, "PriorText": priorText, "Daily": daily, "ChartSVG": eventChart(e, daily, d),
		"Assessments": linked, "CanEdit": who.Is(access.AssessmentEditors...), "Exact": d.exact})
	return nil
}
