package tension

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Detector method names, as alerts and the API give them.
const (
	MethodFarrington = "farrington"
	MethodEARS       = "ears"
	MethodScan       = "scan"
	MethodUplift     = "uplift"
)

// MarshalJSON writes a point, its expected count and bound null when they are not
// numbers (a period with no baseline shows its count alone).
func (p Point) MarshalJSON() ([]byte, error) {
	type point struct {
		Day      time.Time `json:"day"`
		Observed float64   `json:"observed"`
		Expected *float64  `json:"expected"`
		Upper    *float64  `json:"upper,omitempty"`
		Alarm    bool      `json:"alarm,omitempty"`
	}
	q := point{Day: p.Day, Observed: p.Observed, Alarm: p.Alarm}
	if !math.IsNaN(p.Expected) && !math.IsInf(p.Expected, 0) {
		q.Expected = &p.Expected
	}
	if !math.IsNaN(p.Upper) && !math.IsInf(p.Upper, 0) && p.Upper != 0 {
		q.Upper = &p.Upper
	}
	return json.Marshal(q)
}

// UnmarshalJSON reads a point, a null expected count or a missing bound as NaN.
func (p *Point) UnmarshalJSON(b []byte) error {
	var q struct {
		Day      time.Time `json:"day"`
		Observed float64   `json:"observed"`
		Expected *float64  `json:"expected"`
		Upper    *float64  `json:"upper"`
		Alarm    bool      `json:"alarm"`
	}
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = Point{Day: q.Day, Observed: q.Observed, Expected: math.NaN(), Upper: math.NaN(), Alarm: q.Alarm}
	if q.Expected != nil {
		p.Expected = *q.Expected
	}
	if q.Upper != nil {
		p.Upper = *q.Upper
	}
	return nil
}

// Point is one step of an evidence series: a day, a week or a four-week period (the
// days ending on Day). Expected and Upper are NaN where there is no baseline, and
// Upper where the method has no bound.
type Point struct {
	Day      time.Time
	Observed float64
	Expected float64
	Upper    float64
	Alarm    bool
}

// Finding is one detector's judgement that counts in a place and window are unusually
// high, with its evidence. The engine turns findings into alerts.
type Finding struct {
	Method     string    `json:"method"`
	Key        string    `json:"key"` // what is watched: "area:CODE:strand", "city:strand", "cluster"
	AreaLevel  string    `json:"area_level,omitempty"`
	Areas      []string  `json:"areas,omitempty"`
	Cells      []uint64  `json:"cells,omitempty"`
	Strands    []string  `json:"strands,omitempty"` // empty: all strands
	WindowFrom time.Time `json:"window_from"`
	WindowTo   time.Time `json:"window_to"`
	Observed   float64   `json:"observed"`
	Expected   float64   `json:"expected"`
	Upper      float64   `json:"upper,omitempty"` // the detector's threshold, where it has one
	P          float64   `json:"p"`               // NaN where the method gives none
	Recurrence float64   `json:"recurrence_days"` // NaN where the method gives none
	Score      float64   `json:"score"`           // method-specific exceedance score
	Series     []Point   `json:"series,omitempty"`
	Detail     string    `json:"detail,omitempty"` // e.g. "EARS C2", "Noufaily"

	// Scale is the time scale of a baseline finding: ScaleWeek or ScaleFourWeeks
	// (the window is the 7 or 28 days ending on the analysis day).
	Scale string `json:"scale,omitempty"`
	// BaselineFrom and BaselineTo are the days the expected count's baseline spans.
	BaselineFrom time.Time `json:"baseline_from,omitzero"`
	BaselineTo   time.Time `json:"baseline_to,omitzero"`
	// Breadth is the share of a level's areas that rose with a widespread finding.
	Breadth float64 `json:"breadth,omitempty"`
	// EventID is the trigger event whose uplift a widespread finding took in, and
	// Uplift that uplift's figures.
	EventID int64        `json:"event_id,omitempty"`
	Uplift  []UpliftNote `json:"uplift,omitempty"`
}

// Ratio is observed over expected, +Inf when nothing was expected.
func (f *Finding) Ratio() float64 {
	if f.Expected <= 0 {
		return math.Inf(1)
	}
	return f.Observed / f.Expected
}

// Alert statuses.
const (
	StatusNew              = "new"
	StatusAcknowledged     = "acknowledged"
	StatusAssessmentOpened = "assessment_opened"
	StatusDismissed        = "dismissed"
)

// Alert is an ongoing finding as stored: the same place and method seen on later runs
// updates it rather than opening another.
type Alert struct {
	ID int64
	Finding
	Status       string
	TensionLevel string
	FirstSeen    time.Time // analysis days
	LastSeen     time.Time
	StatusReason string
}

