package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// assessmentInput is an assessment's fields as a person sends them: on creation
// every field is optional (an alert fills what is missing); on a change only the
// fields present are replaced.
type assessmentInput struct {
	Version      *int                    `json:"version"`
	AlertID      *int64                  `json:"alert_id"`
	IncidentID   *int64                  `json:"incident_id"`
	EventIDs     *[]int64                `json:"event_ids"`
	Title        *string                 `json:"title"`
	TriggerKind  *string                 `json:"trigger_kind"`
	Trigger      *string                 `json:"trigger"`
	AreaLevel    *string                 `json:"area_level"`
	Areas        *[]string               `json:"areas"`
	Strands      *[]string               `json:"strands"`
	Communities  *string                 `json:"communities"`
	TensionLevel *string                 `json:"tension_level"`
	Summary      *string                 `json:"summary"`
	Intelligence *[]tension.Intelligence `json:"intelligence"`
	Risks        *[]tension.Risk         `json:"risks"`
	Partners     *[]string               `json:"partners"`
	ReviewDate   *string                 `json:"review_date"`
	BBox         *[]float64              `json:"bbox"`
}

// apply copies the fields present onto a.
func (in *assessmentInput) apply(a *tension.Assessment) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&a.Title, in.Title)
	set(&a.Trigger, in.Trigger)
	set(&a.AreaLevel, in.AreaLevel)
	set(&a.Communities, in.Communities)
	set(&a.TensionLevel, in.TensionLevel)
	set(&a.Summary, in.Summary)
	if in.TriggerKind != nil {
		a.TriggerKind = *in.TriggerKind
	}
	if in.Areas != nil {
		a.Areas = cleanList(*in.Areas)
	}
	if in.Strands != nil {
		a.Strands = cleanList(*in.Strands)
		for i, st := range a.Strands {
			a.Strands[i] = geo.NormaliseName(st)
		}
	}
	if in.Partners != nil {
		a.Partners = cleanList(*in.Partners)
	}
	if in.Intelligence != nil {
		a.Intelligence = *in.Intelligence
	}
	if in.Risks != nil {
		a.Risks = *in.Risks
	}
	if in.BBox != nil {
		a.BBox = *in.BBox
	}
	if in.ReviewDate != nil {
		if *in.ReviewDate == "" {
			a.ReviewDate = time.Time{}
		} else {
			d, err := time.Parse(time.DateOnly, *in.ReviewDate)
			if err != nil {
				return geo.Errorf(geo.EINVALID, "review_date: %q is not a day such as 2026-07-01", *in.ReviewDate)
			}
			a.ReviewDate = d
		}
	}
	return nil
}

