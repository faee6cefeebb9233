package cases

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Keys of the service-standard figures, as configuration and the API name them.
const (
	StdFirstContact      = "first_contact"
	StdKeptInContact     = "kept_in_contact"
	StdVictimsCode       = "victims_code"
	StdResolved          = "resolved"
	StdSatisfiedOutcome  = "satisfied_outcome"
	StdSatisfiedHandling = "satisfied_handling"
	StdSurveyOnTime      = "survey_on_time"
)

// StandardKeys lists the figures in the order a review shows them.
var StandardKeys = []string{StdFirstContact, StdKeptInContact, StdVictimsCode, StdResolved, StdSatisfiedOutcome,
	StdSatisfiedHandling, StdSurveyOnTime}

// Targets are the shares, in percent, each figure should reach. A target of 0 is
// no target: the figure is shown without one.
type Targets struct {
	FirstContact      float64 `json:"first_contact"`
	KeptInContact     float64 `json:"kept_in_contact"`
	VictimsCode       float64 `json:"victims_code"`
	Resolved          float64 `json:"resolved"`
	SatisfiedOutcome  float64 `json:"satisfied_outcome"`
	SatisfiedHandling float64 `json:"satisfied_handling"`
	SurveyOnTime      float64 `json:"survey_on_time"`
}

// DefaultTargets are the targets of a typical hate crime strategy: every case
// contacted within a working day, kept in contact and offered the Victims' Code
// (100%); 80% resolved; 70% satisfied with the outcome and 70% with the handling.
// Surveys on time have no target unless one is set.
func DefaultTargets() Targets {
	return Targets{FirstContact: 100, KeptInContact: 100, VictimsCode: 100, Resolved: 80, SatisfiedOutcome: 70, SatisfiedHandling: 70}
}

func (t *Targets) field(key string) *float64 {
	switch key {
	case StdFirstContact:
		return &t.FirstContact
	case StdKeptInContact:
		return &t.KeptInContact
	case StdVictimsCode:
		return &t.VictimsCode
	case StdResolved:
		return &t.Resolved
	case StdSatisfiedOutcome:
		return &t.SatisfiedOutcome
	case StdSatisfiedHandling:
		return &t.SatisfiedHandling
	case StdSurveyOnTime:
		return &t.SurveyOnTime
	}
	return nil
}

// ParseTargets reads targets written as key=percent pairs separated by commas
// ("resolved=75, satisfied_outcome=65%"), over the defaults: a key not named
// keeps its default. It returns an EINVALID error naming the pair at fault.
func ParseTargets(s string) (Targets, error) {
	t := DefaultTargets()
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSuffix(strings.TrimSpace(v), "%")
		if !ok {
			return t, geo.Errorf(geo.EINVALID, "targets: %q is not key=percent, such as resolved=80", pair)
		}
		f := t.field(k)
		if f == nil {
			return t, geo.Errorf(geo.EINVALID, "targets: %q is not a standard (%s)", k, strings.Join(StandardKeys, ", "))
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 100 || p != p {
			return t, geo.Errorf(geo.EINVALID, "targets: %s: %q is not a percentage from 0 to 100", k, v)
		}
		*f = p
	}
	return t, nil
}

// Period is the span a review measures: From and To are days, both included.
// Today is the day the figures are taken: an obligation falls due in the figures
// only once its day is before Today, and nothing recorded after Today counts. A
// zero Today takes every deadline as passed, as for a period long over.
type Period struct {
	From, To time.Time
	Today    time.Time
}

// YearEarlier is the same period a year before (29 February becomes the 28th),
// taken on the same Today.
func (p Period) YearEarlier() Period {
	return Period{From: geo.YearEarlier(p.From), To: geo.YearEarlier(p.To), Today: p.Today}
}

// Figure is one service standard measured: Numerator of Denominator cases met it.
// The counts are exact; suppressing small ones is the caller's.
type Figure struct {
	Key         string  `json:"key"`
	Label       string  `json:"label"` // the standard in words
	Numerator   int     `json:"numerator"`
	Denominator int     `json:"denominator"`
	Target      float64 `json:"target,omitempty"` // percent; 0 is none
}

// Share is the percentage met, and false when no case counts.
func (f Figure) Share() (float64, bool) {
	if f.Denominator == 0 {
		return 0, false
	}
	return 100 * float64(f.Numerator) / float64(f.Denominator), true
}

