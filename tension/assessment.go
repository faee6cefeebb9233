package tension

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tensionmap/tensionmap/geo"
)

// Community Impact Assessment statuses. An assessment starts as a draft (made by
// the engine for a serious alert, or by a person), is opened when partners start
// work on it, goes under review at its review date, and is closed with a reason.
const (
	AssessmentDraft       = "draft"
	AssessmentOpen        = "open"
	AssessmentUnderReview = "under_review"
	AssessmentClosed      = "closed"
)

// AssessmentStatuses lists the statuses in workflow order.
var AssessmentStatuses = []string{AssessmentDraft, AssessmentOpen, AssessmentUnderReview, AssessmentClosed}

// StatusClosed is an alert whose impact assessment was closed.
const StatusClosed = "closed"

// Trigger kinds: what an assessment responds to.
const (
	TriggerKindAlert    = "alert"
	TriggerKindIncident = "incident"
	TriggerKindEvent    = "event"
	TriggerKindOther    = "other"
)

// Intelligence grades, as community impact assessments grade what is known:
// evidenced (recorded facts), experienced (what people report living through) and
// potential (what may happen).
const (
	GradeEvidenced   = "evidenced"
	GradeExperienced = "experienced"
	GradePotential   = "potential"
)

// Grades lists the intelligence grades.
var Grades = []string{GradeEvidenced, GradeExperienced, GradePotential}

// RiskRatings rate a risk.
var RiskRatings = []string{"low", "medium", "high"}

// Intelligence is one graded piece of what is known about the community's mood.
type Intelligence struct {
	Grade  string `json:"grade"`
	Text   string `json:"text"`
	Source string `json:"source,omitempty"` // who it came from: a partner, a patrol, a meeting
}

// Risk is a risk to the community and what reduces it.
type Risk struct {
	Text       string `json:"text"`
	Rating     string `json:"rating"`
	Mitigation string `json:"mitigation,omitempty"`
}

// Action is something a partner does about it, by a date.
type Action struct {
	ID          int64     `json:"id"`
	Description string    `json:"description"`
	Owner       string    `json:"owner"`
	Due         time.Time `json:"due"`
	Done        bool      `json:"done"`
	DoneAt      time.Time `json:"done_at"`
	DoneBy      string    `json:"done_by,omitempty"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// Overdue reports whether an action not done was due before today.
func (a *Action) Overdue(today time.Time) bool { return !a.Done && a.Due.Before(dayOf(today)) }

// Assessment is a Community Impact Assessment: what happened, who is affected, how
// tense things are, what is known and risked, and what partners do about it.
type Assessment struct {
	ID           int64          `json:"id"`
	Status       string         `json:"status"`
	Title        string         `json:"title"`
	TriggerKind  string         `json:"trigger_kind"`
	Trigger      string         `json:"trigger"`               // the trigger in words
	AlertID      int64          `json:"alert_id,omitempty"`    // the alert it responds to
	IncidentID   int64          `json:"incident_id,omitempty"` // the incident it responds to
	EventIDs     []int64        `json:"event_ids"`             // trigger events it responds to
	AreaLevel    string         `json:"area_level,omitempty"`
	Areas        []string       `json:"areas"`
	Cells        []uint64       `json:"-"`
	Strands      []string       `json:"strands"`
	Communities  string         `json:"communities"`
	TensionLevel string         `json:"tension_level"`
	Summary      string         `json:"summary"`
	Intelligence []Intelligence `json:"intelligence"`
	Risks        []Risk         `json:"risks"`
	Partners     []string       `json:"partners"`
	ReviewDate   time.Time      `json:"review_date"`
	BBox         []float64      `json:"bbox,omitempty"` // map extent: west, south, east, north
	Evidence     map[string]any `json:"evidence,omitempty"`
	ClosedReason string         `json:"closed_reason,omitempty"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	OpenedAt     time.Time      `json:"opened_at"`
	ClosedAt     time.Time      `json:"closed_at"`
	Version      int            `json:"version"`
	Actions      []Action       `json:"actions"`
	History      []HistoryEntry `json:"history,omitempty"`
}

