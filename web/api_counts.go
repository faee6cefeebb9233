package web

import (
	"context"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.opts.Version})
	return nil
}

// handleReadyz answers 200 when the database is reachable and migrated, 503 otherwise.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.Ready(r.Context()); err != nil {
		reason := geo.ErrorMessage(err)
		if geo.ErrorCode(err) == geo.EINTERNAL {
			reason = "database unreachable"
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// countJSON is one count as the API gives it: null and suppressed when withheld.
type countJSON struct {
	Count      *int            `json:"count"`
	Suppressed bool            `json:"suppressed,omitempty"`
	Crimes     *int            `json:"crimes"`
	Incidents  *int            `json:"incidents"`
	ByStrand   map[string]*int `json:"by_strand"`
}

// countJSON shows one place's counts; id names the place in the disclosure's scope.
func (s *Server) countJSON(d disclosure, id string, count, crimes, incidents int, byStrand map[string]int) countJSON {
	c := countJSON{Count: d.count(count, id, "total"), Crimes: d.count(crimes, id, "crime"), Incidents: d.count(incidents, id, "incident"),
		ByStrand: d.counts(byStrand, s.opts.Strands, id, "strand")}
	c.Suppressed = c.Count == nil
	return c
}

type cellJSON struct {
	Cell string  `json:"cell"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	countJSON
}

// handleCells answers GET /api/v1/cells: per-cell counts at a resolution for a box,
// a period and filters.
func (s *Server) handleCells(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), append([]string{"res", "bbox"}, filterParams...)...)
	res := q.intIn("res", -1, 0, 15)
	box := q.bbox("bbox")
	f := q.filter(s.opts.Strands, s.opts.Sources)
	if err := q.err(); err != nil {
		return err
	}
	s.defaultPeriod(&f)
	stored, err := s.store.Resolutions(r.Context())
	if err != nil {
		return err
	}
	if res < 0 {
		if len(stored) == 0 {
			return geo.Errorf(geo.ENOTFOUND, "no incidents are stored yet")
		}
		res = stored[len(stored)-1]
	} else if !slices.Contains(stored, res) {
		return geo.Errorf(geo.EINVALID, "res: counts are kept at resolutions %v", stored)
	}
	d, snapped, err := s.restrict(r.Context(), s.disclosureFor(access.PrincipalFrom(r.Context())), &f, "cell")
	if err != nil {
		return err
	}
	counts, err := s.store.CellCounts(r.Context(), res, f)
	if err != nil {
		return err
	}
	out := make([]cellJSON, 0, len(counts))
	for _, c := range counts {
		ll := h3.Cell(c.Cell).LatLng()
		if box != nil && !box.Contains(geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}) {
			continue
		}
		cj := cellJSON{Cell: geo.CellString(c.Cell), Lat: round6(ll.Lat), Lon: round6(ll.Lng),
			countJSON: s.countJSON(d, geo.CellString(c.Cell), c.Count, c.Crimes, c.Incidents, c.ByStrand)}
		if cj.Suppressed && !d.exact {
			// A withheld cell is left out like an empty one: its presence would say
			// it is not empty.
			continue
		}
		out = append(out, cj)
	}
	answer := map[string]any{"resolution": res, "filter": filterJSON(f), "cells": out}
	noteSnapped(w, answer, f, snapped)
	writeJSON(w, http.StatusOK, answer)
	return nil
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func filterJSON(f geo.Filter) map[string]any {
	m := map[string]any{}
	if !f.From.IsZero() {
		m["from"] = f.From.Format(time.DateOnly)
	}
	if !f.To.IsZero() {
		m["to"] = f.To.Format(time.DateOnly)
	}
	if len(f.Strands) > 0 {
		m["strand"] = f.Strands
	}
	if len(f.Kinds) > 0 {
		m["kind"] = f.Kinds
	}
	if len(f.Sources) > 0 {
		m["source"] = f.Sources
	}
	return m
}

type areaJSON struct {
	Code        string          `json:"code"`
	Name        string          `json:"name"`
	Level       string          `json:"level"`
	Population  *int            `json:"population"`
	RatePer1000 *float64        `json:"rate_per_1000"`
	BySource    map[string]*int `json:"by_source,omitempty"`
	countJSON
}

func (s *Server) areaJSON(d disclosure, a geo.AreaCount, sources bool) areaJSON {
	out := areaJSON{Code: a.Area.Code, Name: a.Area.Name, Level: a.Area.Level,
		countJSON: s.countJSON(d, a.Area.Code, a.Count, a.Crimes, a.Incidents, a.ByStrand)}
	if a.Area.Population > 0 {
		p := a.Area.Population
		out.Population = &p
	}
	out.RatePer1000 = d.rate(out.Count, a.Area.Population)
	if sources {
		out.BySource = d.counts(a.BySource, s.opts.Sources, a.Area.Code, "source")
	}
	return out
}

// handleAreas answers GET /api/v1/areas: every area of a level with its count, rate
// per 1,000 population and split by strand.
func (s *Server) handleAreas(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), append([]string{"level"}, filterParams...)...)
	level := q.single("level")
	f := q.filter(s.opts.Strands, s.opts.Sources)
	if err := q.err(); err != nil {
		return err
	}
	s.defaultPeriod(&f)
	levels, err := s.store.AreaLevels(r.Context())
	if err != nil {
		return err
	}
	if level == "" {
		if len(levels) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"levels": []string{}, "areas": []areaJSON{}})
			return nil
		}
		level = levels[0]
	} else if !slices.Contains(levels, level) {
		return geo.Errorf(geo.EINVALID, "level: %q is not an imported level (%v)", level, levels)
	}
	d, snapped, err := s.restrict(r.Context(), s.disclosureFor(access.PrincipalFrom(r.Context())), &f, "area")
	if err != nil {
		return err
	}
	counts, err := s.store.AreaCounts(r.Context(), level, f)
	if err != nil {
		return err
	}
	out := make([]areaJSON, len(counts))
	for i, a := range counts {
		out[i] = s.areaJSON(d, a, false)
	}
	answer := map[string]any{"level": level, "levels": levels, "filter": filterJSON(f), "areas": out}
	noteSnapped(w, answer, f, snapped)
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// handleArea answers GET /api/v1/areas/{code}.
func (s *Server) handleArea(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), filterParams...)
	f := q.filter(s.opts.Strands, s.opts.Sources)
	if err := q.err(); err != nil {
		return err
	}
	asked := f // the weekly series ends on the day asked, else the last day with data
	s.defaultPeriod(&f)
	code := chi.URLParam(r, "code")
	if len(code) > 100 {
		return geo.Errorf(geo.EINVALID, "code: too long")
	}
	d, snapped, err := s.restrict(r.Context(), s.disclosureFor(access.PrincipalFrom(r.Context())), &f, "area")
	if err != nil {
		return err
	}
	a, err := s.store.AreaCount(r.Context(), code, f)
	if err != nil {
		return err
	}
	weekly, err := s.weekly(r.Context(), d, geo.Place{Area: code}, weeklyFilter(d, asked, f))
	if err != nil {
		return err
	}
	answer := map[string]any{"filter": filterJSON(f), "area": s.areaJSON(d, a, true), "weekly": weekly}
	noteSnapped(w, answer, f, snapped)
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// handleCell answers GET /api/v1/cells/{cell}: one hexagon's counts for a period and
// filters, its estimated population and rate, its hot spot analysis, and its weekly
// series of observed against expected.
func (s *Server) handleCell(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), filterParams...)
	f := q.filter(s.opts.Strands, s.opts.Sources)
	if err := q.err(); err != nil {
		return err
	}
	asked := f // the weekly series ends on the day asked, else the last day with data
	s.defaultPeriod(&f)
	cell, err := geo.ParseCell(chi.URLParam(r, "cell"))
	if err != nil {
		return geo.Errorf(geo.EINVALID, "cell: %s", geo.ErrorMessage(err))
	}
	res := h3.Cell(cell).Resolution()
	stored, err := s.resolutions(r.Context())
	if err != nil {
		return err
	}
	if !slices.Contains(stored, res) {
		return geo.Errorf(geo.EINVALID, "cell: counts are kept at resolutions %v, not %d", stored, res)
	}
	d, snapped, err := s.restrict(r.Context(), s.disclosureFor(access.PrincipalFrom(r.Context())), &f, "cell")
	if err != nil {
		return err
	}
	version, err := s.dataVersion(r.Context())
	if err != nil {
		return err
	}
	// The cell's own counts, by class, through its index.
	cc, err := s.store.CellCountsIn(r.Context(), res, []uint64{cell}, f)
	if err != nil {
		return err
	}
	c := &geo.CellCount{Cell: cell}
	if len(cc) == 1 {
		c = &cc[0]
	}
	ll := h3.Cell(cell).LatLng()
	counts := s.countJSON(d, geo.CellString(cell), c.Count, c.Crimes, c.Incidents, c.ByStrand)
	out := map[string]any{"cell": geo.CellString(cell), "res": res, "lat": round6(ll.Lat), "lon": round6(ll.Lng),
		"filter": filterJSON(f), "counts": counts}
	noteSnapped(w, out, f, snapped)
	pop, err := s.cellPopulation(r.Context(), res, version)
	if err != nil {
		return err
	}
	if p := pop[cell]; p >= 50 {
		out["population_estimate"] = int(math.Round(p))
		out["rate_per_1000"] = d.rate(counts.Count, int(math.Round(p)))
	}
	gi, err := s.hotspotIndex(r.Context(), d, res, version)
	if err != nil {
		return err
	}
	if h, ok := gi[cell]; ok {
		if d.exact {
			out["hotspot"] = map[string]any{"z": round3(h.Z), "p": h.P, "confidence": h.Confidence, "category": h.Category}
		} else {
			out["hotspot"] = map[string]any{"confidence": h.Confidence, "category": h.Category}
		}
	}
	if out["weekly"], err = s.weekly(r.Context(), d, geo.Place{Cell: cell}, weeklyFilter(d, asked, f)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Weekly series: the weeks shown, and the weeks before each that make its expected
// count.
const (
	weeksShown    = 26
	weeksBaseline = 12
)

type weekJSON struct {
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Observed *int     `json:"observed"`
	Expected *float64 `json:"expected"`
}

// weekly is a place's series of weeks ending on the filter's last day (or the last
// day with data): each week's count beside the mean of the twelve weeks before it.
// For a role that may not see small numbers the weeks are calendar weeks (Monday to
// Sunday, the last one ending on or before that day), each published like any count,
// and the expected count is the mean of the twelve published weeks before.
func (s *Server) weekly(ctx context.Context, d disclosure, p geo.Place, f geo.Filter) (map[string]any, error) {
	end := f.To
	if end.IsZero() {
		st, err := s.store.Stats(ctx)
		if err != nil {
			return nil, err
		}
		end = st.LastDay
		if end.IsZero() {
			end = s.opts.Now().UTC()
		}
	}
	end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
	if !d.exact {
		end = end.AddDate(0, 0, -((int(end.Weekday()) + 7) % 7)) // back to a Sunday
		wf := f
		wf.From, wf.To = time.Time{}, time.Time{}
		d = d.disclosureWeeks(s.filterScope(wf), p)
	}
	counts, err := s.store.WeeklyCounts(ctx, p, f, end, weeksShown+weeksBaseline)
	if err != nil {
		return nil, err
	}
	shown := make([]*int, len(counts))
	for k, n := range counts {
		start := end.AddDate(0, 0, -7*(len(counts)-1-k)-6)
		shown[k] = d.count(n, start.Format(time.DateOnly))
	}
	weeks := make([]weekJSON, weeksShown)
	for i := range weeks {
		k := weeksBaseline + i
		last := end.AddDate(0, 0, -7*(weeksShown-1-i))
		wk := weekJSON{Start: last.AddDate(0, 0, -6).Format(time.DateOnly), End: last.Format(time.DateOnly), Observed: shown[k]}
		var total *int
		if d.exact {
			t := 0
			for _, n := range counts[k-weeksBaseline : k] {
				t += n
			}
			total = &t
		} else {
			total = sumShown(shown[k-weeksBaseline : k]...)
		}
		if total != nil {
			e := math.Round(float64(*total)/weeksBaseline*100) / 100
			wk.Expected = &e
		}
		weeks[i] = wk
	}
	return map[string]any{"end": end.Format(time.DateOnly), "expected": "mean of the 12 weeks before", "weeks": weeks}, nil
}

// weeklyFilter is the filter a weekly series is drawn for: the period asked (its last
// day, or the last day with data), except for a restricted role, whose series follow
// the published period the answer was moved to.
func weeklyFilter(d disclosure, asked, published geo.Filter) geo.Filter {
	if d.exact {
		return asked
	}
	return published
}