// Met reports whether the share reaches the target; ok is false when there is
// no target or no case counts.
func (f Figure) Met() (met, ok bool) {
	if f.Denominator == 0 || f.Target == 0 {
		return false, false
	}
	// Compare counts, not rounded shares: 4 of 5 meets 80%.
	return 100*float64(f.Numerator) >= f.Target*float64(f.Denominator)-1e-9, true
}

// Median is the median of some numbers of days and how many there were.
type Median struct {
	Days float64 `json:"days"`
	N    int     `json:"n"` // 0: no median
}

// Figures are a set of cases measured against the standards over a period.
type Figures struct {
	Period Period `json:"-"`
	// Opened counts the cases opened in the period; Closed those closed in it,
	// Withdrawn among them; Declined counts the closed cases whose complainant
	// declined the survey offered.
	Opened, Closed, Withdrawn, Declined int

	FirstContact      Figure `json:"first_contact"`
	KeptInContact     Figure `json:"kept_in_contact"`
	VictimsCode       Figure `json:"victims_code"`
	Resolved          Figure `json:"resolved"`
	SatisfiedOutcome  Figure `json:"satisfied_outcome"`
	SatisfiedHandling Figure `json:"satisfied_handling"`
	SurveyOnTime      Figure `json:"survey_on_time"`
	// DaysToClosure is the median of the calendar days from the day of opening to
	// the day of closure, over the cases closed in the period.
	DaysToClosure Median `json:"days_to_closure"`
}

// List gives the figures in StandardKeys order, for a table.
func (f *Figures) List() []Figure {
	return []Figure{f.FirstContact, f.KeptInContact, f.VictimsCode, f.Resolved, f.SatisfiedOutcome, f.SatisfiedHandling, f.SurveyOnTime}
}