// HistoryEntry is one change of an assessment: who, when, what.
type HistoryEntry struct {
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Changes map[string]any `json:"changes,omitempty"`
}

// Active reports whether partners are working on the assessment.
func (a *Assessment) Active() bool {
	return a.Status == AssessmentOpen || a.Status == AssessmentUnderReview
}

// ReviewOverdue reports whether an active assessment's review date has passed.
func (a *Assessment) ReviewOverdue(today time.Time) bool {
	return a.Active() && !a.ReviewDate.IsZero() && a.ReviewDate.Before(dayOf(today))
}

// OverdueActions returns the actions of an active assessment past their due date.
func (a *Assessment) OverdueActions(today time.Time) []Action {
	if a.Status == AssessmentClosed {
		return nil
	}
	var out []Action
	for _, x := range a.Actions {
		if x.Overdue(today) {
			out = append(out, x)
		}
	}
	return out
}

// Transition is a move of an assessment's status and what it needs.
type Transition struct {
	From, To    string
	Action      string // the history's word for it
	NeedsReason bool
}

// Transitions are the moves allowed: a draft is opened or closed as not needed; an
// open assessment goes under review; a review sends it back to work or closes it;
// a closed one may be reopened, saying why.
var Transitions = []Transition{
	{AssessmentDraft, AssessmentOpen, "opened", false},
	{AssessmentDraft, AssessmentClosed, "closed", true},
	{AssessmentOpen, AssessmentUnderReview, "under_review", false},
	{AssessmentUnderReview, AssessmentOpen, "reopened", false},
	{AssessmentUnderReview, AssessmentClosed, "closed", true},
	{AssessmentClosed, AssessmentOpen, "reopened", true},
}

// FindTransition returns the transition from one status to another, or an
// ECONFLICT error naming the moves there are.
func FindTransition(from, to string) (Transition, error) {
	if !slices.Contains(AssessmentStatuses, to) {
		return Transition{}, geo.Errorf(geo.EINVALID, "to: %q is not a status (%s)", to, strings.Join(AssessmentStatuses, ", "))
	}
	var allowed []string
	for _, t := range Transitions {
		if t.From == from {
			if t.To == to {
				return t, nil
			}
			allowed = append(allowed, words(t.To))
		}
	}
	return Transition{}, geo.Errorf(geo.ECONFLICT, "an assessment that is %s cannot become %s; it can become %s", words(from), words(to), strings.Join(allowed, " or "))
}

// NextStatuses lists the statuses an assessment may move to from its status.
func NextStatuses(from string) []Transition {
	var out []Transition
	for _, t := range Transitions {
		if t.From == from {
			out = append(out, t)
		}
	}
	return out
}

// AlertStatusFor is the status an assessment's alert takes when the assessment
// reaches a status: acknowledged while it is a draft, assessment_opened while
// partners work on it, closed when it closes. An alert a person dismissed stays
// dismissed until the assessment opens.
func AlertStatusFor(assessment string) string {
	switch assessment {
	case AssessmentDraft:
		return StatusAcknowledged
	case AssessmentOpen, AssessmentUnderReview:
		return StatusAssessmentOpened
	case AssessmentClosed:
		return StatusClosed
	}
	return ""
}

func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

// Limits on an assessment's text, so that a record stays a record.
const (
	maxTitle    = 200
	maxText     = 20000
	maxListItem = 2000
	maxItems    = 100
)

// AssessmentRules are what a valid assessment is checked against.
type AssessmentRules struct {
	Scale   Scale    // tension levels
	Strands []string // configured strands
}

