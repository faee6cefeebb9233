package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb/geojson"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// The strategic review: a period's picture for the hate crime strategic group, as
// a page that prints, a JSON answer and exports. Counts pass through the caller's
// disclosure like every other count: a strategic user sees none from 1 to k-1 and
// the rest rounded, and every percentage, rate and share is made from what is shown.

// reviewParams are the review's query parameters.
var reviewParams = []string{"from", "to", "level", "preset"}

// reviewPresets name the periods the page offers.
var reviewPresets = []string{"quarter", "year", "ytd", "custom"}

// reviewQuery reads the period: a preset ending with the last complete quarter (or
// the last twelve complete months, or the year to date) before the last day with
// data, or from and to.
func (s *Server) reviewQuery(ctx context.Context, r *http.Request) (geo.ReviewQuery, string, error) {
	q := newQuery(r.URL.Query(), reviewParams...)
	from, to := q.day("from"), q.day("to")
	level := q.single("level")
	preset := q.single("preset")
	if preset != "" && !slices.Contains(reviewPresets, preset) {
		q.fail("preset", "%q is not quarter, year, ytd or custom", preset)
	}
	if err := q.err(); err != nil {
		return geo.ReviewQuery{}, "", err
	}
	if preset == "" {
		preset = "quarter"
		if !from.IsZero() || !to.IsZero() {
			preset = "custom"
		}
	}
	if preset == "custom" && (from.IsZero() || to.IsZero()) {
		return geo.ReviewQuery{}, "", geo.Errorf(geo.EINVALID, "from, to: a custom period needs both days")
	}
	if preset != "custom" {
		st, err := s.store.Stats(ctx)
		if err != nil {
			return geo.ReviewQuery{}, "", err
		}
		last := st.LastDay
		if last.IsZero() {
			last = s.opts.Now().UTC()
		}
		last = geo.Day(last)
		switch preset {
		case "quarter":
			// The last quarter that ended on or before the last day with data.
			qStart := time.Date(last.Year(), time.Month((int(last.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
			if qEnd := qStart.AddDate(0, 3, -1); !qEnd.After(last) {
				from, to = qStart, qEnd
			} else {
				from, to = qStart.AddDate(0, -3, 0), qStart.AddDate(0, 0, -1)
			}
		case "year":
			mStart := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
			if mStart.AddDate(0, 1, -1).Equal(last) {
				mStart = mStart.AddDate(0, 1, 0)
			}
			from, to = mStart.AddDate(-1, 0, 0), mStart.AddDate(0, 0, -1)
		case "ytd":
			from, to = time.Date(last.Year(), 1, 1, 0, 0, 0, 0, time.UTC), last
		}
	}
	if d := s.disclosureFor(access.PrincipalFrom(ctx)); !d.exact {
		f := geo.Filter{From: from, To: to}
		d.period(&f, to)
		if f.From.IsZero() {
			return geo.ReviewQuery{}, "", geo.Errorf(geo.EINVALID, "from, to: %s; a review covers a month, a quarter or a year", periodNote)
		}
		from, to = f.From, f.To
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return geo.ReviewQuery{}, "", geo.Errorf(geo.EINVALID, "from, to: a review covers at most three years")
	}
	rq, err := geo.ReviewQuery{From: from, To: to, Level: level, Location: s.opts.Location,
		RepeatMonths: s.opts.Cases.Repeats.WindowMonths}.Normalise(s.opts.Now())
	return rq, preset, err
}

// figureJSON is one figure this period beside a year earlier.
type figureJSON struct {
	Label    string   `json:"label"`
	Key      string   `json:"key"`
	Count    *int     `json:"count"`
	Previous *int     `json:"previous"`
	Change   *float64 `json:"change_pct"` // nil: no previous count, or withheld
	Share    *float64 `json:"share_pct,omitempty"`
}

func pctOf(cur, prev *int) *float64 {
	if cur == nil || prev == nil {
		return nil
	}
	if p, ok := geo.PctChange(*cur, *prev); ok {
		p = math.Round(p*10) / 10
		return &p
	}
	return nil
}

func shareOf(part, whole *int) *float64 {
	if part == nil || whole == nil || *whole == 0 {
		return nil
	}
	v := math.Round(float64(*part)/float64(*whole)*1000) / 10
	return &v
}

// figure is one figure of the period (published under dc) beside a year earlier
// (under dp).
func figure(dc, dp disclosure, label, key string, cur, prev int) figureJSON {
	c, p := dc.count(cur, key), dp.count(prev, key)
	return figureJSON{Label: label, Key: key, Count: c, Previous: p, Change: pctOf(c, p)}
}

type areaRowJSON struct {
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Population *int     `json:"population"`
	Count      *int     `json:"count"`
	Previous   *int     `json:"previous"`
	Rise       *int     `json:"rise"`
	Change     *float64 `json:"change_pct"`
	Rate       *float64 `json:"rate_per_1000"`
}

type repeatJSON struct {
	WithKey       *int     `json:"with_key"`
	People        *int     `json:"people"`
	RepeatPeople  *int     `json:"repeat_people"`
	RepeatReports *int     `json:"repeat_reports"`
	RepeatShare   *float64 `json:"repeat_share_pct"`
}

func (d disclosure) repeats(r geo.RepeatCounts) repeatJSON {
	out := repeatJSON{WithKey: d.count(r.WithKey, "with_key"), People: d.count(r.People, "people"), RepeatPeople: d.count(r.RepeatPeople, "repeat_people"),
		RepeatReports: d.count(r.RepeatReports, "repeat_reports")}
	out.RepeatShare = shareOf(out.RepeatReports, out.WithKey)
	return out
}

// reviewJSON is the review as the caller may see it.
type reviewJSON struct {
	From         string            `json:"from"`
	To           string            `json:"to"`
	PreviousFrom string            `json:"previous_from"`
	PreviousTo   string            `json:"previous_to"`
	Preset       string            `json:"preset"`
	Level        string            `json:"level"`
	Totals       []figureJSON      `json:"totals"`
	Strands      []figureJSON      `json:"strands"`
	Sources      []figureJSON      `json:"sources"`
	Victims      repeatJSON        `json:"repeat_victims"`
	Offenders    repeatJSON        `json:"repeat_offenders"`
	Months       []map[string]any  `json:"months"`
	Areas        []areaRowJSON     `json:"areas"`
	HighestRates []areaRowJSON     `json:"highest_rates"`
	LargestRises []areaRowJSON     `json:"largest_rises"`
	Alerts       reviewAlerts      `json:"alerts"`
	Assessments  reviewAssessments `json:"assessments"`
	Outcomes     reviewOutcomes    `json:"outcomes"`
	// Standards are the service standards of victim cases; absent when the
	// service keeps no cases.
	Standards *standardsJSON `json:"service_standards,omitempty"`
}

// reviewAlerts are the alerts raised in the period: operational figures, not counts
// of reports, shown to every reader as they are.
type reviewAlerts struct {
	Raised   int            `json:"raised"`
	ByMethod map[string]int `json:"by_method"`
	ByLevel  map[string]int `json:"by_level"`
}

type reviewAssessments struct {
	Opened         int      `json:"opened"`
	Closed         int      `json:"closed"`
	Open           int      `json:"open_now"`
	Overdue        int      `json:"overdue"`
	OverdueActions int      `json:"overdue_actions"`
	DaysToOpen     *float64 `json:"median_days_alert_to_assessment"`
	DaysToOpenOver int      `json:"median_over"`
}

type reviewOutcomes struct {
	Crimes       *int           `json:"crimes"`
	WithOutcome  *int           `json:"with_outcome"`
	Positive     *int           `json:"positive"`
	PositiveRate *float64       `json:"positive_pct"` // sanction detections per 100 police-recorded crimes
	ByOutcome    []outcomeCount `json:"by_outcome"`
}

type outcomeCount struct {
	Outcome string `json:"outcome"`
	Count   *int   `json:"count"`
}

// reviewTop is how many areas the page's two tables list.
const reviewTop = 10

func (s *Server) reviewJSON(rv *geo.Review, d disclosure, preset string) reviewJSON {
	q := rv.Query
	out := reviewJSON{From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly),
		PreviousFrom: rv.YearEarlier.From.Format(time.DateOnly), PreviousTo: rv.YearEarlier.To.Format(time.DateOnly),
		Preset: preset, Level: q.Level, Alerts: reviewAlerts{Raised: rv.Alerts.Raised, ByMethod: rv.Alerts.ByMethod, ByLevel: rv.Alerts.ByLevel}}
	p, y := rv.Period, rv.YearEarlier
	// Each figure is published under the name of its period, so the same quarter
	// shown as this period or as a year earlier is the same answer.
	dc := d.in("citywide", s.filterScope(geo.Filter{From: q.From, To: q.To}))
	dp := d.in("citywide", s.filterScope(geo.Filter{From: rv.YearEarlier.From, To: rv.YearEarlier.To}))
	out.Totals = []figureJSON{figure(dc, dp, "All reports", "reports", p.Reports, y.Reports), figure(dc, dp, "Hate crimes", "crimes", p.Crimes, y.Crimes),
		figure(dc, dp, "Hate incidents", "incidents", p.Incidents, y.Incidents)}
	for _, st := range rv.Strands {
		out.Strands = append(out.Strands, figure(dc.in("strand"), dp.in("strand"), words(st), st, p.ByStrand[st], y.ByStrand[st]))
	}
	total := out.Totals[0].Count
	for _, src := range rv.Sources {
		f := figure(dc.in("source"), dp.in("source"), words(src), src, p.BySource[src], y.BySource[src])
		f.Share = shareOf(f.Count, total)
		out.Sources = append(out.Sources, f)
	}
	out.Victims, out.Offenders = dc.in("victims").repeats(rv.Repeats.Victims), dc.in("offenders").repeats(rv.Repeats.Offenders)
	for _, m := range rv.Months {
		dm := d.in("citywide", s.filterScope(geo.Filter{From: m.Month, To: m.Month.AddDate(0, 1, -1)}))
		row := map[string]any{"month": m.Month.Format("2006-01"), "total": dm.count(m.Total, "reports")}
		for _, st := range rv.Strands {
			row[st] = dm.in("strand").count(m.ByStrand[st], st)
		}
		out.Months = append(out.Months, row)
	}
	// Areas, ranked on the counts as shown, so that a ranking tells no more than the table.
	shown := make([]geo.ReviewArea, 0, len(rv.Areas))
	// The same area and period as /api/v1/areas asks: the same answer.
	da := d.in("area", s.filterScope(geo.Filter{From: q.From, To: q.To}))
	dpa := d.in("area", s.filterScope(geo.Filter{From: rv.YearEarlier.From, To: rv.YearEarlier.To}))
	for _, a := range rv.Areas {
		row := areaRowJSON{Code: a.Code, Name: a.Name, Count: da.count(a.Count, a.Code, "total"), Previous: dpa.count(a.Previous, a.Code, "total")}
		if a.Population > 0 {
			pop := a.Population
			row.Population = &pop
		}
		row.Rate = d.rate(row.Count, a.Population)
		row.Change = pctOf(row.Count, row.Previous)
		if row.Count != nil && row.Previous != nil {
			rise := *row.Count - *row.Previous
			row.Rise = &rise
			shown = append(shown, geo.ReviewArea{Code: a.Code, Name: a.Name, Population: a.Population, Count: *row.Count, Previous: *row.Previous})
		}
		out.Areas = append(out.Areas, row)
	}
	byCode := map[string]areaRowJSON{}
	for _, a := range out.Areas {
		byCode[a.Code] = a
	}
	for _, a := range geo.RankByRate(shown, reviewTop) {
		out.HighestRates = append(out.HighestRates, byCode[a.Code])
	}
	for _, a := range geo.RankByRise(shown, reviewTop) {
		if a.Rise() > 0 {
			out.LargestRises = append(out.LargestRises, byCode[a.Code])
		}
	}
	as := rv.Assessments
	out.Assessments = reviewAssessments{Opened: as.Opened, Closed: as.Closed, Open: as.Open, Overdue: as.Overdue,
		OverdueActions: as.OverdueActions, DaysToOpen: as.DaysToOpen, DaysToOpenOver: as.DaysToOpenOver}
	oc := rv.Outcomes
	do := dc.in("outcomes")
	out.Outcomes = reviewOutcomes{Crimes: do.count(oc.Crimes, "crimes"), WithOutcome: do.count(oc.WithOutcome, "with_outcome"), Positive: do.count(oc.Positive, "positive")}
	out.Outcomes.PositiveRate = shareOf(out.Outcomes.Positive, out.Outcomes.Crimes)
	names := make([]string, 0, len(oc.ByOutcome))
	for k := range oc.ByOutcome {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if oc.ByOutcome[a] != oc.ByOutcome[b] {
			return oc.ByOutcome[b] - oc.ByOutcome[a]
		}
		return compareStrings(a, b)
	})
	for _, k := range names {
		out.Outcomes.ByOutcome = append(out.Outcomes.ByOutcome, outcomeCount{Outcome: k, Count: do.count(oc.ByOutcome[k], "outcome", k)})
	}
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func words(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == '_' {
			out[i] = ' '
		}
	}
	return string(out)
}

// review computes the review's figures. They are not kept: outcomes load without
// changing the data version, and a review is asked for rarely.
func (s *Server) review(ctx context.Context, rq geo.ReviewQuery) (*geo.Review, error) {
	return s.store.Review(ctx, rq)
}

// reviewHotspots is the hot spot and emerging hot spot analysis of the period: Gi*
// over the period's counts at the engine's resolution, and the emerging patterns
// over its weeks (at least ten, as the method needs), kept per period and version.
func (s *Server) reviewHotspots(ctx context.Context, rq geo.ReviewQuery) (*tension.Report, error) {
	version, err := s.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	days := int(rq.To.Sub(rq.From).Hours()/24) + 1
	key := fmt.Sprintf("reviewhotspots|%s|%d|%s", rq.To.Format(time.DateOnly), days, version)
	v, err := s.tiles.Memo().Get(ctx, key, func() (any, error) {
		o := tension.DefaultEngineOptions()
		o.Detectors = []string{"hotspots"}
		o.Strands = s.opts.Strands
		o.HotspotRecentDays = days
		o.HotspotWeeks = max(10, (days+6)/7)
		return tension.Run(ctx, s.store, rq.To, o)
	})
	if err != nil {
		return nil, err
	}
	rep := v.(*tension.Report)
	if d := s.disclosureFor(access.PrincipalFrom(ctx)); !d.exact {
		// A copy: the cached report stays exact.
		cp := *rep
		if cp.Hotspots, err = s.hotspots(ctx, d, rep.HotspotRes, rep.HotspotFrom, rep.HotspotTo, rep.Hotspots); err != nil {
			return nil, err
		}
		rep = &cp
	}
	return rep, nil
}

// handleReviewAPI answers GET /api/v1/review.
func (s *Server) handleReviewAPI(w http.ResponseWriter, r *http.Request) error {
	rq, preset, err := s.reviewQuery(r.Context(), r)
	if err != nil {
		return err
	}
	rv, err := s.review(r.Context(), rq)
	if err != nil {
		return err
	}
	d := s.disclosureFor(access.PrincipalFrom(r.Context()))
	view := s.reviewJSON(rv, d, preset)
	if view.Standards, err = s.caseStandards(r.Context(), d, rq.From, rq.To); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"review": view})
	return nil
}

