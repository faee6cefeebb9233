package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/cases"
)

// standardJSON is one service standard for one partner: the share met in the
// period and a year earlier, against its target. Roles that see exact counts get
// the counts and the exact share. A role that may not see small counts gets the
// share of the true counts rounded to 5 points, only over 20 cases or more
// (ShareWithheld says why it is not given), the verdict from that rounded share,
// and the perturbed number of cases it is taken over; not the number that met
// it, which beside the rounded share would make a second, contradicting one
// (see caseShare).
type standardJSON struct {
	Key             string   `json:"key"`
	Label           string   `json:"label"`
	Target          *float64 `json:"target_pct"` // nil: no target
	Met             *int     `json:"met"`
	Of              *int     `json:"of"`
	Share           *float64 `json:"share_pct"`
	PreviousMet     *int     `json:"previous_met"`
	PreviousOf      *int     `json:"previous_of"`
	PreviousShare   *float64 `json:"previous_share_pct"`
	MeetsTarget     *bool    `json:"meets_target"` // nil: no target, or nothing shown
	PreviousMeetsIt *bool    `json:"previous_meets_target"`
	// ShareWithheld and PreviousWithheld give the reason a share is not given
	// ("fewer than 20 cases"); empty when it is given or exact counts are shown.
	ShareWithheld    string `json:"share_withheld,omitempty"`
	PreviousWithheld string `json:"previous_share_withheld,omitempty"`
}

// partnerStandardsJSON are one partner's standards (or every partner's together).
type partnerStandardsJSON struct {
	Partner           string         `json:"partner"` // "" for all partners together
	Name              string         `json:"name"`
	Opened            *int           `json:"opened"`
	Closed            *int           `json:"closed"`
	PreviousOpened    *int           `json:"previous_opened"`
	PreviousClosed    *int           `json:"previous_closed"`
	Standards         []standardJSON `json:"standards"`
	DaysToClosure     *float64       `json:"median_days_to_closure"`
	PrevDaysToClosure *float64       `json:"previous_median_days_to_closure"`
	Declined          *int           `json:"surveys_declined"`
}

// standardsJSON is the service-standards table of a period.
type standardsJSON struct {
	From         string                 `json:"from"`
	To           string                 `json:"to"`
	PreviousFrom string                 `json:"previous_from"`
	PreviousTo   string                 `json:"previous_to"`
	Partners     []partnerStandardsJSON `json:"partners"`
	// ShareRule says, to a role that may not see small counts, how its shares
	// were made.
	ShareRule string `json:"share_rule,omitempty"`
}

func meets(share *float64, target float64) *bool {
	if share == nil || target == 0 {
		return nil
	}
	v := *share >= target-1e-9
	return &v
}

