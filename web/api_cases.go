package web

import (
	"context"
	"encoding/json"
	"errors"
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

// Victim cases. A police officer works police cases, a council officer council
// cases, a partner's token posts its own; an administrator sees every case but,
// not being the owning partner, none of its free text. The strategic group sees
// the figures only. Every read of a case is audited like a read of incidents.

// CaseOptions configure the cases: the working-day calendar, the standards and
// their targets, and the repeat rule. Zero values take the defaults of package
// cases (England and Wales in the service's zone, the default standards, 12 months).
type CaseOptions struct {
	Calendar  *cases.Calendar
	Standards cases.Standards
	Repeats   cases.RepeatRule
}

func (o *CaseOptions) defaults(loc *time.Location) {
	if o.Calendar == nil {
		if loc == nil {
			loc = time.UTC
		}
		o.Calendar = cases.DefaultCalendar(loc)
	}
	if o.Standards.FirstContactDays == 0 {
		t := o.Standards.Targets
		o.Standards = cases.DefaultStandards()
		if t != (cases.Targets{}) {
			o.Standards.Targets = t
		}
	}
	if o.Repeats.WindowMonths == 0 {
		o.Repeats = cases.DefaultRepeatRule()
	}
}

// CaseStore is what the cases need of the database.
type CaseStore interface {
	CreateCase(ctx context.Context, c *cases.Case, entries ...cases.HistoryEntry) error
	UpdateCase(ctx context.Context, c *cases.Case, entries ...cases.HistoryEntry) error
	Case(ctx context.Context, id int64) (*cases.Case, error)
	CaseByRef(ctx context.Context, partner, ref string) (*cases.Case, error)
	Cases(ctx context.Context, f cases.Filter) ([]*cases.Case, error)
	CasesForFigures(ctx context.Context, from, to time.Time) ([]*cases.Case, error)
	EraseVictim(ctx context.Context, victimKey, actor string, now time.Time) ([]int64, error)
	RepeatReports(ctx context.Context, from, to time.Time) ([]cases.Report, error)
	// ReportForCase names a stored report by its id: its source, reference and
	// victim key ("" when it names no victim).
	ReportForCase(ctx context.Context, incidentID int64) (source, ref, victimKey string, areas []string, err error)
	// ReportsInAreas says whether one of the reports lies in one of the areas.
	ReportsInAreas(ctx context.Context, refs []cases.ReportRef, areas []string) (bool, error)
}

// casePartner is the partner whose cases the caller works: police and council
// officers their own service's, a partner token its source; all is true for an
// administrator, who sees every partner's cases without their free text.
func casePartner(who *access.Principal) (partner string, all bool) {
	switch {
	case who == nil:
		return "", false
	case who.Role == access.Admin:
		return "", true
	case who.Role == access.Police:
		return "police", false
	case who.Role == access.Council:
		return "council", false
	case who.Role == access.Partner:
		return who.Source, false
	}
	return "", false
}

// ownsCase reports whether the caller is of the partner that owns a case: the
// only one who reads its free text.
func ownsCase(who *access.Principal, c *cases.Case) bool {
	p, _ := casePartner(who)
	return p != "" && p == c.Partner
}

// mayReadCase reports whether the caller may read a case at all.
func mayReadCase(who *access.Principal, c *cases.Case) bool {
	p, all := casePartner(who)
	return all || (p != "" && p == c.Partner)
}

// withoutText returns a copy of a case with its free text removed, for a reader
// who is not of the owning partner.
func withoutText(c *cases.Case) *cases.Case {
	d := c.Clone()
	for i := range d.Contacts {
		d.Contacts[i].Note = ""
	}
	for i := range d.Actions {
		d.Actions[i].Text = ""
	}
	if d.Closure != nil {
		d.Closure.Reason = ""
	}
	return d
}

func (s *Server) caseRules() cases.Rules {
	return cases.Rules{Partners: s.opts.Sources, Sources: s.opts.Sources, Calendar: s.opts.Cases.Calendar}
}

// caseJSON is a case as the API answers it: the record (without free text for
// a reader who is not the owning partner), what is due on it today, and whether
// the text is shown.
type caseJSON struct {
	*cases.Case
	Due       []cases.DueItem `json:"due"`
	TextShown bool            `json:"text_shown"`
}

func (s *Server) caseFor(who *access.Principal, c *cases.Case) caseJSON {
	owner := ownsCase(who, c)
	if !owner {
		c = withoutText(c)
	}
	today := s.opts.Cases.Calendar.Day(s.opts.Now())
	due := s.opts.Cases.Standards.Due(s.opts.Cases.Calendar, c, today)
	if due == nil {
		due = []cases.DueItem{}
	}
	return caseJSON{Case: c, Due: due, TextShown: owner}
}

// loadCase reads the case of the path's id and checks the caller may read it: a
// case of another partner, or for a police team scoped to areas a case with no
// report in them, is not found, so that its existence is not told.
func (s *Server) loadCase(r *http.Request) (*cases.Case, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, err := s.cases.Case(r.Context(), id)
	if err != nil {
		return nil, err
	}
	who := access.PrincipalFrom(r.Context())
	if !mayReadCase(who, c) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no such case")
	}
	if who.Scoped() { // a team scoped to areas: the cases following a report in them
		in, err := s.cases.Cases(r.Context(), cases.Filter{ID: c.ID, Areas: who.Areas, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(in) == 0 {
			return nil, geo.Errorf(geo.ENOTFOUND, "no such case")
		}
	}
	return c, nil
}

// editCase reads a case the caller may change (its owning partner's, or any for
// an administrator), applies a change through the rules and stores it with the
// entry, audited; it answers with the case.
func (s *Server) editCase(w http.ResponseWriter, r *http.Request, what string, change func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error)) error {
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	e, err := change(c, who.Actor(), s.opts.Now())
	if err != nil {
		return err
	}
	if err := s.cases.UpdateCase(r.Context(), c, e); err != nil {
		return err
	}
	s.audit(r, "cases."+what, map[string]any{"id": c.ID, "partner": c.Partner}, 1)
	c, err = s.cases.Case(r.Context(), c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": s.caseFor(who, c)})
	return nil
}

// when is a moment or a day in JSON: RFC 3339, or a date (2026-03-02) read as
// that day at noon in the service's zone, so that it falls on the day written.
type when struct{ time.Time }

func (t *when) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a date such as 2026-03-02 or a moment such as 2026-03-02T10:15:00Z")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	if v, err := time.Parse(time.RFC3339, s); err == nil {
		t.Time = v
		return nil
	}
	if v, err := time.Parse(time.DateOnly, s); err == nil {
		t.Time = time.Date(v.Year(), v.Month(), v.Day(), 12, 0, 0, 0, time.UTC)
		return nil
	}
	return fmt.Errorf("%q is not a date such as 2026-03-02 or a moment such as 2026-03-02T10:15:00Z", s)
}