// handleReviewPage serves the review page.
func (s *Server) handleReviewPage(w http.ResponseWriter, r *http.Request) error {
	rq, preset, err := s.reviewQuery(r.Context(), r)
	if err != nil {
		return err
	}
	rv, err := s.review(r.Context(), rq)
	if err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	d := s.disclosureFor(who)
	view := s.reviewJSON(rv, d, preset)
	if view.Standards, err = s.caseStandards(r.Context(), d, rq.From, rq.To); err != nil {
		return err
	}
	levels, err := s.store.AreaLevels(r.Context())
	if err != nil {
		return err
	}
	hs, err := s.reviewHotspots(r.Context(), rq)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	query.Set("from", view.From)
	query.Set("to", view.To)
	query.Set("level", view.Level)
	query.Del("preset")
	data := map[string]any{"R": view, "Levels": levels, "Presets": reviewPresets, "Exact": d.exact, "ExportQuery": query.Encode(),
		"Hotspots": hotspotSummary(hs), "HotspotRes": hs.HotspotRes,
		"KMinus1": s.opts.SuppressBelow - 1, "K": s.opts.SuppressBelow, "RoundTo": s.opts.RoundTo}
	for k, v := range s.reviewCharts(r.Context(), rv, view, hs, d) {
		data[k] = v
	}
	s.render(w, r, "review.html", data)
	return nil
}