// caseStandards measures the cases against the standards over a period and a
// year earlier, per partner and for all partners together, published under d.
func (s *Server) caseStandards(ctx context.Context, d disclosure, from, to time.Time) (*standardsJSON, error) {
	if s.cases == nil {
		return nil, nil
	}
	p := cases.Period{From: from, To: to, Today: s.opts.Cases.Calendar.Day(s.opts.Now())}
	y := p.YearEarlier()
	cs, err := s.cases.CasesForFigures(ctx, y.From, p.To)
	if err != nil {
		return nil, err
	}
	out := &standardsJSON{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		PreviousFrom: y.From.Format(time.DateOnly), PreviousTo: y.To.Format(time.DateOnly), Partners: []partnerStandardsJSON{}}
	if !d.exact {
		out.ShareRule = fmt.Sprintf("Each share is taken from the true counts and rounded to the nearest %d%%, and given only over %d cases or more; "+
			"the verdict is the rounded share's; the number of cases beside it is perturbed and rounded as every count.", ShareStep, ShareMinCases)
	}
	if len(cs) == 0 {
		return out, nil
	}
	std, cal := s.opts.Cases.Standards, s.opts.Cases.Calendar
	cur, prev := std.MeasureByPartner(cal, cs, p), std.MeasureByPartner(cal, cs, y)
	prevBy := map[string]cases.Figures{}
	for _, f := range prev {
		prevBy[f.Partner] = f.Figures
	}
	rows := []cases.PartnerFigures{{Partner: "", Figures: std.Measure(cal, cs, p)}}
	prevBy[""] = std.Measure(cal, cs, y)
	rows = append(rows, cur...)
	for _, pf := range rows {
		name := "All partners"
		if pf.Partner != "" {
			name = upperFirst(words(pf.Partner))
		}
		pv := prevBy[pf.Partner]
		dc := d.in("cases", pf.Partner, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
		dp := d.in("cases", pf.Partner, y.From.Format(time.DateOnly), y.To.Format(time.DateOnly))
		row := partnerStandardsJSON{Partner: pf.Partner, Name: name, Opened: dc.count(pf.Opened, "opened"), Closed: dc.count(pf.Closed, "closed"),
			PreviousOpened: dp.count(pv.Opened, "opened"), PreviousClosed: dp.count(pv.Closed, "closed"), Declined: dc.count(pf.Declined, "declined")}
		pl := pv.List()
		for i, f := range pf.List() {
			st := standardJSON{Key: f.Key, Label: f.Label, Of: dc.count(f.Denominator, f.Key, "of"), PreviousOf: dp.count(pl[i].Denominator, f.Key, "of")}
			if d.exact {
				st.Met, st.PreviousMet = dc.count(f.Numerator, f.Key, "met"), dp.count(pl[i].Numerator, f.Key, "met")
			}
			if f.Target > 0 {
				t := f.Target
				st.Target = &t
			}
			st.Share, st.ShareWithheld = d.caseShare(f.Numerator, f.Denominator)
			st.PreviousShare, st.PreviousWithheld = d.caseShare(pl[i].Numerator, pl[i].Denominator)
			st.MeetsTarget, st.PreviousMeetsIt = meets(st.Share, f.Target), meets(st.PreviousShare, f.Target)
			row.Standards = append(row.Standards, st)
		}
		if pf.DaysToClosure.N > 0 && dc.count(pf.DaysToClosure.N, "closure_median_n") != nil {
			v := math.Round(pf.DaysToClosure.Days*10) / 10
			row.DaysToClosure = &v
		}
		if pv.DaysToClosure.N > 0 && dp.count(pv.DaysToClosure.N, "closure_median_n") != nil {
			v := math.Round(pv.DaysToClosure.Days*10) / 10
			row.PrevDaysToClosure = &v
		}
		out.Partners = append(out.Partners, row)
	}
	return out, nil
}

// handleCaseFigures answers GET /api/v1/cases/figures?from=&to=: the service
// standards of the period and a year earlier, per partner; for the strategic
// group through the same suppression as every count, on the same periods as
// the review.
func (s *Server) handleCaseFigures(w http.ResponseWriter, r *http.Request) error {
	rq, _, err := s.reviewQuery(r.Context(), r)
	if err != nil {
		return err
	}
	d := s.disclosureFor(access.PrincipalFrom(r.Context()))
	out, err := s.caseStandards(r.Context(), d, rq.From, rq.To)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"standards": out})
	return nil
}

// repeatJSON is one repeat victim or offender as a case worker sees them: never
// the pseudonym, the places as areas.
type repeatRowJSON struct {
	Who      string            `json:"who"`
	Reports  int               `json:"reports"`
	First    string            `json:"first"`
	Last     string            `json:"last"`
	Strands  []string          `json:"strands"`
	Areas    []areaNameJSON    `json:"areas"`
	Refs     []cases.ReportRef `json:"refs"`
	OpenCase bool              `json:"open_case"`
	Flagged  bool              `json:"flagged"` // a repeat victim without an open case
}

type areaNameJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// repeatsFor finds the repeat victims or offenders among the reports the caller
// may follow (their partner's source; a scoped police user's areas), as of a day.
func (s *Server) repeatsFor(ctx context.Context, who *access.Principal, kind string, asOf time.Time) ([]repeatRowJSON, error) {
	rule := s.opts.Cases.Repeats
	from, to := rule.Window(asOf)
	reports, err := s.cases.RepeatReports(ctx, from, to)
	if err != nil {
		return nil, err
	}
	partner, all := casePartner(who)
	keep := reports[:0]
	for _, rp := range reports {
		if !all && rp.Source != partner {
			continue
		}
		if who.Scoped() && !slices.ContainsFunc(rp.Areas, func(a string) bool { return slices.Contains(who.Areas, a) }) {
			continue
		}
		keep = append(keep, rp)
	}
	found := rule.Find(keep, kind, asOf)
	open, err := s.cases.Cases(ctx, cases.Filter{Open: true})
	if err != nil {
		return nil, err
	}
	cases.MarkOpenCases(found, open)
	var codes []string
	for _, f := range found {
		codes = append(codes, f.Areas...)
	}
	names, err := s.store.AreaNames(ctx, codes)
	if err != nil {
		return nil, err
	}
	out := []repeatRowJSON{}
	for _, f := range found {
		row := repeatRowJSON{Who: f.Who, Reports: f.Reports, First: f.First.Format(time.DateOnly), Last: f.Last.Format(time.DateOnly),
			Strands: f.Strands, Refs: f.Refs, OpenCase: f.OpenCase, Flagged: f.Who == cases.Victim && !f.OpenCase, Areas: []areaNameJSON{}}
		if row.Strands == nil {
			row.Strands = []string{}
		}
		for _, a := range f.Areas {
			row.Areas = append(row.Areas, areaNameJSON{Code: a, Name: names[a]})
		}
		out = append(out, row)
	}
	return out, nil
}

// handleRepeats answers GET /api/v1/repeats?who=victim|offender&as_of=: the
// repeats of the window ending on the day (today by default) by the repeat rule.
func (s *Server) handleRepeats(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "who", "as_of")
	kind := q.single("who")
	if kind == "" {
		kind = cases.Victim
	}
	if kind != cases.Victim && kind != cases.Offender {
		q.fail("who", "%q is not victim or offender", kind)
	}
	asOf := q.day("as_of")
	if err := q.err(); err != nil {
		return err
	}
	if asOf.IsZero() {
		asOf = s.opts.Cases.Calendar.Day(s.opts.Now())
	}
	who := access.PrincipalFrom(r.Context())
	out, err := s.repeatsFor(r.Context(), who, kind, asOf)
	if err != nil {
		return err
	}
	from, to := s.opts.Cases.Repeats.Window(asOf)
	if err := s.auditErr(r, "repeats.read", map[string]any{"who": kind, "as_of": asOf.Format(time.DateOnly)}, int64(len(out))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "repeats": out})
	return nil
}

// worklistJSON is a case officer's worklist: their cases (and their partner's
// cases no officer works yet) with something due,
// earliest first, and the repeat victims without an open case.
type worklistJSON struct {
	Today   string          `json:"today"`
	Cases   []caseJSON      `json:"cases"`
	Flagged []repeatRowJSON `json:"repeat_victims_without_case"`
}

func (s *Server) worklist(ctx context.Context, who *access.Principal, all bool) (*worklistJSON, error) {
	list, err := s.caseList(ctx, who, !all && who.UserID != 0, false, 5000, true)
	if err != nil {
		return nil, err
	}
	today := s.opts.Cases.Calendar.Day(s.opts.Now())
	out := &worklistJSON{Today: today.Format(time.DateOnly), Cases: []caseJSON{}, Flagged: []repeatRowJSON{}}
	for _, c := range list {
		cj := s.caseFor(who, c)
		if len(cj.Due) > 0 {
			out.Cases = append(out.Cases, cj)
		}
	}
	slices.SortStableFunc(out.Cases, func(a, b caseJSON) int { return a.Due[0].Due.Compare(b.Due[0].Due) })
	reps, err := s.repeatsFor(ctx, who, cases.Victim, today)
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		if r.Flagged {
			out.Flagged = append(out.Flagged, r)
		}
	}
	return out, nil
}

// handleWorklist answers GET /api/v1/worklist: the caller's cases with what is
// due (?all=true: every case of their partner), and the repeat victims flagged.
func (s *Server) handleWorklist(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "all")
	all := q.single("all") == "true"
	if err := q.err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	out, err := s.worklist(r.Context(), who, all)
	if err != nil {
		return err
	}
	if err := s.auditErr(r, "cases.worklist", map[string]any{"all": all}, int64(len(out.Cases))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"worklist": out})
	return nil
}
