package web

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/uber/h3-go/v4"
)

// pointJSON is one step of an alert's evidence series.
type pointJSON struct {
	Day      string   `json:"day"`
	Observed *int     `json:"observed"`
	Expected *float64 `json:"expected"` // null where no baseline exists
	Upper    *float64 `json:"upper,omitempty"`
	Alarm    bool     `json:"alarm,omitempty"`
}

type alertJSON struct {
	ID             int64                `json:"id"`
	Method         string               `json:"method"`
	Detail         string               `json:"detail"`
	Status         string               `json:"status"`
	StatusReason   string               `json:"status_reason,omitempty"`
	TensionLevel   string               `json:"tension_level"`
	FirstSeen      string               `json:"first_seen"`
	LastSeen       string               `json:"last_seen"`
	WindowFrom     string               `json:"window_from"`
	WindowTo       string               `json:"window_to"`
	AreaLevel      string               `json:"area_level,omitempty"`
	Areas          []string             `json:"areas"`
	Cells          []string             `json:"cells"`
	Strands        []string             `json:"strands"`
	Observed       *int                 `json:"observed"`
	Suppressed     bool                 `json:"suppressed,omitempty"`
	Expected       float64              `json:"expected"`
	Upper          *float64             `json:"upper"`
	Ratio          *float64             `json:"ratio"`
	PValue         *float64             `json:"p_value"` // exact: a very small p-value is not rounded to 0
	PText          string               `json:"p_text,omitempty"`
	MethodName     string               `json:"method_name"`
	Days           int                  `json:"days"`          // the days the window covers
	WindowText     string               `json:"window_text"`   // "7 days, 1–7 Jul 2016"
	BaselineText   string               `json:"baseline_text"` // where the expected count comes from, in words
	RecurrenceDays *float64             `json:"recurrence_days"`
	AssessmentID   *int64               `json:"assessment_id"`
	EventID        int64                `json:"event_id,omitempty"`    // the trigger event an uplift alert measured, or a widespread one took in
	BackfillID     int64                `json:"backfill_id,omitempty"` // the backfill that raised it
	Scale          string               `json:"scale,omitempty"`       // week or 4 weeks: the time scale of a baseline alert
	BaselineFrom   string               `json:"baseline_from,omitempty"`
	BaselineTo     string               `json:"baseline_to,omitempty"`
	Breadth        *float64             `json:"breadth,omitempty"` // the share of areas a widespread rise covers
	Series         []pointJSON          `json:"series,omitempty"`
	Events         []tension.AlertEvent `json:"events,omitempty"`
	BBox           []float64            `json:"bbox,omitempty"` // west, south, east, north of its cells or areas
}

func optFloat(v float64, digits int) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	p := math.Pow(10, float64(digits))
	r := math.Round(v*p) / p
	return &r
}

// exactFloat is v as JSON holds it: nil for NaN or an infinity, else v unrounded.
func exactFloat(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// roundExpected rounds an expected count to two decimals, or below 1 to two
// significant figures, so that a small expectation does not read as 0.
func roundExpected(v float64) float64 {
	if v >= 1 || v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return math.Round(v*100) / 100
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 2, 64), 64)
	return r
}

// areaBounds are the stored areas' bounds by code, for the alerts' bboxes.
func (s *Server) areaBounds(ctx context.Context) (map[string]orb.Bound, error) {
	version, err := s.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.tiles.Memo().Get(ctx, "areabounds|"+areasVersion(version), func() (any, error) {
		areas, err := s.areasOf(ctx, version)
		if err != nil {
			return nil, err
		}
		m := make(map[string]orb.Bound, len(areas))
		for _, a := range areas {
			if len(a.Geometry) > 0 {
				m[a.Code] = a.Geometry.Bound()
			}
		}
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]orb.Bound), nil
}

// alertBBox is the bound of an alert's cells, or else of its areas, or of every
// area for a citywide alert; nil when none is known.
func (s *Server) alertBBox(a *tension.StoredAlert, areas map[string]orb.Bound) []float64 {
	var b orb.Bound
	n := 0
	add := func(x orb.Bound) {
		if n == 0 {
			b = x
		} else {
			b = b.Union(x)
		}
		n++
	}
	for _, c := range a.Cells {
		add(s.tiles.Hexagons().Get(c).Bound)
	}
	if n == 0 {
		for _, code := range a.Areas {
			if ab, ok := areas[code]; ok {
				add(ab)
			}
		}
	}
	if n == 0 && len(a.Cells) == 0 && len(a.Areas) == 0 {
		for _, ab := range areas { // a citywide alert (the rise after a trigger event): every area
			add(ab)
		}
	}
	if n == 0 {
		return nil
	}
	return []float64{round6(b.Min[0]), round6(b.Min[1]), round6(b.Max[0]), round6(b.Max[1])}
}