// hotspotSummary counts the hexagons of each confidence and category.
func hotspotSummary(rep *tension.Report) map[string]int {
	out := map[string]int{}
	for _, h := range rep.Hotspots {
		switch {
		case h.Confidence >= 95:
			out["hot95"]++
		case h.Confidence <= -95:
			out["cold95"]++
		}
		if h.Category != tension.CategoryNoPattern && h.Category != "" {
			out["patterns"]++
		}
	}
	return out
}

// handleReviewExport serves the review's tables and hot spots as files: areas.csv,
// strands.csv, months.csv and hotspots.geojson. Every export is audited.
func (s *Server) handleReviewExport(name string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rq, preset, err := s.reviewQuery(r.Context(), r)
		if err != nil {
			return err
		}
		who := access.PrincipalFrom(r.Context())
		d := s.disclosureFor(who)
		var rows int64
		file := fmt.Sprintf("tensionmap-%s-%s-%s", name[:len(name)-len(extOf(name))], rq.From.Format(time.DateOnly), rq.To.Format(time.DateOnly))
		if name == "hotspots.geojson" {
			hs, err := s.reviewHotspots(r.Context(), rq)
			if err != nil {
				return err
			}
			dh := d.in("cell", s.filterScope(geo.Filter{From: rq.From, To: rq.To}))
			fc := geojson.NewFeatureCollection()
			for _, h := range hs.Hotspots {
				if h.Count == 0 && h.Confidence == 0 && (h.Category == tension.CategoryNoPattern || h.Category == "") {
					continue // a neighbour with nothing to say
				}
				f := geojson.NewFeature(geo.CellPolygon(h.Cell))
				f.ID = geo.CellString(h.Cell)
				f.Properties = map[string]any{"cell": geo.CellString(h.Cell), "res": hs.HotspotRes,
					"confidence": h.Confidence, "category": string(h.Category)}
				if d.exact {
					f.Properties["z"], f.Properties["p"] = round3(h.Z), h.P
				}
				c := dh.count(h.Count, geo.CellString(h.Cell), "total")
				if !d.exact {
					c = nil // the analysis gave the published count already
					if h.Count > 0 {
						c = &h.Count
					}
				}
				if c != nil {
					f.Properties["count"] = *c
				} else {
					f.Properties["suppressed"] = true
				}
				fc.Append(f)
			}
			rows = int64(len(fc.Features))
			if err := s.auditErr(r, "review.export", map[string]any{"file": name, "from": rq.From.Format(time.DateOnly), "to": rq.To.Format(time.DateOnly)}, rows); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/geo+json")
			w.Header().Set("Content-Disposition", `attachment; filename="`+file+`.geojson"`)
			b, err := fc.MarshalJSON()
			if err != nil {
				return err
			}
			w.Write(b)
			return nil
		}
		rv, err := s.review(r.Context(), rq)
		if err != nil {
			return err
		}
		view := s.reviewJSON(rv, d, preset)
		var table [][]string
		switch name {
		case "areas.csv":
			table = append(table, []string{"code", "name", "level", "population", "reports", "reports_year_earlier", "rise", "change_pct", "rate_per_1000"})
			for _, a := range view.Areas {
				table = append(table, []string{a.Code, a.Name, view.Level, intCell(a.Population), intCell(a.Count), intCell(a.Previous),
					intCell(a.Rise), floatCell(a.Change), floatCell(a.Rate)})
			}
		case "strands.csv":
			table = append(table, []string{"group", "name", "reports", "reports_year_earlier", "change_pct", "share_pct"})
			for _, part := range []struct {
				group string
				rows  []figureJSON
			}{{"total", view.Totals}, {"strand", view.Strands}, {"source", view.Sources}} {
				for _, f := range part.rows {
					table = append(table, []string{part.group, f.Key, intCell(f.Count), intCell(f.Previous), floatCell(f.Change), floatCell(f.Share)})
				}
			}
		case "months.csv":
			head := append([]string{"month", "total"}, rv.Strands...)
			table = append(table, head)
			for _, m := range view.Months {
				row := []string{m["month"].(string), intCell(m["total"].(*int))}
				for _, st := range rv.Strands {
					row = append(row, intCell(m[st].(*int)))
				}
				table = append(table, row)
			}
		}
		rows = int64(len(table) - 1)
		if err := s.auditErr(r, "review.export", map[string]any{"file": name, "from": rq.From.Format(time.DateOnly), "to": rq.To.Format(time.DateOnly), "level": rq.Level}, rows); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+file+`.csv"`)
		cw := csv.NewWriter(w)
		// A spreadsheet never runs an area's name as a formula.
		for _, row := range table {
			for i, c := range row {
				row[i] = csvSafe(c)
			}
		}
		cw.WriteAll(table)
		return cw.Error()
	}
}

func extOf(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			return name[i:]
		}
	}
	return ""
}

func intCell(v *int) string {
	if v == nil {
		return "withheld"
	}
	return strconv.Itoa(*v)
}

func floatCell(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' && (len(s) < 2 || s[1] < '0' || s[1] > '9') || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