// Check returns an EINVALID error naming the field and the reason of the first
// problem in an assessment's fields; nil when it is valid.
func (r AssessmentRules) Check(a *Assessment) error {
	text := func(field, v string, max int, required bool) error {
		if required && strings.TrimSpace(v) == "" {
			return geo.Errorf(geo.EINVALID, "%s: required", field)
		}
		if utf8.RuneCountInString(v) > max {
			return geo.Errorf(geo.EINVALID, "%s: at most %d characters", field, max)
		}
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return geo.Errorf(geo.EINVALID, "%s: not valid text", field)
		}
		return nil
	}
	checks := []error{
		text("title", a.Title, maxTitle, true),
		text("trigger", a.Trigger, maxText, false),
		text("communities", a.Communities, maxText, false),
		text("summary", a.Summary, maxText, false),
		text("closed_reason", a.ClosedReason, maxText, false),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if !slices.Contains([]string{TriggerKindAlert, TriggerKindIncident, TriggerKindEvent, TriggerKindOther}, a.TriggerKind) {
		return geo.Errorf(geo.EINVALID, "trigger_kind: %q is not alert, incident, event or other", a.TriggerKind)
	}
	if a.TensionLevel != "" && r.Scale.Rank(a.TensionLevel) < 0 {
		return geo.Errorf(geo.EINVALID, "tension_level: %q is not on the scale %s", a.TensionLevel, strings.Join(r.Scale, ", "))
	}
	for _, s := range a.Strands {
		if !slices.Contains(r.Strands, s) {
			return geo.Errorf(geo.EINVALID, "strands: unknown strand %q", s)
		}
	}
	if len(a.Intelligence) > maxItems || len(a.Risks) > maxItems || len(a.Partners) > maxItems || len(a.Areas) > 10*maxItems {
		return geo.Errorf(geo.EINVALID, "too many items: at most %d pieces of intelligence, risks or partners", maxItems)
	}
	for i, in := range a.Intelligence {
		if !slices.Contains(Grades, in.Grade) {
			return geo.Errorf(geo.EINVALID, "intelligence %d: grade %q is not evidenced, experienced or potential", i+1, in.Grade)
		}
		if err := text(fmt.Sprintf("intelligence %d", i+1), in.Text, maxListItem, true); err != nil {
			return err
		}
		if err := text(fmt.Sprintf("intelligence %d source", i+1), in.Source, maxListItem, false); err != nil {
			return err
		}
	}
	for i, rk := range a.Risks {
		if !slices.Contains(RiskRatings, rk.Rating) {
			return geo.Errorf(geo.EINVALID, "risk %d: rating %q is not low, medium or high", i+1, rk.Rating)
		}
		if err := text(fmt.Sprintf("risk %d", i+1), rk.Text, maxListItem, true); err != nil {
			return err
		}
		if err := text(fmt.Sprintf("risk %d mitigation", i+1), rk.Mitigation, maxListItem, false); err != nil {
			return err
		}
	}
	for i, p := range a.Partners {
		if err := text(fmt.Sprintf("partner %d", i+1), p, maxListItem, true); err != nil {
			return err
		}
	}
	if len(a.BBox) != 0 && (len(a.BBox) != 4 || a.BBox[0] >= a.BBox[2] || a.BBox[1] >= a.BBox[3] ||
		a.BBox[0] < -180 || a.BBox[2] > 180 || a.BBox[1] < -90 || a.BBox[3] > 90) {
		return geo.Errorf(geo.EINVALID, "bbox: want west, south, east, north in degrees")
	}
	return nil
}

// CheckAction returns an EINVALID error naming what is wrong with a new action.
func CheckAction(a *Action) error {
	switch {
	case strings.TrimSpace(a.Description) == "":
		return geo.Errorf(geo.EINVALID, "description: required")
	case utf8.RuneCountInString(a.Description) > maxListItem:
		return geo.Errorf(geo.EINVALID, "description: at most %d characters", maxListItem)
	case strings.TrimSpace(a.Owner) == "":
		return geo.Errorf(geo.EINVALID, "owner: required (a partner or a person)")
	case utf8.RuneCountInString(a.Owner) > 200:
		return geo.Errorf(geo.EINVALID, "owner: at most 200 characters")
	case a.Due.IsZero():
		return geo.Errorf(geo.EINVALID, "due: required, a day such as 2026-12-01")
	case !utf8.ValidString(a.Description + a.Owner):
		return geo.Errorf(geo.EINVALID, "description: not valid text")
	}
	return nil
}