// cleanList trims the items of a list and drops the empty ones and the repeats.
func cleanList(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (s *Server) assessmentRules() tension.AssessmentRules {
	return tension.AssessmentRules{Scale: s.opts.TensionScale, Strands: s.opts.Strands}
}

// newAssessment builds an assessment from a person's input: from an alert (its
// draft, with the input over it) or from scratch.
func (s *Server) newAssessment(ctx context.Context, in *assessmentInput) (*tension.Assessment, error) {
	a := &tension.Assessment{TriggerKind: tension.TriggerKindOther}
	if in.AlertID != nil {
		al, err := s.store.Alert(ctx, *in.AlertID)
		if geo.ErrorCode(err) == geo.ENOTFOUND {
			return nil, geo.Errorf(geo.EINVALID, "alert_id: no alert %d", *in.AlertID)
		} else if err != nil {
			return nil, err
		}
		names, err := s.store.AreaNames(ctx, al.Areas)
		if err != nil {
			return nil, err
		}
		a = tension.DraftFromAlert(al.ID, &al.Alert, names)
	}
	if in.IncidentID != nil {
		a.IncidentID = *in.IncidentID
		if in.AlertID == nil {
			a.TriggerKind = tension.TriggerKindIncident
		}
	}
	if in.EventIDs != nil {
		a.EventIDs = *in.EventIDs
		if in.AlertID == nil && in.IncidentID == nil {
			a.TriggerKind = tension.TriggerKindEvent
		}
	}
	if err := in.apply(a); err != nil {
		return nil, err
	}
	if len(a.BBox) == 0 && len(a.Areas) > 0 {
		a.BBox = s.areasBBox(ctx, a.Areas)
	}
	if err := s.assessmentRules().Check(a); err != nil {
		return nil, err
	}
	return a, nil
}

// areasBBox is the bound of areas by code; nil when none is known.
func (s *Server) areasBBox(ctx context.Context, codes []string) []float64 {
	bounds, err := s.areaBounds(ctx)
	if err != nil {
		return nil
	}
	var out []float64
	for _, c := range codes {
		b, ok := bounds[c]
		if !ok {
			continue
		}
		if out == nil {
			out = []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		} else {
			out = []float64{min(out[0], b.Min[0]), min(out[1], b.Min[1]), max(out[2], b.Max[0]), max(out[3], b.Max[1])}
		}
	}
	return out
}

// assessmentSummary is what every reader of assessments sees, strategic users
// included: what it is about, where, how tense, where it stands, and how its
// actions are going; no intelligence, risks, evidence or names.
type assessmentSummary struct {
	ID             int64     `json:"id"`
	Title          string    `json:"title"`
	Status         string    `json:"status"`
	TriggerKind    string    `json:"trigger_kind"`
	TensionLevel   string    `json:"tension_level"`
	AlertID        int64     `json:"alert_id,omitempty"`
	EventIDs       []int64   `json:"event_ids"`
	AreaLevel      string    `json:"area_level,omitempty"`
	Areas          []string  `json:"areas"`
	Strands        []string  `json:"strands"`
	CreatedAt      time.Time `json:"created_at"`
	OpenedAt       *string   `json:"opened_at"`
	ClosedAt       *string   `json:"closed_at"`
	ReviewDate     *string   `json:"review_date"`
	ReviewOverdue  bool      `json:"review_overdue"`
	Actions        int       `json:"actions"`
	ActionsDone    int       `json:"actions_done"`
	ActionsOverdue int       `json:"actions_overdue"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func optDay(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

func (s *Server) summaryOf(a *tension.Assessment) assessmentSummary {
	today := s.opts.Now()
	out := assessmentSummary{ID: a.ID, Title: a.Title, Status: a.Status, TriggerKind: a.TriggerKind, TensionLevel: a.TensionLevel,
		AlertID: a.AlertID, EventIDs: a.EventIDs, AreaLevel: a.AreaLevel, Areas: a.Areas, Strands: a.Strands, CreatedAt: a.CreatedAt,
		OpenedAt: optDay(a.OpenedAt), ClosedAt: optDay(a.ClosedAt), ReviewDate: optDay(a.ReviewDate), ReviewOverdue: a.ReviewOverdue(today),
		Actions: len(a.Actions), ActionsOverdue: len(a.OverdueActions(today)), UpdatedAt: a.UpdatedAt}
	for _, x := range a.Actions {
		if x.Done {
			out.ActionsDone++
		}
	}
	return out
}

// assessmentJSON is the whole record, for the roles that work on assessments.
type assessmentJSON struct {
	assessmentSummary
	Trigger      string                 `json:"trigger"`
	IncidentID   int64                  `json:"incident_id,omitempty"`
	Communities  string                 `json:"communities"`
	Summary      string                 `json:"summary"`
	Intelligence []tension.Intelligence `json:"intelligence"`
	Risks        []tension.Risk         `json:"risks"`
	Partners     []string               `json:"partners"`
	BBox         []float64              `json:"bbox"`
	Cells        []string               `json:"cells"`
	Evidence     map[string]any         `json:"evidence"`
	ClosedReason string                 `json:"closed_reason,omitempty"`
	CreatedBy    string                 `json:"created_by"`
	Version      int                    `json:"version"`
	ActionList   []actionJSON           `json:"action_list"`
	History      []tension.HistoryEntry `json:"history,omitempty"`
	Next         []string               `json:"next"` // the statuses it may move to
}

type actionJSON struct {
	ID          int64   `json:"id"`
	Description string  `json:"description"`
	Owner       string  `json:"owner"`
	Due         string  `json:"due"`
	Done        bool    `json:"done"`
	DoneAt      *string `json:"done_at"`
	DoneBy      string  `json:"done_by,omitempty"`
	Overdue     bool    `json:"overdue"`
}

func (s *Server) assessmentJSON(a *tension.Assessment) assessmentJSON {
	out := assessmentJSON{assessmentSummary: s.summaryOf(a), Trigger: a.Trigger, IncidentID: a.IncidentID, Communities: a.Communities,
		Summary: a.Summary, Intelligence: a.Intelligence, Risks: a.Risks, Partners: a.Partners, BBox: a.BBox, Cells: []string{},
		Evidence: a.Evidence, ClosedReason: a.ClosedReason, CreatedBy: a.CreatedBy, Version: a.Version, History: a.History,
		ActionList: []actionJSON{}, Next: []string{}}
	for _, c := range a.Cells {
		out.Cells = append(out.Cells, geo.CellString(c))
	}
	today := s.opts.Now()
	for _, x := range a.Actions {
		out.ActionList = append(out.ActionList, actionJSON{ID: x.ID, Description: x.Description, Owner: x.Owner, Due: x.Due.Format(time.DateOnly),
			Done: x.Done, DoneAt: optDay(x.DoneAt), DoneBy: x.DoneBy, Overdue: x.Overdue(today)})
	}
	for _, t := range tension.NextStatuses(a.Status) {
		out.Next = append(out.Next, t.To)
	}
	if out.Evidence == nil {
		out.Evidence = map[string]any{}
	}
	return out
}

// assessmentFor answers with an assessment as the caller may see it: whole for
// those who edit it, a summary for the others.
func (s *Server) assessmentFor(who *access.Principal, a *tension.Assessment) any {
	if who.Is(access.AssessmentEditors...) && !(who.Scoped() && a.Citywide()) {
		return s.assessmentJSON(a)
	}
	return s.summaryOf(a)
}

// Assessments follow area scope. A police user scoped to areas reads and edits the
// assessments whose places (areas, or the map extent of one without areas) meet
// those areas, reads citywide ones (no places) as summaries without changing them,
// and sees no other: those are not found, so that their existence does not show.
// Council, admin and unscoped police work on every assessment.

// checkScope returns ENOTFOUND for an assessment outside a scoped caller's areas,
// and EFORBIDDEN when write is set and it is citywide.
func (s *Server) checkScope(ctx context.Context, who *access.Principal, a *tension.Assessment, write bool) error {
	if !who.Scoped() {
		return nil
	}
	if a.Citywide() {
		if write {
			return geo.Errorf(geo.EFORBIDDEN, "a citywide impact assessment is changed by council, admin or police without an area scope")
		}
		return nil
	}
	ok, err := s.store.PlacesInScope(ctx, a.Areas, a.BBox, who.Areas)
	if err != nil {
		return err
	}
	if !ok {
		return geo.Errorf(geo.ENOTFOUND, "no such impact assessment")
	}
	return nil
}

// checkNewPlaces refuses a scoped caller an assessment, new or edited, whose places
// would leave their areas.
func (s *Server) checkNewPlaces(ctx context.Context, who *access.Principal, a *tension.Assessment) error {
	if !who.Scoped() {
		return nil
	}
	if a.Citywide() {
		return geo.Errorf(geo.EFORBIDDEN, "areas: name at least one of your areas (%s); a citywide assessment is made by council, admin or police without an area scope",
			strings.Join(who.Areas, ", "))
	}
	ok, err := s.store.PlacesInScope(ctx, a.Areas, a.BBox, who.Areas)
	if err != nil {
		return err
	}
	if !ok {
		return geo.Errorf(geo.EFORBIDDEN, "areas: this assessment's places are outside your areas (%s)", strings.Join(who.Areas, ", "))
	}
	return nil
}

// editable loads assessment id for a change by the caller: ENOTFOUND outside a
// scoped caller's areas, EFORBIDDEN for a citywide one. It reads nothing for an
// unscoped caller.
func (s *Server) editable(r *http.Request, id int64) error {
	who := access.PrincipalFrom(r.Context())
	if !who.Scoped() {
		return nil
	}
	a, err := s.store.Assessment(r.Context(), id)
	if err != nil {
		return err
	}
	return s.checkScope(r.Context(), who, a, true)
}

// scopeFilter limits a listing to the caller's areas.
func scopeFilter(who *access.Principal, f *tension.AssessmentFilter) {
	if who.Scoped() {
		f.Scope = who.Areas
	}
}

func pathID(r *http.Request, name string) (int64, error) {
	v := chi.URLParam(r, name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, geo.Errorf(geo.EINVALID, "%s: %q is not an id", name, v)
	}
	return id, nil
}

// handleAssessments answers GET /api/v1/assessments.
func (s *Server) handleAssessments(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "status", "overdue", "alert", "event", "limit")
	f := tension.AssessmentFilter{Status: q.list("status"), Limit: q.intIn("limit", 200, 1, 1000), Today: s.opts.Now()}
	for _, st := range f.Status {
		if !slices.Contains(tension.AssessmentStatuses, st) {
			q.fail("status", "%q is not %s", st, strings.Join(tension.AssessmentStatuses, ", "))
		}
	}
	switch q.single("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		q.fail("overdue", "want true or false")
	}
	f.AlertID = int64(q.intIn("alert", 0, 1, 1<<62))
	f.EventID = int64(q.intIn("event", 0, 1, 1<<62))
	if err := q.err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	scopeFilter(who, &f)
	list, err := s.store.Assessments(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]any, len(list))
	for i, a := range list {
		out[i] = s.assessmentFor(who, a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"assessments": out})
	return nil
}

// handleCreateAssessment answers POST /api/v1/assessments: a draft, from an alert
// or from scratch; 409 naming the existing one when the alert has one.
func (s *Server) handleCreateAssessment(w http.ResponseWriter, r *http.Request) error {
	var in assessmentInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.newAssessment(r.Context(), &in)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	if err := s.checkNewPlaces(r.Context(), who, a); err != nil {
		return err
	}
	if err := s.store.CreateAssessment(r.Context(), a, who.Actor()); err != nil {
		return err
	}
	s.forgetVersion()
	s.audit(r, "assessments.create", map[string]any{"id": a.ID, "alert_id": a.AlertID}, 1)
	stored, err := s.store.Assessment(r.Context(), a.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/assessments/"+strconv.FormatInt(a.ID, 10))
	writeJSON(w, http.StatusCreated, map[string]any{"assessment": s.assessmentJSON(stored)})
	return nil
}

// handleAssessment answers GET /api/v1/assessments/{id}.
func (s *Server) handleAssessment(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	a, err := s.loadAssessment(r)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	if err := s.checkScope(r.Context(), who, a, false); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"assessment": s.assessmentFor(who, a)})
	return nil
}

// handleUpdateAssessment answers PATCH /api/v1/assessments/{id}: the fields sent,
// over the version the person saw.
func (s *Server) handleUpdateAssessment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in assessmentInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		return geo.Errorf(geo.EINVALID, "version: required, the version you edited (so that no one's change is lost)")
	}
	if in.AlertID != nil || in.IncidentID != nil || in.EventIDs != nil || in.TriggerKind != nil {
		return geo.Errorf(geo.EINVALID, "alert_id, incident_id, trigger_kind and event_ids are set on creation; link events with POST …/events")
	}
	a, err := s.store.Assessment(r.Context(), id)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	if err := s.checkScope(r.Context(), who, a, true); err != nil {
		return err
	}
	a.Version = *in.Version
	if err := in.apply(a); err != nil {
		return err
	}
	if err := s.assessmentRules().Check(a); err != nil {
		return err
	}
	if err := s.checkNewPlaces(r.Context(), who, a); err != nil {
		return err
	}
	stored, err := s.store.UpdateAssessment(r.Context(), a, who.Actor())
	if err != nil {
		return err
	}
	s.audit(r, "assessments.update", map[string]any{"id": id}, 1)
	writeJSON(w, http.StatusOK, map[string]any{"assessment": s.assessmentJSON(stored)})
	return nil
}

// handleMoveAssessment answers POST /api/v1/assessments/{id}/status.
func (s *Server) handleMoveAssessment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		To      string `json:"to"`
		Reason  string `json:"reason"`
		Version int    `json:"version"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	a, err := s.store.MoveAssessment(r.Context(), id, in.To, in.Reason, in.Version, who.Actor())
	if err != nil {
		return err
	}
	s.forgetVersion()
	s.audit(r, "assessments.status", map[string]any{"id": id, "to": in.To, "reason": in.Reason}, 1)
	writeJSON(w, http.StatusOK, map[string]any{"assessment": s.assessmentJSON(a)})
	return nil
}

// actionInput is a new action.
type actionInput struct {
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Due         string `json:"due"`
}

func (in actionInput) action() (*tension.Action, error) {
	x := &tension.Action{Description: strings.TrimSpace(in.Description), Owner: strings.TrimSpace(in.Owner)}
	if in.Due != "" {
		d, err := time.Parse(time.DateOnly, in.Due)
		if err != nil {
			return nil, geo.Errorf(geo.EINVALID, "due: %q is not a day such as 2026-07-01", in.Due)
		}
		x.Due = d
	}
	return x, tension.CheckAction(x)
}

// handleAddAction answers POST /api/v1/assessments/{id}/actions.
func (s *Server) handleAddAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in actionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	x, err := in.action()
	if err != nil {
		return err
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	if err := s.store.AddAction(r.Context(), id, x, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return err
	}
	s.audit(r, "assessments.action_add", map[string]any{"id": id, "action_id": x.ID}, 1)
	a, err := s.store.Assessment(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"assessment": s.assessmentJSON(a)})
	return nil
}