func (s *Server) alertJSON(d disclosure, a *tension.StoredAlert, full bool, areas map[string]orb.Bound) alertJSON {
	d = d.in("alert", strconv.FormatInt(a.ID, 10), a.WindowFrom.Format(time.DateOnly), a.WindowTo.Format(time.DateOnly))
	obs := d.count(int(math.Round(a.Observed)), "observed")
	j := alertJSON{ID: a.ID, Method: a.Method, Detail: a.Detail, Status: a.Status, StatusReason: a.StatusReason, TensionLevel: a.TensionLevel,
		FirstSeen: a.FirstSeen.Format(time.DateOnly), LastSeen: a.LastSeen.Format(time.DateOnly),
		WindowFrom: a.WindowFrom.Format(time.DateOnly), WindowTo: a.WindowTo.Format(time.DateOnly),
		AreaLevel: a.AreaLevel, Areas: nonNil(a.Areas), Strands: nonNil(a.Strands), Cells: []string{},
		Observed: obs, Suppressed: obs == nil, Expected: roundExpected(a.Expected),
		Upper: optFloat(a.Upper, 2), PValue: exactFloat(a.P), RecurrenceDays: optFloat(a.Recurrence, 1), BBox: s.alertBBox(a, areas),
		EventID: tension.EventOfAlertKey(a.Key), Scale: a.Scale}
	if j.PValue != nil {
		j.PText = tension.FormatP(*j.PValue)
	}
	if !d.exact {
		// An exact p-value (or recurrence interval) of a count against a known
		// expectation gives the count back: a restricted role gets its class.
		j.PText = pClass(a.P)
		j.PValue, j.RecurrenceDays = nil, nil
	}
	j.MethodName, j.Days, j.WindowText, j.BaselineText = a.MethodName(), a.Days(), a.WindowText(), a.BaselineText()
	if a.EventID != 0 {
		j.EventID = a.EventID
	}
	if !a.BaselineFrom.IsZero() {
		j.BaselineFrom, j.BaselineTo = a.BaselineFrom.Format(time.DateOnly), a.BaselineTo.Format(time.DateOnly)
	}
	if a.Breadth > 0 {
		j.Breadth = optFloat(a.Breadth, 3)
	}
	if obs != nil {
		j.Ratio = optFloat(float64(*obs)/a.Expected, 2)
	}
	if a.Upper == 0 {
		j.Upper = nil
	}
	for _, c := range a.Cells {
		j.Cells = append(j.Cells, geo.CellString(c))
	}
	if a.AssessmentID != 0 {
		id := a.AssessmentID
		j.AssessmentID = &id
	}
	j.BackfillID = a.BackfillID
	if full {
		for _, p := range a.Series {
			pj := pointJSON{Day: p.Day.Format(time.DateOnly), Observed: d.count(int(math.Round(p.Observed)), "day", p.Day.Format(time.DateOnly)), Expected: optFloat(p.Expected, 2), Alarm: p.Alarm}
			if p.Upper > 0 {
				pj.Upper = optFloat(p.Upper, 2)
			}
			j.Series = append(j.Series, pj)
		}
		j.Events = d.events(a.Events)
	}
	return j
}

// pClass is the class of a p-value a restricted role is given in place of the value.
func pClass(p float64) string {
	switch {
	case p <= 0:
		return ""
	case p < 0.001:
		return "p < 0.001"
	case p < 0.01:
		return "p < 0.01"
	case p < 0.05:
		return "p < 0.05"
	}
	return "p ≥ 0.05"
}

// events returns an alert's history as a role may see it: the observed count an
// update recorded is withheld or rounded as every other count.
func (d disclosure) events(evs []tension.AlertEvent) []tension.AlertEvent {
	if d.exact {
		return evs
	}
	out := make([]tension.AlertEvent, len(evs))
	for i, e := range evs {
		out[i] = e
		if e.Detail == nil {
			continue
		}
		det := make(map[string]any, len(e.Detail))
		for k, v := range e.Detail {
			det[k] = v
		}
		for _, k := range []string{"observed", "count", "crimes", "incidents"} {
			if v, ok := det[k]; ok {
				var f float64
				switch n := v.(type) {
				case float64:
					f = n
				case int:
					f = float64(n)
				case int64:
					f = float64(n)
				}
				if shown := d.count(int(math.Round(f)), "event", strconv.Itoa(i), k); shown != nil {
					det[k] = *shown
				} else {
					det[k] = nil
					det[k+"_suppressed"] = true
				}
			}
		}
		out[i].Detail = det
	}
	return out
}