// inZone puts a day written without a time at noon in the zone.
func inZone(t when, loc *time.Location) time.Time {
	v := t.Time
	if v.IsZero() || loc == nil {
		return v
	}
	if v.Location() == time.UTC && v.Hour() == 12 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
		return time.Date(v.Year(), v.Month(), v.Day(), 12, 0, 0, 0, loc)
	}
	return v
}

func (s *Server) at(t when, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return inZone(t, s.opts.Location)
}

// caseInput is a case as a person opens it, or a partner system posts it whole.
type caseInput struct {
	Partner        string            `json:"partner"`
	Ref            string            `json:"ref"`
	VictimKey      string            `json:"victim_key"`
	Reports        []cases.ReportRef `json:"reports"`
	Officer        int64             `json:"officer"`
	OpenedAt       when              `json:"opened_at"`
	FirstContactAt when              `json:"first_contact_at"`
	VictimsCodeAt  when              `json:"victims_code_at"`
	Risk           string            `json:"risk"`
	Referral       bool              `json:"referral"`
	Actions        []struct {
		Text   string `json:"text"`
		Owner  string `json:"owner"`
		Due    when   `json:"due"`
		DoneAt when   `json:"done_at"`
	} `json:"actions"`
	Contacts []struct {
		At   when   `json:"at"`
		How  string `json:"how"`
		By   string `json:"by"`
		Note string `json:"note"`
	} `json:"contacts"`
	Closure *struct {
		At      when   `json:"at"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	} `json:"closure"`
	Survey *surveyInput `json:"survey"`
}

type surveyInput struct {
	At                when `json:"at"`
	SatisfiedOutcome  bool `json:"satisfied_outcome"`
	SatisfiedHandling bool `json:"satisfied_handling"`
	Declined          bool `json:"declined"`
}

func (in *surveyInput) survey(s *Server, now time.Time) cases.Survey {
	return cases.Survey{At: s.at(in.At, now), SatisfiedOutcome: in.SatisfiedOutcome && !in.Declined,
		SatisfiedHandling: in.SatisfiedHandling && !in.Declined, Declined: in.Declined}
}

func (s *Server) caseOf(in *caseInput, now time.Time) *cases.Case {
	loc := s.opts.Location
	c := &cases.Case{Partner: strings.TrimSpace(in.Partner), Ref: strings.TrimSpace(in.Ref), VictimKey: strings.ToLower(strings.TrimSpace(in.VictimKey)),
		Reports: slices.Clone(in.Reports), Officer: in.Officer, OpenedAt: s.at(in.OpenedAt, now), FirstContactAt: inZone(in.FirstContactAt, loc),
		VictimsCodeAt: inZone(in.VictimsCodeAt, loc), Risk: strings.TrimSpace(in.Risk), Referral: in.Referral,
		Actions: []cases.Action{}, Contacts: []cases.Contact{}}
	if c.Reports == nil {
		c.Reports = []cases.ReportRef{}
	}
	if c.Risk == "" {
		c.Risk = cases.RiskStandard
	}
	for _, a := range in.Actions {
		c.Actions = append(c.Actions, cases.Action{Text: strings.TrimSpace(a.Text), Owner: strings.TrimSpace(a.Owner), Due: geo.Day(a.Due.Time),
			DoneAt: inZone(a.DoneAt, loc)})
	}
	for _, x := range in.Contacts {
		c.Contacts = append(c.Contacts, cases.Contact{At: inZone(x.At, loc), How: strings.TrimSpace(x.How), By: strings.TrimSpace(x.By),
			Note: strings.TrimSpace(x.Note)})
	}
	slices.SortStableFunc(c.Contacts, func(a, b cases.Contact) int { return a.At.Compare(b.At) })
	if c.FirstContactAt.IsZero() && len(c.Contacts) > 0 {
		c.FirstContactAt = c.Contacts[0].At
	}
	if in.Closure != nil {
		c.Closure = &cases.Closure{At: inZone(in.Closure.At, loc), Outcome: strings.TrimSpace(in.Closure.Outcome), Reason: strings.TrimSpace(in.Closure.Reason)}
	}
	if in.Survey != nil {
		sv := in.Survey.survey(s, time.Time{})
		c.Survey = &sv
	}
	return c
}

// checkOfficer returns an EINVALID error when an officer id is not a user who may
// work the partner's cases.
func (s *Server) checkOfficer(ctx context.Context, id int64, partner string) error {
	if id == 0 {
		return nil
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil || u.Disabled {
		return geo.Errorf(geo.EINVALID, "officer: %d is not a user", id)
	}
	p, all := casePartner(access.FromUser(u))
	if !all && p != partner {
		return geo.Errorf(geo.EINVALID, "officer: %s (%s) does not work %s cases", u.Username, u.Role, words(partner))
	}
	return nil
}

// checkCaseScope returns an EFORBIDDEN error when a police team scoped to areas would
// open or keep a case that follows no report in them: such a case would be one the
// team cannot see, and the areas are what it works.
func (s *Server) checkCaseScope(ctx context.Context, who *access.Principal, reports []cases.ReportRef) error {
	if !who.Scoped() {
		return nil
	}
	in, err := s.cases.ReportsInAreas(ctx, reports, who.Areas)
	if err != nil {
		return err
	}
	if !in {
		return geo.Errorf(geo.EFORBIDDEN, "reports: your team covers %s; a case you open follows at least one report there, and none of these lies in them",
			strings.Join(who.Areas, ", "))
	}
	return nil
}

// handleCreateCase answers POST /api/v1/cases: a person opens a case of their
// partner (an administrator names the partner).
func (s *Server) handleCreateCase(w http.ResponseWriter, r *http.Request) error {
	var in caseInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	now := s.opts.Now()
	c := s.caseOf(&in, now)
	p, all := casePartner(who)
	switch {
	case !all && c.Partner == "":
		c.Partner = p
	case !all && c.Partner != p:
		return geo.Errorf(geo.EFORBIDDEN, "partner: you open %s cases, not %s cases", words(p), words(c.Partner))
	}
	if c.Officer == 0 && who.UserID != 0 && !all {
		c.Officer = who.UserID
	}
	if err := s.checkOfficer(r.Context(), c.Officer, c.Partner); err != nil {
		return err
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
	writeJSON(w, http.StatusCreated, map[string]any{"case": s.caseFor(who, c)})
	return nil
}

// handleCase answers GET /api/v1/cases/{id}; the read is audited.
func (s *Server) handleCase(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	out := s.caseFor(who, c)
	if err := s.auditErr(r, "cases.read", map[string]any{"id": c.ID, "partner": c.Partner, "text": out.TextShown}, 1); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": out})
	return nil
}

// handleCases answers GET /api/v1/cases: the caller's partner's cases (every
// partner's for an administrator), with what is due on each.
func (s *Server) handleCases(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "mine", "open", "limit")
	mine, open := q.single("mine") == "true", q.single("open") == "true"
	limit := q.intIn("limit", 500, 1, 5000)
	if err := q.err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	list, err := s.caseList(r.Context(), who, mine, open, limit, false)
	if err != nil {
		return err
	}
	out := make([]caseJSON, 0, len(list))
	for _, c := range list {
		out = append(out, s.caseFor(who, c))
	}
	if err := s.auditErr(r, "cases.list", map[string]any{"mine": mine, "open": open}, int64(len(out))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out})
	return nil
}

func (s *Server) caseList(ctx context.Context, who *access.Principal, mine, open bool, limit int, unassigned bool) ([]*cases.Case, error) {
	p, all := casePartner(who)
	f := cases.Filter{Open: open, Limit: limit}
	if !all {
		if p == "" {
			return nil, geo.Errorf(geo.EFORBIDDEN, "your role (%s) sees the figures of cases, not cases", who.Role)
		}
		f.Partners = []string{p}
	}
	if mine {
		f.Officer, f.OrUnassigned = who.UserID, unassigned
	}
	if who.Scoped() {
		f.Areas = who.Areas
	}
	return s.cases.Cases(ctx, f)
}

// contactInput is a contact with the complainant.
type contactInput struct {
	At   when   `json:"at"`
	How  string `json:"how"`
	By   string `json:"by"`
	Note string `json:"note"`
}

func (s *Server) handleAddContact(w http.ResponseWriter, r *http.Request) error {
	var in contactInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	return s.editCase(w, r, "contact_add", func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error) {
		by := in.By
		if strings.TrimSpace(by) == "" {
			by = access.PrincipalFrom(r.Context()).Name
		}
		return s.caseRules().AddContact(c, cases.Contact{At: s.at(in.At, now), How: in.How, By: by, Note: in.Note}, actor, now)
	})
}

type caseActionInput struct {
	Text  string `json:"text"`
	Owner string `json:"owner"`
	Due   when   `json:"due"`
}

func (s *Server) handleAddCaseAction(w http.ResponseWriter, r *http.Request) error {
	var in caseActionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	return s.editCase(w, r, "action_add", func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error) {
		return s.caseRules().AddAction(c, cases.Action{Text: in.Text, Owner: in.Owner, Due: geo.Day(in.Due.Time)}, actor, now)
	})
}

func (s *Server) handleCaseActionDone(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	if err != nil || n < 1 {
		return geo.Errorf(geo.EINVALID, "action: %q is not an action's number", chi.URLParam(r, "n"))
	}
	var in struct {
		Done bool `json:"done"`
		At   when `json:"at"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	return s.editCase(w, r, "action_done", func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error) {
		at := time.Time{}
		if in.Done {
			at = s.at(in.At, now)
		}
		return s.caseRules().SetActionDone(c, n, at, actor, now)
	})
}