// Scale is an ordered tension scale, lowest first.
type Scale []string

// DefaultScale is the scale of the design.
var DefaultScale = Scale{"low", "medium", "high", "critical"}

// Rank returns a level's position on the scale, -1 if it is not on it.
func (s Scale) Rank(level string) int { return slices.Index(s, level) }

// Rule suggests a tension level when all its conditions hold.
type Rule struct {
	Level      string
	Conditions []Condition
}

// Condition compares a finding's figure with a value: ratio, p, recurrence,
// observed, expected, score or breadth (the share of areas a widespread rise
// covers, 0 for any other finding).
type Condition struct {
	Field string
	Op    string // >=, <=, >, <
	Value float64
}

// DefaultRules suggest critical for a rise that would recur less than once a year or
// triples the expected count with overwhelming evidence, high for a doubling with
// strong evidence or for a rise of 30% with strong evidence across half a level's
// areas or more (a widespread rise: breadth is the share of areas that rose),
// medium for any significant rise, and low otherwise.
const DefaultRules = "critical: recurrence>=365; critical: ratio>=3 p<=0.001 observed>=10; high: recurrence>=100; high: ratio>=2 p<=0.01 observed>=5; high: breadth>=0.5 ratio>=1.3 p<=0.001; medium: p<=0.05; low"