// EditableFields are the fields a person edits, as the history names them.
var EditableFields = []string{"title", "trigger", "areas", "area_level", "strands", "communities", "tension_level", "summary",
	"intelligence", "risks", "partners", "review_date", "bbox"}

// Changes lists, field by field, what differs between two versions of an
// assessment's editable fields: {"field": {"from": old, "to": new}}.
func Changes(old, updated *Assessment) map[string]any {
	out := map[string]any{}
	add := func(field string, from, to any, same bool) {
		if !same {
			out[field] = map[string]any{"from": from, "to": to}
		}
	}
	add("title", old.Title, updated.Title, old.Title == updated.Title)
	add("trigger", old.Trigger, updated.Trigger, old.Trigger == updated.Trigger)
	add("areas", old.Areas, updated.Areas, slices.Equal(old.Areas, updated.Areas))
	add("area_level", old.AreaLevel, updated.AreaLevel, old.AreaLevel == updated.AreaLevel)
	add("strands", old.Strands, updated.Strands, slices.Equal(old.Strands, updated.Strands))
	add("communities", old.Communities, updated.Communities, old.Communities == updated.Communities)
	add("tension_level", old.TensionLevel, updated.TensionLevel, old.TensionLevel == updated.TensionLevel)
	add("summary", old.Summary, updated.Summary, old.Summary == updated.Summary)
	add("intelligence", old.Intelligence, updated.Intelligence, slices.Equal(old.Intelligence, updated.Intelligence))
	add("risks", old.Risks, updated.Risks, slices.Equal(old.Risks, updated.Risks))
	add("partners", old.Partners, updated.Partners, slices.Equal(old.Partners, updated.Partners))
	add("review_date", dayString(old.ReviewDate), dayString(updated.ReviewDate), old.ReviewDate.Equal(updated.ReviewDate))
	add("bbox", old.BBox, updated.BBox, slices.Equal(old.BBox, updated.BBox))
	return out
}

func dayString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// AssessmentFilter selects assessments for a listing; zero fields match all.
type AssessmentFilter struct {
	Status  []string
	AlertID int64
	EventID int64
	Overdue bool      // only those with a review or an action overdue on Today
	Today   time.Time // for Overdue
	Limit   int
	// Scope, when set, keeps the assessments whose places meet these areas (by
	// code, or by overlapping them) and the citywide ones, which have no places.
	Scope []string
}

// Citywide reports whether an assessment names no place: no areas and no map
// extent.
func (a *Assessment) Citywide() bool { return len(a.Areas) == 0 && len(a.BBox) == 0 }

// CheckTriggerEvent returns an EINVALID error naming what is wrong with a trigger
// event a person records.
func CheckTriggerEvent(e *TriggerEvent, strands []string, today time.Time) error {
	switch {
	case e.Day.IsZero():
		return geo.Errorf(geo.EINVALID, "day: required, a day such as 2026-06-01")
	case e.Day.After(dayOf(today).AddDate(1, 0, 0)):
		return geo.Errorf(geo.EINVALID, "day: more than a year ahead")
	case !slices.Contains([]string{"local", "national", "international"}, e.Scope):
		return geo.Errorf(geo.EINVALID, "scope: %q is not local, national or international", e.Scope)
	case strings.TrimSpace(e.Description) == "":
		return geo.Errorf(geo.EINVALID, "description: required")
	case utf8.RuneCountInString(e.Description) > maxListItem:
		return geo.Errorf(geo.EINVALID, "description: at most %d characters", maxListItem)
	case !utf8.ValidString(e.Description):
		return geo.Errorf(geo.EINVALID, "description: not valid text")
	}
	for _, s := range e.Strands {
		if !slices.Contains(strands, s) {
			return geo.Errorf(geo.EINVALID, "strands: unknown strand %q", s)
		}
	}
	return nil
}