// caseEditInput changes the editable fields named; absent ones stay.
type caseEditInput struct {
	Officer        *int64             `json:"officer"`
	Risk           *string            `json:"risk"`
	Referral       *bool              `json:"referral"`
	FirstContactAt *when              `json:"first_contact_at"`
	VictimsCodeAt  *when              `json:"victims_code_at"`
	Reports        *[]cases.ReportRef `json:"reports"`
}

func (s *Server) handleEditCase(w http.ResponseWriter, r *http.Request) error {
	var in caseEditInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	return s.editCase(w, r, "edit", func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error) {
		next := c.Clone()
		if in.Officer != nil {
			if err := s.checkOfficer(r.Context(), *in.Officer, c.Partner); err != nil {
				return cases.HistoryEntry{}, err
			}
			next.Officer = *in.Officer
		}
		if in.Risk != nil {
			next.Risk = strings.TrimSpace(*in.Risk)
		}
		if in.Referral != nil {
			next.Referral = *in.Referral
		}
		if in.FirstContactAt != nil {
			next.FirstContactAt = inZone(*in.FirstContactAt, s.opts.Location)
		}
		if in.VictimsCodeAt != nil {
			next.VictimsCodeAt = s.at(*in.VictimsCodeAt, time.Time{})
		}
		if in.Reports != nil {
			next.Reports = slices.Clone(*in.Reports)
			if err := s.checkCaseScope(r.Context(), access.PrincipalFrom(r.Context()), next.Reports); err != nil {
				return cases.HistoryEntry{}, err
			}
		}
		return s.caseRules().Edit(c, next, actor, now)
	})
}