// handleAlerts answers GET /api/v1/alerts: the engine's alerts, the most recently
// seen first.
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "status", "method", "level", "since", "limit", "backfill")
	f := tension.AlertFilter{Status: q.list("status"), Method: q.list("method"), Level: q.list("level"), Since: q.day("since"),
		Limit: q.intIn("limit", 200, 1, 1000), Backfill: int64(q.intIn("backfill", 0, 0, math.MaxInt32))}
	for _, st := range f.Status {
		if !slices.Contains([]string{tension.StatusNew, tension.StatusAcknowledged, tension.StatusAssessmentOpened, tension.StatusDismissed}, st) {
			q.fail("status", "%q is not new, acknowledged, assessment_opened or dismissed", st)
		}
	}
	for _, m := range f.Method {
		if !slices.Contains([]string{tension.MethodFarrington, tension.MethodWidespread, tension.MethodEARS, tension.MethodScan, tension.MethodUplift}, m) {
			q.fail("method", "%q is not farrington, widespread, ears, scan or uplift", m)
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	alerts, err := s.store.Alerts(r.Context(), f)
	if err != nil {
		return err
	}
	bounds, err := s.areaBounds(r.Context())
	if err != nil {
		return err
	}
	d := s.disclosureFor(access.PrincipalFrom(r.Context()))
	out := make([]alertJSON, len(alerts))
	for i := range alerts {
		out[i] = s.alertJSON(d, &alerts[i], false, bounds)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
	return nil
}

func alertID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, geo.Errorf(geo.EINVALID, "id: %q is not an alert id", chi.URLParam(r, "id"))
	}
	return id, nil
}

// handleAlert answers GET /api/v1/alerts/{id}: an alert with its evidence series and
// its history.
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	id, err := alertID(r)
	if err != nil {
		return err
	}
	a, err := s.store.Alert(r.Context(), id)
	if err != nil {
		return err
	}
	bounds, err := s.areaBounds(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"alert": s.alertJSON(s.disclosureFor(access.PrincipalFrom(r.Context())), a, true, bounds)})
	return nil
}

// handleAlertMove answers POST /api/v1/alerts/{id}/acknowledge and …/dismiss; a
// dismissal needs a reason.
func (s *Server) handleAlertMove(to string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := alertID(r)
		if err != nil {
			return err
		}
		var body struct {
			Reason string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &body); err != nil {
				return err
			}
		}
		body.Reason = strings.TrimSpace(body.Reason)
		if to == tension.StatusDismissed && body.Reason == "" {
			return geo.Errorf(geo.EINVALID, "reason: say why the alert is dismissed")
		}
		if len(body.Reason) > 2000 {
			return geo.Errorf(geo.EINVALID, "reason: at most 2000 characters")
		}
		who := access.PrincipalFrom(r.Context())
		a, err := s.store.MoveAlert(r.Context(), id, to, body.Reason, who.Actor())
		if err != nil {
			return err
		}
		s.forgetVersion() // the alert layer redraws at once
		action := map[string]string{tension.StatusAcknowledged: "alerts.acknowledge", tension.StatusDismissed: "alerts.dismiss"}[to]
		s.audit(r, action, map[string]any{"id": id, "reason": body.Reason}, 1)
		bounds, err := s.areaBounds(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"alert": s.alertJSON(s.disclosureFor(who), a, true, bounds)})
		return nil
	}
}

type hotspotJSON struct {
	Cell       string           `json:"cell"`
	Lat        float64          `json:"lat"`
	Lon        float64          `json:"lon"`
	Count      *int             `json:"count,omitempty"`
	Suppressed bool             `json:"suppressed,omitempty"`
	Z          *float64         `json:"z,omitempty"`
	P          *float64         `json:"p,omitempty"`
	Confidence int              `json:"confidence"`
	Category   tension.Category `json:"category"`
	TrendZ     *float64         `json:"trend_z"`
	TrendP     *float64         `json:"trend_p"`
}