// handleUpdateAction answers PATCH /api/v1/assessments/{id}/actions/{action}: done or not.
func (s *Server) handleUpdateAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(r, "action")
	if err != nil {
		return err
	}
	var in struct {
		Done *bool `json:"done"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Done == nil {
		return geo.Errorf(geo.EINVALID, "done: required, true or false")
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	if err := s.store.SetActionDone(r.Context(), id, aid, *in.Done, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return err
	}
	s.audit(r, "assessments.action_done", map[string]any{"id": id, "action_id": aid, "done": *in.Done}, 1)
	a, err := s.store.Assessment(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"assessment": s.assessmentJSON(a)})
	return nil
}

// handleLinkEvents answers POST /api/v1/assessments/{id}/events.
func (s *Server) handleLinkEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Link   []int64 `json:"link"`
		Unlink []int64 `json:"unlink"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if len(in.Link)+len(in.Unlink) == 0 || len(in.Link)+len(in.Unlink) > 100 {
		return geo.Errorf(geo.EINVALID, "link, unlink: give from 1 to 100 trigger event ids")
	}
	if err := s.editable(r, id); err != nil {
		return err
	}
	if err := s.store.LinkEvents(r.Context(), id, in.Link, in.Unlink, access.PrincipalFrom(r.Context()).Actor()); err != nil {
		return err
	}
	s.audit(r, "assessments.events", map[string]any{"id": id, "link": in.Link, "unlink": in.Unlink}, 1)
	a, err := s.store.Assessment(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"assessment": s.assessmentJSON(a)})
	return nil
}