// Measure measures cases against the standards over a period. Each figure has its
// own denominator (see the package documentation for the definitions):
//
//   - first contact: cases opened in the period whose first contact was made or
//     was due before Today; met when made by FirstContactDue;
//   - kept in contact: cases open on some day of the period up to Today; met when
//     every gap reaching into the period, between the day of opening, the days
//     of contact and the day the case closed or the period (or Today) ended, is
//     at most ContactEveryDays working days;
//   - Victims' Code: cases opened in the period with a first contact; met when
//     the offer was made on or before the day of the first contact;
//   - resolved: cases closed in the period, not withdrawn; met when resolved;
//   - satisfied with the outcome, and with the handling: cases closed in the
//     period with a survey; met when satisfied;
//   - survey on time: cases closed in the period surveyed, or whose survey was due
//     before Today; met when surveyed by SurveyDue.
func (s Standards) Measure(cal *Calendar, cs []*Case, p Period) Figures {
	from, to := geo.Day(p.From), geo.Day(p.To)
	today := geo.Day(p.Today)
	if p.Today.IsZero() {
		today = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	inPeriod := func(d time.Time) bool { return !d.Before(from) && !d.After(to) }
	happened := func(t time.Time) bool { return !t.IsZero() && !cal.Day(t).After(today) }
	t := s.Targets
	f := Figures{Period: p,
		FirstContact:      Figure{Key: StdFirstContact, Label: "First contact within " + count(s.FirstContactDays, "working day", "working days"), Target: t.FirstContact},
		KeptInContact:     Figure{Key: StdKeptInContact, Label: "Kept in contact every " + count(s.ContactEveryDays, "working day", "working days"), Target: t.KeptInContact},
		VictimsCode:       Figure{Key: StdVictimsCode, Label: "Offered the Victims' Code at first contact", Target: t.VictimsCode},
		Resolved:          Figure{Key: StdResolved, Label: "Resolved (of cases closed, not withdrawn)", Target: t.Resolved},
		SatisfiedOutcome:  Figure{Key: StdSatisfiedOutcome, Label: "Satisfied with the outcome (of surveys taken)", Target: t.SatisfiedOutcome},
		SatisfiedHandling: Figure{Key: StdSatisfiedHandling, Label: "Satisfied with the handling (of surveys taken)", Target: t.SatisfiedHandling},
		SurveyOnTime:      Figure{Key: StdSurveyOnTime, Label: "Surveyed within " + count(s.SurveyWeeks, "week", "weeks") + " of closure", Target: t.SurveyOnTime},
	}
	tally := func(fig *Figure, met bool) {
		fig.Denominator++
		if met {
			fig.Numerator++
		}
	}
	var days []int
	for _, c := range cs {
		opened := cal.Day(c.OpenedAt)
		if opened.After(today) {
			continue
		}
		fc := c.FirstContactAt
		if !happened(fc) {
			fc = time.Time{}
		}
		if inPeriod(opened) {
			f.Opened++
			due := s.FirstContactDue(cal, c)
			if !fc.IsZero() {
				tally(&f.FirstContact, !cal.Day(fc).After(due))
			} else if due.Before(today) {
				tally(&f.FirstContact, false)
			}
			if !fc.IsZero() {
				tally(&f.VictimsCode, happened(c.VictimsCodeAt) && !cal.Day(c.VictimsCodeAt).After(cal.Day(fc)))
			}
		}
		var closed time.Time
		if c.Closure != nil && happened(c.Closure.At) {
			closed = cal.Day(c.Closure.At)
		}
		last := to
		if today.Before(last) {
			last = today
		}
		if kept, counted := s.keptInContact(cal, c, opened, closed, from, last); counted {
			tally(&f.KeptInContact, kept)
		}
		if closed.IsZero() || !inPeriod(closed) {
			continue
		}
		f.Closed++
		days = append(days, int(epochDay(closed)-epochDay(opened)))
		if c.Closure.Outcome == OutcomeWithdrawn {
			f.Withdrawn++
		} else {
			tally(&f.Resolved, c.Closure.Outcome == OutcomeResolved)
		}
		due := s.SurveyDue(cal, c)
		if sv := c.Survey; sv != nil && happened(sv.At) {
			if sv.Declined {
				f.Declined++
			} else {
				tally(&f.SatisfiedOutcome, sv.SatisfiedOutcome)
				tally(&f.SatisfiedHandling, sv.SatisfiedHandling)
			}
			tally(&f.SurveyOnTime, !cal.Day(sv.At).After(due))
		} else if due.Before(today) {
			tally(&f.SurveyOnTime, false)
		}
	}
	f.DaysToClosure = median(days)
	return f
}

// keptInContact says whether a case kept the contact standard in the days from
// one day to another, and whether it counts there at all (it was open on one of
// them). The points are the day of opening, the days of contact and the end: the
// day of closure, or the last day when it is still open then.
func (s Standards) keptInContact(cal *Calendar, c *Case, opened, closed, from, last time.Time) (kept, counted bool) {
	if last.Before(from) || opened.After(last) || (!closed.IsZero() && closed.Before(from)) {
		return false, false
	}
	end := last
	if !closed.IsZero() && closed.Before(end) {
		end = closed
	}
	points := []time.Time{opened}
	for _, t := range c.ContactTimes() {
		if d := cal.Day(t); !d.After(end) {
			points = append(points, d)
		}
	}
	points = append(points, end)
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(points); i++ {
		if points[i].Before(from) {
			continue // a gap that ended before the period is another period's
		}
		if cal.WorkingDaysBetween(points[i-1], points[i]) > s.ContactEveryDays {
			return false, true
		}
	}
	return true, true
}

func median(xs []int) Median {
	if len(xs) == 0 {
		return Median{}
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return Median{Days: float64(xs[n/2]), N: n}
	}
	return Median{Days: float64(xs[n/2-1]+xs[n/2]) / 2, N: n}
}

// PartnerFigures are one partner's figures.
type PartnerFigures struct {
	Partner string
	Figures
}

// MeasureByPartner measures each partner's cases on their own, partners in name
// order; a partner with no case has no row.
func (s Standards) MeasureByPartner(cal *Calendar, cs []*Case, p Period) []PartnerFigures {
	by := map[string][]*Case{}
	for _, c := range cs {
		by[c.Partner] = append(by[c.Partner], c)
	}
	out := make([]PartnerFigures, 0, len(by))
	for partner, list := range by {
		out = append(out, PartnerFigures{Partner: partner, Figures: s.Measure(cal, list, p)})
	}
	slices.SortFunc(out, func(a, b PartnerFigures) int { return cmp.Compare(a.Partner, b.Partner) })
	return out
}