// DraftFromAlert is the impact-assessment draft for an alert: its evidence (observed
// against expected, the test and the series), its places, strands and tension
// level, and a title that says what rose where, naming the areas by the names in
// names (by code; a code without a name stays a code). The map extent is the
// alert's cells.
func DraftFromAlert(id int64, a *Alert, names map[string]string) *Assessment {
	title := fmt.Sprintf("%s rise in %s hate reports", upperFirst(a.TensionLevel), strandWords(a.Strands))
	if len(a.Areas) > 0 {
		shown := make([]string, 0, 3)
		for _, code := range a.Areas[:min(len(a.Areas), 3)] {
			if n := names[code]; n != "" {
				code = n
			}
			shown = append(shown, code)
		}
		title += " in " + strings.Join(shown, ", ")
		if len(a.Areas) > 3 {
			if more := len(a.Areas) - 3; more == 1 {
				title += " and 1 more area"
			} else {
				title += fmt.Sprintf(" and %d more areas", more)
			}
		}
	}
	evidence := map[string]any{"alert_id": id, "method": a.Method, "detail": a.Detail, "observed": a.Observed,
		"expected": a.Expected, "window_from": a.WindowFrom.Format(time.DateOnly), "window_to": a.WindowTo.Format(time.DateOnly)}
	if !math.IsNaN(a.P) && !math.IsInf(a.P, 0) {
		evidence["p_value"] = a.P
	}
	if !math.IsNaN(a.Recurrence) && !math.IsInf(a.Recurrence, 0) {
		evidence["recurrence_days"] = a.Recurrence
	}
	if len(a.Series) > 0 {
		evidence["series"] = a.Series
	}
	d := &Assessment{AlertID: id, TriggerKind: TriggerKindAlert, Title: title, Trigger: fmt.Sprintf("Alert %d: %s", id, a.Detail),
		AreaLevel: a.AreaLevel, Areas: slices.Clone(a.Areas), Cells: slices.Clone(a.Cells), Strands: slices.Clone(a.Strands),
		TensionLevel: a.TensionLevel, Evidence: evidence, BBox: CellsBBox(a.Cells)}
	if ev := EventOfAlertKey(a.Key); ev != 0 {
		d.EventIDs = []int64{ev} // the rise after a trigger event answers to that event
	} else if a.EventID != 0 {
		d.EventIDs = []int64{a.EventID} // a widespread rise that took in an event's uplift
	}
	return d
}

// EventOfAlertKey is the trigger event an uplift alert watches ("event:ID:strand"),
// or 0 for an alert of any other kind.
func EventOfAlertKey(key string) int64 {
	rest, ok := strings.CutPrefix(key, "event:")
	if !ok {
		return 0
	}
	id, _, _ := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func strandWords(strands []string) string {
	if len(strands) == 0 {
		return "all"
	}
	return strings.ReplaceAll(strings.Join(strands, ", "), "_", " ")
}

// CellsBBox is the bound of cells' hexagons as west, south, east, north; nil when
// there are none.
func CellsBBox(cells []uint64) []float64 {
	if len(cells) == 0 {
		return nil
	}
	b := geo.CellPolygon(cells[0]).Bound()
	for _, c := range cells[1:] {
		b = b.Union(geo.CellPolygon(c).Bound())
	}
	return []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
}

// TriggerEventDetail is a trigger event with what the engine measured after it and
// the assessments that respond to it.
type TriggerEventDetail struct {
	TriggerEvent
	CreatedBy   string         `json:"created_by"`
	CreatedAt   time.Time      `json:"created_at"`
	Uplifts     []UpliftResult `json:"uplifts"` // by strand, "" (all strands) first; none before the engine has run since
	UpliftRun   int64          `json:"uplift_run,omitempty"`
	Assessments []int64        `json:"assessments"`
}