type closeInput struct {
	At      when   `json:"at"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

func (s *Server) handleCloseCase(w http.ResponseWriter, r *http.Request) error {
	var in closeInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	return s.editCase(w, r, "close", func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error) {
		return s.caseRules().Close(c, cases.Closure{At: s.at(in.At, now), Outcome: strings.TrimSpace(in.Outcome), Reason: in.Reason}, actor, now)
	})
}

func (s *Server) handleSurveyCase(w http.ResponseWriter, r *http.Request) error {
	var in surveyInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	return s.editCase(w, r, "survey", func(c *cases.Case, actor string, now time.Time) (cases.HistoryEntry, error) {
		return s.caseRules().RecordSurvey(c, in.survey(s, now), actor, now)
	})
}

// handleEraseVictim answers POST /api/v1/cases/erase: a complainant's request to
// have their free text removed, by victim key. Every case of theirs keeps its
// dates, outcomes and answers, so the figures stay; the erasure is audited.
func (s *Server) handleEraseVictim(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		VictimKey string `json:"victim_key"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	key := strings.ToLower(strings.TrimSpace(in.VictimKey))
	if !cases.IsVictimKey(key) {
		return geo.Errorf(geo.EINVALID, "victim_key: want the 32 hexadecimal digits of the complainant's pseudonym")
	}
	ids, err := s.cases.EraseVictim(r.Context(), key, access.PrincipalFrom(r.Context()).Actor(), s.opts.Now())
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []int64{}
	}
	if err := s.auditErr(r, "cases.erase", map[string]any{"cases": ids}, int64(len(ids))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"erased": ids})
	return nil
}

