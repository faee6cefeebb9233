package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// eventDaysBefore and eventDaysAfter frame a trigger event's daily chart.
const (
	eventDaysBefore = 28
	eventDaysAfter  = 28
)

type triggerEventJSON struct {
	ID          int64     `json:"id"`
	Day         string    `json:"day"`
	Scope       string    `json:"scope"`
	Description string    `json:"description"`
	Strands     []string  `json:"strands"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Assessments []int64   `json:"assessments"`
}

func eventJSON(e *tension.TriggerEventDetail) triggerEventJSON {
	return triggerEventJSON{ID: e.ID, Day: e.Day.Format(time.DateOnly), Scope: e.Scope, Description: e.Description,
		Strands: nonNil(e.Strands), CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt, Assessments: nonNilIDs(e.Assessments)}
}

// scopeLinks keeps, for a caller scoped to areas, only the linked assessments they
// may read (those of their areas and the citywide ones, as on the assessment routes):
// the ids of others would tell them that work goes on elsewhere and where to look.
// It reads nothing for an unscoped caller.
func (s *Server) scopeLinks(ctx context.Context, who *access.Principal, events []tension.TriggerEventDetail) error {
	if !who.Scoped() {
		return nil
	}
	var ids []int64
	for _, e := range events {
		ids = append(ids, e.Assessments...)
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	visible, err := s.store.AssessmentsInScope(ctx, slices.Compact(ids), who.Areas)
	if err != nil {
		return err
	}
	for i := range events {
		kept := []int64{}
		for _, id := range events[i].Assessments {
			if _, found := slices.BinarySearch(visible, id); found {
				kept = append(kept, id)
			}
		}
		events[i].Assessments = kept
	}
	return nil
}

// scopeLink is scopeLinks for one event.
func (s *Server) scopeLink(ctx context.Context, who *access.Principal, e *tension.TriggerEventDetail) error {
	one := []tension.TriggerEventDetail{*e}
	if err := s.scopeLinks(ctx, who, one); err != nil {
		return err
	}
	e.Assessments = one[0].Assessments
	return nil
}

func nonNilIDs(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

// handleTriggerEvents answers GET /api/v1/trigger-events, the latest first.
func (s *Server) handleTriggerEvents(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "limit")
	limit := q.intIn("limit", 200, 1, 1000)
	if err := q.err(); err != nil {
		return err
	}
	list, err := s.store.TriggerEventList(r.Context(), limit)
	if err != nil {
		return err
	}
	if err := s.scopeLinks(r.Context(), access.PrincipalFrom(r.Context()), list); err != nil {
		return err
	}
	out := make([]triggerEventJSON, len(list))
	for i := range list {
		out[i] = eventJSON(&list[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
	return nil
}

// eventInput is a trigger event as a person records it.
type eventInput struct {
	Day         string   `json:"day"`
	Scope       string   `json:"scope"`
	Description string   `json:"description"`
	Strands     []string `json:"strands"`
}

func (s *Server) eventOf(in eventInput) (*tension.TriggerEvent, error) {
	e := &tension.TriggerEvent{Scope: strings.TrimSpace(in.Scope), Description: strings.TrimSpace(in.Description), Strands: []string{}}
	if in.Day != "" {
		d, err := time.Parse(time.DateOnly, in.Day)
		if err != nil {
			return nil, geo.Errorf(geo.EINVALID, "day: %q is not a day such as 2026-06-01", in.Day)
		}
		e.Day = d
	}
	for _, st := range cleanList(in.Strands) {
		e.Strands = append(e.Strands, geo.NormaliseName(st))
	}
	return e, tension.CheckTriggerEvent(e, s.opts.Strands, s.opts.Now())
}

// handleCreateTriggerEvent answers POST /api/v1/trigger-events. The engine measures
// the uplift after it on its next run.
func (s *Server) handleCreateTriggerEvent(w http.ResponseWriter, r *http.Request) error {
	var in eventInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.eventOf(in)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	if err := s.store.CreateTriggerEvent(r.Context(), e, who.Actor()); err != nil {
		return err
	}
	s.audit(r, "events.create", map[string]any{"id": e.ID, "day": in.Day, "scope": e.Scope}, 1)
	if s.opts.AfterIngest != nil {
		s.opts.AfterIngest() // the engine measures it soon
	}
	d, err := s.store.TriggerEvent(r.Context(), e.ID)
	if err != nil {
		return err
	}
	if err := s.scopeLink(r.Context(), who, d); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/trigger-events/"+strconv.FormatInt(e.ID, 10))
	writeJSON(w, http.StatusCreated, map[string]any{"event": eventJSON(d)})
	return nil
}

// upliftJSON is one series' uplift after an event, counts as the caller may see them.
type upliftJSON struct {
	Strand  string             `json:"strand"` // "" for all strands
	Windows []upliftWindowJSON `json:"windows"`
}

type upliftWindowJSON struct {
	Days     int             `json:"days"`   // the days covered: fewer than Length while the event is recent
	Length   int             `json:"length"` // the window's configured length in days
	From     string          `json:"from"`
	To       string          `json:"to"`
	Text     string          `json:"text"` // "14 days, 24 Jun – 7 Jul 2016"; "4 of 14 days so far, 24–27 Jun 2016"
	Observed *int            `json:"observed"`
	LastYear *comparisonJSON `json:"last_year"`
	Prior    *comparisonJSON `json:"prior"`
}

type comparisonJSON struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Text     string   `json:"text"` // the baseline in words: "the four weeks before (27 May – 23 Jun 2016)"
	Baseline *int     `json:"baseline"`
	Expected *float64 `json:"expected"`
	Ratio    *float64 `json:"ratio"`
	P        *float64 `json:"p_value"`
	CILow    *float64 `json:"ci_low"`
	CIHigh   *float64 `json:"ci_high"`
}

// windowDays says the days a window covers, and its length while it is not yet
// complete: "14 days", "4 of 14 days so far".
func windowDays(covered, length int) string {
	if covered < length {
		return fmt.Sprintf("%d of %d days so far", covered, length)
	}
	return tension.DaysWord(covered)
}

// eventUplifts shapes the engine's uplift results; a series' days count from its
// own start, which eventDay maps to the event's day. For a role that may not see
// small numbers, counts are withheld or rounded and the statistics made from them
// withheld with them.
func eventUplifts(d disclosure, e *tension.TriggerEventDetail) []upliftJSON {
	out := []upliftJSON{}
	for _, u := range e.Uplifts {
		dateOf := func(i int) time.Time { return e.Day.AddDate(0, 0, i-u.EventDay) }
		dayOf := func(i int) string { return dateOf(i).Format(time.DateOnly) }
		uj := upliftJSON{Strand: u.Name, Windows: []upliftWindowJSON{}}
		du := d.in("window", u.Name)
		for _, w := range u.Windows {
			obs := du.count(w.Observed, dayOf(w.FirstDay), dayOf(w.LastDay))
			covered := w.LastDay - w.FirstDay + 1
			wj := upliftWindowJSON{Days: covered, Length: w.Days, From: dayOf(w.FirstDay), To: dayOf(w.LastDay), Observed: obs,
				Text: windowDays(covered, w.Days) + ", " + tension.DayRange(dateOf(w.FirstDay), dateOf(w.LastDay))}
			cmp := func(c tension.UpliftComparison, words string) *comparisonJSON {
				if !c.Available {
					return nil
				}
				cj := &comparisonJSON{From: dayOf(c.FirstDay), To: dayOf(c.LastDay), Baseline: du.count(c.Baseline, dayOf(c.FirstDay), dayOf(c.LastDay)),
					Text: words + " (" + tension.DayRange(dateOf(c.FirstDay), dateOf(c.LastDay)) + ")"}
				switch {
				case obs == nil || cj.Baseline == nil:
				case d.exact:
					cj.Expected, cj.Ratio, cj.P = optFloat(c.Expected, 2), optFloat(c.Ratio, 3), exactFloat(c.P)
					cj.CILow, cj.CIHigh = optFloat(c.CILow, 3), optFloat(c.CIHigh, 3)
				case c.Baseline > 0:
					// From the published counts only: the exact expectation, p-value
					// and interval would give the counts back.
					e := float64(*cj.Baseline) * c.Expected / float64(c.Baseline)
					cj.Expected = optFloat(e, 2)
					if e > 0 {
						cj.Ratio = optFloat(float64(*obs)/e, 3)
					}
				}
				return cj
			}
			wj.LastYear = cmp(w.LastYear, "the same days a year earlier")
			wj.Prior = cmp(w.Prior, "the "+tension.PeriodWords(w.Prior.LastDay-w.Prior.FirstDay+1)+" before")
			uj.Windows = append(uj.Windows, wj)
		}
		out = append(out, uj)
	}
	return out
}

// eventDaily is the daily counts around an event, for the event's strands (all
// when it names none), as the caller may see them.
func (s *Server) eventDaily(ctx context.Context, d disclosure, e *tension.TriggerEventDetail) (map[string]any, error) {
	from, to := e.Day.AddDate(0, 0, -eventDaysBefore), e.Day.AddDate(0, 0, eventDaysAfter)
	if last := s.opts.Now().UTC(); to.After(last) {
		to = time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	}
	if to.Before(from) {
		to = from
	}
	counts, err := s.store.DailyCounts(ctx, geo.Filter{Strands: e.Strands}, from, to)
	if err != nil {
		return nil, err
	}
	// The same days a year earlier, for the eye.
	before, err := s.store.DailyCounts(ctx, geo.Filter{Strands: e.Strands}, from.AddDate(0, 0, -364), to.AddDate(0, 0, -364))
	if err != nil {
		return nil, err
	}
	d = d.in("day", s.filterScope(geo.Filter{Strands: e.Strands}))
	days := make([]map[string]any, len(counts))
	for i := range counts {
		day, dayBefore := from.AddDate(0, 0, i), from.AddDate(0, 0, i-364)
		days[i] = map[string]any{"day": day.Format(time.DateOnly), "count": d.count(counts[i], day.Format(time.DateOnly)),
			"year_before": d.count(before[i], dayBefore.Format(time.DateOnly))}
	}
	return map[string]any{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "strands": nonNil(e.Strands), "days": days}, nil
}

// loadTriggerEvent reads the trigger event a request's {id} names; the request takes
// no query parameters.
func (s *Server) loadTriggerEvent(r *http.Request) (*tension.TriggerEventDetail, error) {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.TriggerEvent(r.Context(), id)
}

// handleTriggerEvent answers GET /api/v1/trigger-events/{id}: the event, the
// uplift the engine measured after it, its daily counts around it, and the
// assessments that respond to it.
func (s *Server) handleTriggerEvent(w http.ResponseWriter, r *http.Request) error {
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
	writeJSON(w, http.StatusOK, map[string]any{"event": eventJSON(e), "uplifts": eventUplifts(d, e), "daily": daily})
	return nil
}