// ParseRules reads rules such as "high: ratio>=2 p<=0.01; medium: p<=0.05; low",
// tried in order, the first that holds giving the level. Every level must be on the
// scale, and the last rule must have no conditions, so that every finding gets one.
func ParseRules(s string, scale Scale) ([]Rule, error) {
	var rules []Rule
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		level, conds, _ := strings.Cut(part, ":")
		level = strings.TrimSpace(level)
		if scale.Rank(level) < 0 {
			return nil, geo.Errorf(geo.EINVALID, "tension rules: %q is not a level of the scale %v", level, scale)
		}
		r := Rule{Level: level}
		for _, c := range strings.Fields(conds) {
			cond, err := parseCondition(c)
			if err != nil {
				return nil, err
			}
			r.Conditions = append(r.Conditions, cond)
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 || len(rules[len(rules)-1].Conditions) > 0 {
		return nil, geo.Errorf(geo.EINVALID, "tension rules: the last rule must be a bare level (e.g. \"; low\") so every finding gets one")
	}
	return rules, nil
}

var ruleFields = []string{"ratio", "p", "recurrence", "observed", "expected", "score", "breadth"}

func parseCondition(c string) (Condition, error) {
	for _, op := range []string{">=", "<=", ">", "<"} {
		if field, val, ok := strings.Cut(c, op); ok {
			v, err := strconv.ParseFloat(val, 64)
			if err != nil || !slices.Contains(ruleFields, field) {
				break
			}
			return Condition{Field: field, Op: op, Value: v}, nil
		}
	}
	return Condition{}, geo.Errorf(geo.EINVALID, "tension rules: %q is not a condition such as ratio>=2 (fields: %s)", c, strings.Join(ruleFields, ", "))
}

func (c Condition) holds(f *Finding) bool {
	var v float64
	switch c.Field {
	case "ratio":
		v = f.Ratio()
	case "p":
		v = f.P
	case "recurrence":
		v = f.Recurrence
	case "observed":
		v = f.Observed
	case "expected":
		v = f.Expected
	case "score":
		v = f.Score
	case "breadth":
		v = f.Breadth
	}
	if math.IsNaN(v) {
		return false
	}
	switch c.Op {
	case ">=":
		return v >= c.Value
	case "<=":
		return v <= c.Value
	case ">":
		return v > c.Value
	default:
		return v < c.Value
	}
}

// Level returns the tension level the first matching rule suggests.
func Level(rules []Rule, f *Finding) string {
	for _, r := range rules {
		ok := true
		for _, c := range r.Conditions {
			ok = ok && c.holds(f)
		}
		if ok {
			return r.Level
		}
	}
	return ""
}

// String describes a rule as ParseRules reads it.
func (r Rule) String() string {
	parts := []string{}
	for _, c := range r.Conditions {
		parts = append(parts, fmt.Sprintf("%s%s%g", c.Field, c.Op, c.Value))
	}
	if len(parts) == 0 {
		return r.Level
	}
	return r.Level + ": " + strings.Join(parts, " ")
}

// Change is what Merge decided for one finding.
type Change struct {
	Alert    Alert
	New      bool // a new alert
	Reraised bool // a dismissed alert whose tension rose above the level it was dismissed at
	Previous Alert
}

// Merge matches the findings of a run against recent alerts: a finding with the
// same method and key as an alert last seen within gap of asOf (for the scan, one
// sharing a cell with it) updates that alert; any other opens a new one. An updated
// alert keeps its status, except that a dismissed one, or one whose assessment was
// closed, is raised again when its tension level rises above the level it had then. Its level is the highest
// seen over its life.
func Merge(recent []Alert, findings []Finding, asOf time.Time, gap time.Duration, rules []Rule, scale Scale) []Change {
	var out []Change
	taken := map[int64]bool{}
	for _, f := range findings {
		level := Level(rules, &f)
		var match *Alert
		for i := range recent {
			a := &recent[i]
			if taken[a.ID] || a.Method != f.Method || asOf.Sub(a.LastSeen) > gap {
				continue
			}
			if a.Key == f.Key && (f.Method != MethodScan || overlaps(a.Cells, f.Cells)) {
				match = a
				break
			}
		}
		if match == nil {
			out = append(out, Change{New: true, Alert: Alert{Finding: f, Status: StatusNew, TensionLevel: level, FirstSeen: asOf, LastSeen: asOf}})
			continue
		}
		taken[match.ID] = true
		prev := *match
		a := *match
		a.Finding = f
		a.WindowFrom = minTime(prev.WindowFrom, f.WindowFrom)
		a.LastSeen = asOf
		if scale.Rank(level) > scale.Rank(prev.TensionLevel) {
			a.TensionLevel = level
		}
		c := Change{Alert: a, Previous: prev}
		if (prev.Status == StatusDismissed || prev.Status == StatusClosed) && scale.Rank(level) > scale.Rank(prev.TensionLevel) {
			c.Alert.Status = StatusNew
			how := "it was dismissed"
			if prev.Status == StatusClosed {
				how = "its assessment was closed"
			}
			c.Alert.StatusReason = fmt.Sprintf("raised again: tension rose from %s to %s after %s", prev.TensionLevel, level, how)
			c.Reraised = true
		}
		out = append(out, c)
	}
	return out
}

func overlaps(a, b []uint64) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// AlertFilter selects alerts for a listing; zero fields match all.
type AlertFilter struct {
	Status []string
	Method []string
	Level  []string
	Since  time.Time // last seen on or after
	Limit  int
	// Backfill 0 lists live alerts only; an id lists that backfill's alerts alone.
	Backfill int64
}

// AlertEvent is one entry of an alert's history.
type AlertEvent struct {
	At     time.Time      `json:"at"`
	Actor  string         `json:"actor"`
	Action string         `json:"action"` // opened, updated, acknowledged, dismissed, reraised, assessment_opened
	RunID  int64          `json:"run_id,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
}

// StoredAlert is an alert as read back, with its identity in the engine's runs.
type StoredAlert struct {
	Alert
	FirstRunID, LastRunID int64
	AssessmentID          int64 // 0 when none
	BackfillID            int64 // the backfill that raised it; 0 for a live alert
	UpdatedAt             time.Time
	CreatedAt             time.Time    // when the engine first raised it
	Events                []AlertEvent // filled by single reads
}

// CanMove reports whether a person may move an alert from one status to another:
// acknowledge a new one, dismiss a new or acknowledged one (with a reason). The
// engine alone raises a dismissed alert again; opening an assessment is the
// assessment workflow's.
func CanMove(from, to string) bool {
	switch to {
	case StatusAcknowledged:
		return from == StatusNew
	case StatusDismissed:
		return from == StatusNew || from == StatusAcknowledged
	}
	return false
}

// RunRecord records one run of the engine.
type RunRecord struct {
	ID         int64          `json:"id"`
	AsOf       time.Time      `json:"as_of"`
	Trigger    string         `json:"trigger"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	Duration   time.Duration  `json:"duration_ns"`
	Status     string         `json:"status"` // running, done, partial (see Failures), failed (see Error), cleared (a backfill)
	Params     map[string]any `json:"params"`
	Counts     map[string]int `json:"counts"`
	Error      string         `json:"error,omitempty"`
	// Failures are the detectors (or stored parts) that failed in a partial run.
	Failures []Failure `json:"failures"`
	// Seconds is each detector's time.
	Seconds map[string]float64 `json:"seconds"`
	// Nulls are the values that were not numbers and were stored as null.
	Nulls []NullValue `json:"nulls,omitempty"`
	// BackfillID is the backfill a replayed day belongs to (0 for a live run or a
	// backfill's own record, whose Trigger is "backfill").
	BackfillID int64 `json:"backfill_id,omitempty"`
}

// RunFilter selects engine runs: Backfill 0 lists live runs and backfills, an id the
// backfill and its days.
type RunFilter struct {
	Limit    int
	Backfill int64
}