// handleHotspots answers GET /api/v1/hotspots: the latest Gi* and emerging hot spot
// category of every cell of the study area.
func (s *Server) handleHotspots(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "res", "bbox", "significant")
	res := q.intIn("res", 8, 0, 15)
	box := q.bbox("bbox")
	sig := q.single("significant")
	if sig != "" && sig != "true" && sig != "false" {
		q.fail("significant", "want true or false")
	}
	if err := q.err(); err != nil {
		return err
	}
	from, to, runID, hs, err := s.store.Hotspots(r.Context(), res)
	if err != nil {
		return err
	}
	d := s.disclosureFor(access.PrincipalFrom(r.Context()))
	if hs, err = s.hotspots(r.Context(), d, res, from, to, hs); err != nil {
		return err
	}
	out := []hotspotJSON{}
	for _, h := range hs {
		if sig == "true" && h.Confidence == 0 && h.Category == tension.CategoryNoPattern {
			continue
		}
		ll := h3.Cell(h.Cell).LatLng()
		if box != nil && !box.Contains(geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}) {
			continue
		}
		hj := hotspotJSON{Cell: geo.CellString(h.Cell), Lat: round6(ll.Lat), Lon: round6(ll.Lng), Confidence: h.Confidence, Category: h.Category}
		if d.exact {
			n, z, p := h.Count, math.Round(h.Z*1000)/1000, h.P
			hj.Count, hj.Z, hj.P, hj.TrendZ, hj.TrendP = &n, &z, &p, optFloat(h.TrendZ, 3), exactFloat(h.TrendP)
		} else {
			// The analysis runs over a window of days that moves with each run: its
			// counts, z and p would give the counts back (docs/privacy.md). A
			// restricted role gets the classes; counts come from /api/v1/cells.
			hj.Suppressed = true
		}
		out = append(out, hj)
	}
	answer := map[string]any{"resolution": res, "run_id": runID, "hotspots": out}
	if runID != 0 {
		answer["period"] = map[string]string{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly)}
		if !d.exact {
			// The categories come from the published counts of these calendar weeks.
			first, last, weeks := PublishedWeeks(from, to)
			answer["published_weeks"] = map[string]any{"from": first.Format(time.DateOnly), "to": last.Format(time.DateOnly), "weeks": weeks}
		}
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// handleNearRepeat answers GET /api/v1/near-repeat: the latest Knox table in the
// Near Repeat Calculator's layout, the days and incidents it covered, the risk extent
// and today's risk-zone cells.
func (s *Server) handleNearRepeat(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	nr, runID, err := s.store.NearRepeat(r.Context())
	if err != nil {
		return err
	}
	t := nr.Table
	rows := []map[string]any{}
	for i := range t.Observed {
		for j := range t.Observed[i] {
			rows = append(rows, map[string]any{"distance": t.DistanceLabel(i), "time": t.DayLabel(j), "observed": t.Observed[i][j],
				"expected": math.Round(t.Expected[i][j]*100) / 100, "ratio": optFloat(t.Ratio[i][j], 2), "p": t.P[i][j]})
		}
	}
	zones := make([]map[string]any, len(nr.Zones))
	for i, z := range nr.Zones {
		zones[i] = map[string]any{"cell": geo.CellString(z.Cell), "until": time.Unix(int64(z.Until)*86400, 0).UTC().Format(time.DateOnly), "incidents": z.Incidents}
	}
	answer := map[string]any{"run_id": runID, "events": t.Events, "replicates": t.Replicates,
		"distances_m": t.Distances, "days": t.Days, "table": rows, "risk": nr.Risk, "zone_res": nr.ZoneRes, "zones": zones}
	if !nr.From.IsZero() { // analyses stored before the period was recorded have none
		answer["period"] = map[string]string{"from": nr.From.Format(time.DateOnly), "to": nr.To.Format(time.DateOnly)}
		answer["coverage"] = nr.Coverage()
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// handleRuns answers GET /api/v1/runs: the engine's latest runs and backfills, or
// with backfill=ID that backfill and its days.
func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "limit", "backfill")
	f := tension.RunFilter{Limit: q.intIn("limit", 50, 1, 1000), Backfill: int64(q.intIn("backfill", 0, 0, math.MaxInt32))}
	if err := q.err(); err != nil {
		return err
	}
	runs, err := s.store.EngineRuns(r.Context(), f)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []tension.RunRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
	return nil
}

// handleRun answers GET /api/v1/runs/{id}: one run, with its failed detectors and
// each detector's seconds.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	run, err := s.store.EngineRun(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": run})
	return nil
}