// maxIntakeCases bounds the cases of one intake request.
const maxIntakeCases = 1000

type caseRejection struct {
	Index  int    `json:"index"` // from 1
	Ref    string `json:"ref"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// handleCaseIntake answers POST /api/v1/cases/intake: a partner system posts its
// cases whole, as a JSON array. A partner token writes its own partner's cases
// only. Each case is keyed by the partner's reference: a new one is opened, a
// known one updated to what is posted (its officer and any erasure kept), and one
// posted again unchanged is left as it is, so posting twice is harmless. A bad
// case is rejected with its number, field and reason and the others are kept.
func (s *Server) handleCaseIntake(w http.ResponseWriter, r *http.Request) error {
	who := access.PrincipalFrom(r.Context())
	if who.Role == access.Partner && who.Source == "" {
		return geo.Errorf(geo.EFORBIDDEN, "a partner posts cases with an API token bound to its source")
	}
	dec := json.NewDecoder(r.Body)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return geo.Errorf(geo.EINVALID, "the body is not a JSON array of cases")
	}
	sum := map[string]int{"created": 0, "updated": 0, "unchanged": 0}
	rejected := []caseRejection{}
	for i := 1; dec.More(); i++ {
		if i > maxIntakeCases {
			return geo.Errorf(geo.EINVALID, "at most %d cases a request", maxIntakeCases)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return err
			}
			return geo.Errorf(geo.EINVALID, "case %d: not JSON: %v", i, err)
		}
		var in caseInput
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.DisallowUnknownFields()
		if err := d.Decode(&in); err != nil {
			rejected = append(rejected, caseRejection{Index: i, Field: "record", Reason: err.Error()})
			continue
		}
		what, err := s.intakeCase(r.Context(), who, &in)
		if err != nil {
			if geo.ErrorCode(err) == geo.EINTERNAL || geo.ErrorCode(err) == geo.EUNAVAILABLE {
				return err
			}
			field, reason := splitField(geo.ErrorMessage(err))
			rejected = append(rejected, caseRejection{Index: i, Ref: in.Ref, Field: field, Reason: reason})
			continue
		}
		sum[what]++
	}
	s.audit(r, "cases.intake", map[string]any{"created": sum["created"], "updated": sum["updated"], "unchanged": sum["unchanged"],
		"rejected": len(rejected), "source": who.Source}, int64(sum["created"]+sum["updated"]))
	writeJSON(w, http.StatusOK, map[string]any{"created": sum["created"], "updated": sum["updated"], "unchanged": sum["unchanged"],
		"rejected": rejected})
	return nil
}

// splitField splits "field: reason" into its parts.
func splitField(msg string) (string, string) {
	if f, reason, ok := strings.Cut(msg, ": "); ok && len(f) < 40 {
		return f, reason
	}
	return "record", msg
}

// intakeCase stores one posted case; it says whether it was created, updated or
// unchanged.
func (s *Server) intakeCase(ctx context.Context, who *access.Principal, in *caseInput) (string, error) {
	now := s.opts.Now()
	if in.OpenedAt.IsZero() {
		return "", geo.Errorf(geo.EINVALID, "opened_at: required")
	}
	c := s.caseOf(in, now)
	if who.Source != "" {
		if c.Partner != "" && c.Partner != who.Source {
			return "", geo.Errorf(geo.EFORBIDDEN, "partner: this token posts %s cases, not %s", words(who.Source), words(c.Partner))
		}
		c.Partner = who.Source
	}
	if c.Officer != 0 {
		return "", geo.Errorf(geo.EINVALID, "officer: a partner system does not assign the service's users; leave it out")
	}
	rules := s.caseRules()
	for attempt := 0; ; attempt++ {
		old, err := s.cases.CaseByRef(ctx, c.Partner, c.Ref)
		if geo.ErrorCode(err) == geo.ENOTFOUND {
			e, err := rules.Open(c, who.Actor(), now)
			if err != nil {
				return "", err
			}
			err = s.cases.CreateCase(ctx, c, e)
			if geo.ErrorCode(err) == geo.ECONFLICT && attempt == 0 {
				continue // posted at the same moment by another request: update it
			}
			return "created", err
		}
		if err != nil {
			return "", err
		}
		if old.VictimKey != c.VictimKey {
			return "", geo.Errorf(geo.EINVALID, "victim_key: case %s is stored for another complainant; a case keeps its complainant", c.Ref)
		}
		next := old.Clone()
		next.Reports, next.OpenedAt, next.FirstContactAt, next.VictimsCodeAt = c.Reports, c.OpenedAt, c.FirstContactAt, c.VictimsCodeAt
		next.Risk, next.Referral, next.Actions, next.Contacts, next.Closure, next.Survey = c.Risk, c.Referral, c.Actions, c.Contacts, c.Closure, c.Survey
		if !old.ErasedAt.IsZero() {
			cases.Erase(next, "", old.ErasedAt) // the complainant asked: their text is not taken back in
			next.ErasedAt = old.ErasedAt
		}
		if sameRecord(old, next) {
			return "unchanged", nil
		}
		if err := rules.Check(next, s.opts.Cases.Calendar.Day(now)); err != nil {
			return "", err
		}
		ch := cases.Changes(old, next)
		for k, v := range map[string]any{"contacts": len(next.Contacts), "actions": len(next.Actions), "outcome": next.Outcome(),
			"surveyed": next.Survey != nil} {
			ch[k] = v
		}
		err = s.cases.UpdateCase(ctx, next, cases.HistoryEntry{At: now, Actor: who.Actor(), Action: cases.ActEdited, Changes: ch})
		if geo.ErrorCode(err) == geo.ECONFLICT && attempt == 0 {
			continue
		}
		return "updated", err
	}
}

// sameRecord reports whether two versions of a case hold the same record.
func sameRecord(a, b *cases.Case) bool {
	x, y := a.Clone(), b.Clone()
	for _, c := range []*cases.Case{x, y} {
		c.ID, c.Version, c.CreatedAt, c.UpdatedAt, c.History = 0, 0, time.Time{}, time.Time{}, nil
	}
	jx, _ := json.Marshal(x)
	jy, _ := json.Marshal(y)
	var mx, my any
	json.Unmarshal(jx, &mx)
	json.Unmarshal(jy, &my)
	return fmt.Sprint(normTimes(mx)) == fmt.Sprint(normTimes(my))
}

// normTimes writes every RFC 3339 moment of a JSON tree in UTC, so that the same
// instant read back from the database compares equal.
func normTimes(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normTimes(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normTimes(x)
		}
	case string:
		if tm, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return tm.UTC().Format(time.RFC3339Nano)
		}
	}
	return v
}

// caseRoutes registers the routes of cases, when the store keeps them.
func (s *Server) caseRoutes() {
	if s.cases == nil {
		return
	}
	w := allow(access.CaseWorkers...)
	s.handle("GET", "/api/v1/cases", w, s.handleCases)
	s.handle("POST", "/api/v1/cases", w, s.handleCreateCase, withBody(64<<10))
	s.handle("POST", "/api/v1/cases/intake", allow(access.CaseIntake...), s.handleCaseIntake, withBody(8<<20))
	s.handle("POST", "/api/v1/cases/erase", allow(access.Admins...), s.handleEraseVictim, withBody(16<<10))
	s.handle("GET", "/api/v1/cases/figures", allow(access.Readers...), s.handleCaseFigures)
	s.handle("GET", "/api/v1/cases/{id}", w, s.handleCase)
	s.handle("PATCH", "/api/v1/cases/{id}", w, s.handleEditCase, withBody(64<<10))
	s.handle("POST", "/api/v1/cases/{id}/contacts", w, s.handleAddContact, withBody(16<<10))
	s.handle("POST", "/api/v1/cases/{id}/actions", w, s.handleAddCaseAction, withBody(16<<10))
	s.handle("POST", "/api/v1/cases/{id}/actions/{n}", w, s.handleCaseActionDone, withBody(16<<10))
	s.handle("POST", "/api/v1/cases/{id}/close", w, s.handleCloseCase, withBody(16<<10))
	s.handle("POST", "/api/v1/cases/{id}/survey", w, s.handleSurveyCase, withBody(16<<10))
	s.handle("GET", "/api/v1/worklist", w, s.handleWorklist)
	s.handle("GET", "/api/v1/repeats", w, s.handleRepeats)
	s.casePages()
}

// caseOpenAPI describes the routes of cases.
func caseOpenAPI(paths obj) {
	moment := obj{"type": "string", "description": "a moment (RFC 3339) or a day (2026-03-02)"}
	caseResp := func(codes ...string) obj {
		return merge(obj{"200": jsonResponse("the case, without free text for a reader not of the owning partner, with what is due on it",
			obj{"type": "object", "properties": obj{"case": obj{"type": "object"}}})}, errorResponses(codes...))
	}
	body := func(required []string, props obj) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": required, "properties": props}}}}
	}
	id := param("id", "path", "", integer, true)
	caseProps := obj{"partner": str, "ref": str, "victim_key": obj{"type": "string", "description": "32 hexadecimal digits: the complainant's pseudonym, never a name"},
		"reports": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"source": str, "ref": str}}}, "officer": integer,
		"opened_at": moment, "first_contact_at": moment, "victims_code_at": moment, "risk": obj{"type": "string", "enum": cases.RiskLevels},
		"referral": obj{"type": "boolean"}}
	paths["/api/v1/cases"] = obj{
		"get": obj{"summary": "The caller's partner's cases (police: police cases, council: council cases; admin: every partner's without free text), each with what is due; audited",
			"parameters": []any{param("mine", "query", "true: the caller's own cases only", str, false), param("open", "query", "true: open cases only", str, false),
				param("limit", "query", "", integer, false)},
			"responses": merge(obj{"200": jsonResponse("cases", obj{"type": "object", "properties": obj{"cases": obj{"type": "array", "items": obj{"type": "object"}}}})}, errorResponses("400", "401", "403"))},
		"post": obj{"summary": "Open a case of the caller's partner; the caller is its officer unless another is named. A police team scoped to areas opens cases that follow at least one report in them (403 otherwise)",
			"requestBody": body([]string{"ref", "victim_key"}, caseProps),
			"responses":   merge(obj{"201": jsonResponse("the case", obj{"type": "object"})}, errorResponses("400", "401", "403", "409"))}}
	paths["/api/v1/cases/intake"] = obj{"post": obj{"summary": "A partner system posts its cases whole (a JSON array, at most 1,000); keyed by the partner's reference: new ones are opened, changed ones updated, unchanged ones left; each bad case rejected by number, field and reason",
		"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "array", "items": obj{"type": "object", "properties": merge(caseProps, obj{
			"actions": obj{"type": "array", "items": obj{"type": "object"}}, "contacts": obj{"type": "array", "items": obj{"type": "object"}},
			"closure": obj{"type": "object"}, "survey": obj{"type": "object"}})}}}}},
		"responses": merge(obj{"200": jsonResponse("what was done", obj{"type": "object", "properties": obj{"created": integer, "updated": integer, "unchanged": integer,
			"rejected": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"index": integer, "ref": str, "field": str, "reason": str}}}}})},
			errorResponses("400", "401", "403", "413"))}}
	paths["/api/v1/cases/erase"] = obj{"post": obj{"summary": "Erase a complainant's free text on their request (admin): contact notes, action text and closure reasons of every case of the victim key; dates, outcomes and answers stay; audited",
		"requestBody": body([]string{"victim_key"}, obj{"victim_key": str}),
		"responses":   merge(obj{"200": jsonResponse("the cases erased", obj{"type": "object", "properties": obj{"erased": obj{"type": "array", "items": integer}}})}, errorResponses("400", "401", "403"))}}
	paths["/api/v1/cases/figures"] = obj{"get": obj{"summary": "The service standards of a period and a year earlier, per partner, against their targets; for strategic users counts perturbed, shares from the true counts rounded to 5 points and withheld under 20 cases (share_withheld), no number met",
		"parameters": []any{param("preset", "query", "quarter, year, ytd, custom", str, false), param("from", "query", "", day, false), param("to", "query", "", day, false)},
		"responses":  merge(obj{"200": jsonResponse("the standards", obj{"type": "object", "properties": obj{"standards": obj{"type": "object"}}})}, errorResponses("400", "401", "403"))}}
	paths["/api/v1/cases/{id}"] = obj{
		"get": obj{"summary": "A case with its history and what is due; audited", "parameters": []any{id}, "responses": caseResp("400", "401", "403", "404")},
		"patch": obj{"summary": "Change a case's officer, risk, referral, first contact, Victims' Code offer or reports", "parameters": []any{id},
			"requestBody": body(nil, obj{"officer": integer, "risk": str, "referral": obj{"type": "boolean"}, "first_contact_at": moment, "victims_code_at": moment,
				"reports": obj{"type": "array", "items": obj{"type": "object"}}}),
			"responses": caseResp("400", "401", "403", "404", "409")}}
	paths["/api/v1/cases/{id}/contacts"] = obj{"post": obj{"summary": "Record a contact with the complainant", "parameters": []any{id},
		"requestBody": body([]string{"how"}, obj{"at": moment, "how": obj{"type": "string", "enum": cases.ContactWays}, "by": str, "note": str}),
		"responses":   caseResp("400", "401", "403", "404", "409")}}
	paths["/api/v1/cases/{id}/actions"] = obj{"post": obj{"summary": "Add an item to a case's action plan", "parameters": []any{id},
		"requestBody": body([]string{"text", "owner", "due"}, obj{"text": str, "owner": str, "due": day}),
		"responses":   caseResp("400", "401", "403", "404", "409")}}
	paths["/api/v1/cases/{id}/actions/{n}"] = obj{"post": obj{"summary": "Mark action n (from 1) done, or not done", "parameters": []any{id, param("n", "path", "", integer, true)},
		"requestBody": body([]string{"done"}, obj{"done": obj{"type": "boolean"}, "at": moment}),
		"responses":   caseResp("400", "401", "403", "404", "409")}}
	paths["/api/v1/cases/{id}/close"] = obj{"post": obj{"summary": "Close a case: resolved, not resolved or withdrawn, with a reason unless resolved", "parameters": []any{id},
		"requestBody": body([]string{"outcome"}, obj{"at": moment, "outcome": obj{"type": "string", "enum": cases.Outcomes}, "reason": str}),
		"responses":   caseResp("400", "401", "403", "404", "409")}}
	paths["/api/v1/cases/{id}/survey"] = obj{"post": obj{"summary": "Record the satisfaction survey after closure, or that the complainant declined it", "parameters": []any{id},
		"requestBody": body(nil, obj{"at": moment, "satisfied_outcome": obj{"type": "boolean"}, "satisfied_handling": obj{"type": "boolean"}, "declined": obj{"type": "boolean"}}),
		"responses":   caseResp("400", "401", "403", "404", "409")}}
	paths["/api/v1/worklist"] = obj{"get": obj{"summary": "The caller's cases with something due, earliest first, and the repeat victims of their partner without an open case; audited",
		"parameters": []any{param("all", "query", "true: every case of the caller's partner", str, false)},
		"responses":  merge(obj{"200": jsonResponse("the worklist", obj{"type": "object", "properties": obj{"worklist": obj{"type": "object"}}})}, errorResponses("400", "401", "403"))}}
	paths["/api/v1/repeats"] = obj{"get": obj{"summary": "Repeat victims or offenders of the caller's partner's reports: two reports or more in the window (12 months) ending on a day, with strands, areas and whether a case is open; audited",
		"parameters": []any{param("who", "query", "victim (default) or offender", str, false), param("as_of", "query", "the window's last day; today by default", day, false)},
		"responses":  merge(obj{"200": jsonResponse("repeats", obj{"type": "object", "properties": obj{"from": day, "to": day, "repeats": obj{"type": "array", "items": obj{"type": "object"}}}})}, errorResponses("400", "401", "403"))}}
}
