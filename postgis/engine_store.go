package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/uber/h3-go/v4"
)

// engineLock keeps two engine runs from overlapping, across server replicas too.
const engineLock = 7455_2023_0003

// StartEngineRun records the start of a run, or returns ok false when another run
// holds the engine (the caller skips its run). Call the returned finish when done.
func (db *DB) StartEngineRun(ctx context.Context, asOf time.Time, trigger string, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, ok bool, err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return 0, nil, false, err
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", engineLock).Scan(&ok); err != nil || !ok {
		conn.Release()
		return 0, nil, false, err
	}
	release := func() {
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", engineLock); err != nil {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}
	js, _ := json.Marshal(params)
	start := time.Now()
	if err := db.Pool.QueryRow(ctx, `INSERT INTO engine_runs (as_of, trigger, params) VALUES ($1, $2, $3) RETURNING id`, asOf, trigger, js).Scan(&id); err != nil {
		release()
		return 0, nil, false, fmt.Errorf("postgis: recording an engine run: %w", err)
	}
	finish = func(counts map[string]int, runErr error) error {
		defer release()
		status, msg := "done", ""
		if runErr != nil {
			status, msg = "failed", runErr.Error()
		}
		cj, _ := json.Marshal(counts)
		_, err := db.Pool.Exec(context.Background(), `UPDATE engine_runs SET finished_at = now(), duration_ms = $2, status = $3, counts = $4, error = $5 WHERE id = $1`,
			id, time.Since(start).Milliseconds(), status, cj, msg)
		return err
	}
	return id, finish, true, nil
}

const alertColumns = `a.id, a.method, a.key, a.status, a.tension_level, a.first_run_id, a.last_run_id, a.first_seen, a.last_seen,
	a.window_from, a.window_to, a.area_level, a.areas, a.cells, a.strands, a.observed, a.expected,
	coalesce(a.upper_bound, 'NaN'), coalesce(a.p_value, 'NaN'), coalesce(a.recurrence_days, 'NaN'), coalesce(a.score, 'NaN'),
	a.evidence, a.status_reason, a.updated_at, coalesce((SELECT s.id FROM assessments s WHERE s.alert_id = a.id), 0)`

func scanAlert(row pgx.Row) (*tension.StoredAlert, error) {
	a := &tension.StoredAlert{}
	var cells []int64
	var evidence []byte
	err := row.Scan(&a.ID, &a.Method, &a.Key, &a.Status, &a.TensionLevel, &a.FirstRunID, &a.LastRunID, &a.FirstSeen, &a.LastSeen,
		&a.WindowFrom, &a.WindowTo, &a.AreaLevel, &a.Areas, &cells, &a.Strands, &a.Observed, &a.Expected,
		&a.Upper, &a.P, &a.Recurrence, &a.Score, &evidence, &a.StatusReason, &a.UpdatedAt, &a.AssessmentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no such alert")
	} else if err != nil {
		return nil, fmt.Errorf("postgis: alert: %w", err)
	}
	for _, c := range cells {
		a.Cells = append(a.Cells, uint64(c))
	}
	var ev alertEvidence
	if err := json.Unmarshal(evidence, &ev); err == nil {
		a.Series, a.Detail, a.Scale, a.Breadth, a.EventID, a.Uplift = ev.Series, ev.Detail, ev.Scale, ev.Breadth, ev.EventID, ev.Uplift
		a.BaselineFrom, a.BaselineTo = ev.BaselineFrom, ev.BaselineTo
	}
	if math.IsNaN(a.Upper) {
		a.Upper = 0
	}
	return a, nil
}

// RecentAlerts returns the alerts last seen on or after since, for merging a run's
// findings into them.
func (db *DB) RecentAlerts(ctx context.Context, since time.Time) ([]tension.Alert, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts a WHERE a.last_seen >= $1 ORDER BY a.id`, since)
	if err != nil {
		return nil, fmt.Errorf("postgis: recent alerts: %w", err)
	}
	defer rows.Close()
	var out []tension.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a.Alert)
	}
	return out, rows.Err()
}

func cellArgs(cells []uint64) []int64 {
	out := make([]int64, len(cells))
	for i, c := range cells {
		out[i] = int64(c)
	}
	return out
}

func nanNull(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// SaveEngineRun stores what a run found, in one transaction: the alerts it opened or
// updated and their history, an impact-assessment draft for each alert at or above
// draftLevel on scale without one, the run's hotspots (replacing the previous ones at
// the resolution), its near-repeat analysis and the uplift after each trigger event.
// Findings with cells but no areas get the areas containing their cells' centres.
// It leaves the data version alone: what the engine stores is derived from the data,
// and a change of the version is what asks for another run.
func (db *DB) SaveEngineRun(ctx context.Context, runID int64, rep *tension.Report, changes []tension.Change, draftLevel string, scale tension.Scale) (opened, updated, drafts int, err error) {
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for i := range changes {
			c := &changes[i]
			if len(c.Alert.Areas) == 0 && len(c.Alert.Cells) > 0 {
				codes, err := cellAreaCodes(ctx, tx, c.Alert.Cells)
				if err != nil {
					return err
				}
				c.Alert.Areas = codes
			}
			id, err := saveAlert(ctx, tx, runID, c)
			if err != nil {
				return err
			}
			if c.New {
				opened++
			} else {
				updated++
			}
			if scale.Rank(c.Alert.TensionLevel) >= scale.Rank(draftLevel) && scale.Rank(draftLevel) >= 0 {
				made, err := draftAssessment(ctx, tx, id, &c.Alert)
				if err != nil {
					return err
				}
				if made {
					drafts++
				}
			}
		}
		if rep.HotspotRes > 0 {
			if err := saveHotspots(ctx, tx, runID, rep); err != nil {
				return err
			}
		}
		if nr := rep.NearRepeat; nr != nil {
			js, err := json.Marshal(nr)
			if err != nil {
				return err
			}
			cells := make([]int64, len(nr.Zones))
			for i, z := range nr.Zones {
				cells[i] = int64(z.Cell)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO near_repeat (id, run_id, analysis, zone_res, zone_cells) VALUES (true, $1, $2, $3, $4)
				ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, analysis = excluded.analysis, zone_res = excluded.zone_res, zone_cells = excluded.zone_cells`,
				runID, js, nr.ZoneRes, cells); err != nil {
				return err
			}
		}
		for _, u := range rep.Uplifts {
			for _, r := range u.Results {
				js, err := json.Marshal(r)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO trigger_uplifts (event_id, strand, run_id, result) VALUES ($1, $2, $3, $4)
					ON CONFLICT (event_id, strand) DO UPDATE SET run_id = excluded.run_id, result = excluded.result`,
					u.Event.ID, r.Name, runID, js); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("postgis: saving the engine run: %w", err)
	}
	return opened, updated, drafts, nil
}

// alertEvidence is what an alert's evidence column holds besides its figures: the
// series, the words, the time scale and baseline period, a widespread rise's breadth
// and the trigger event whose uplift it took in.
type alertEvidence struct {
	Series       []tension.Point      `json:"series"`
	Detail       string               `json:"detail"`
	Scale        string               `json:"scale,omitempty"`
	BaselineFrom time.Time            `json:"baseline_from,omitzero"`
	BaselineTo   time.Time            `json:"baseline_to,omitzero"`
	Breadth      float64              `json:"breadth,omitempty"`
	EventID      int64                `json:"event_id,omitempty"`
	Uplift       []tension.UpliftNote `json:"uplift,omitempty"`
}

func saveAlert(ctx context.Context, tx pgx.Tx, runID int64, c *tension.Change) (int64, error) {
	a := &c.Alert
	evidence, err := json.Marshal(alertEvidence{Series: a.Series, Detail: a.Detail, Scale: a.Scale, BaselineFrom: a.BaselineFrom,
		BaselineTo: a.BaselineTo, Breadth: a.Breadth, EventID: a.EventID, Uplift: a.Uplift})
	if err != nil {
		return 0, err
	}
	for _, s := range []*[]string{&a.Areas, &a.Strands} {
		if *s == nil {
			*s = []string{}
		}
	}
	args := []any{a.Method, a.Key, a.Status, a.TensionLevel, runID, a.LastSeen, a.WindowFrom, a.WindowTo, a.AreaLevel, a.Areas,
		cellArgs(a.Cells), a.Strands, a.Observed, a.Expected, nanNull(a.Upper), nanNull(a.P), nanNull(a.Recurrence), nanNull(a.Score),
		evidence, a.StatusReason}
	var id int64
	detail := map[string]any{"tension_level": a.TensionLevel, "observed": a.Observed, "expected": a.Expected}
	if c.New {
		err = tx.QueryRow(ctx, `INSERT INTO alerts (method, key, status, tension_level, first_run_id, last_run_id, first_seen, last_seen,
				window_from, window_to, area_level, areas, cells, strands, observed, expected, upper_bound, p_value, recurrence_days, score, evidence, status_reason)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id`, args...).Scan(&id)
		if err != nil {
			return 0, err
		}
		return id, alertEvent(ctx, tx, id, "engine", "opened", runID, detail)
	}
	id = a.ID
	_, err = tx.Exec(ctx, `UPDATE alerts SET method = $1, key = $2, status = $3, tension_level = $4, last_run_id = $5, last_seen = $6,
			window_from = $7, window_to = $8, area_level = $9, areas = $10, cells = $11, strands = $12, observed = $13, expected = $14,
			upper_bound = $15, p_value = $16, recurrence_days = $17, score = $18, evidence = $19, status_reason = $20, updated_at = now()
		WHERE id = $21`, append(args, id)...)
	if err != nil {
		return 0, err
	}
	action := "updated"
	if c.Reraised {
		action = "reraised"
		detail["reason"] = a.StatusReason
	}
	return id, alertEvent(ctx, tx, id, "engine", action, runID, detail)
}

func alertEvent(ctx context.Context, tx pgx.Tx, alertID int64, actor, action string, runID int64, detail map[string]any) error {
	js, _ := json.Marshal(detail)
	var run any
	if runID != 0 {
		run = runID
	}
	_, err := tx.Exec(ctx, `INSERT INTO alert_events (alert_id, actor, action, run_id, detail) VALUES ($1, $2, $3, $4, $5)`, alertID, actor, action, run, js)
	return err
}

// cellAreaCodes returns the codes of the areas containing the cells' centres.
func cellAreaCodes(ctx context.Context, tx pgx.Tx, cells []uint64) ([]string, error) {
	lons, lats := make([]float64, len(cells)), make([]float64, len(cells))
	for i, c := range cells {
		ll := h3.Cell(c).LatLng()
		lats[i], lons[i] = ll.Lat, ll.Lng
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT a.code, a.level FROM unnest($1::float8[], $2::float8[]) AS p(lon, lat)
		JOIN areas a ON ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) ORDER BY a.level, a.code`, lons, lats)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var code, level string
		if err := rows.Scan(&code, &level); err != nil {
			return nil, err
		}
		out = append(out, code)
	}
	return out, rows.Err()
}

// draftAssessment opens an impact-assessment draft for an alert that has none.
func draftAssessment(ctx context.Context, tx pgx.Tx, alertID int64, a *tension.Alert) (bool, error) {
	d := tension.DraftFromAlert(alertID, a)
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO assessments (alert_id, title, trigger, area_level, areas, cells, strands, tension_level, evidence, bbox, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'engine') ON CONFLICT (alert_id) WHERE alert_id IS NOT NULL DO NOTHING RETURNING id`,
		alertID, d.Title, d.Trigger, d.AreaLevel, nonNilSlice(d.Areas), cellArgs(d.Cells), nonNilSlice(d.Strands), d.TensionLevel,
		jsonArg(d.Evidence), bboxArg(d.BBox)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // the alert has one
	}
	if err != nil {
		return false, fmt.Errorf("drafting an assessment: %w", err)
	}
	created := map[string]any{"status": tension.AssessmentDraft, "title": d.Title, "trigger_kind": tension.TriggerKindAlert, "alert_id": alertID}
	for _, ev := range d.EventIDs { // the trigger event an uplift alert measured
		tag, err := tx.Exec(ctx, `INSERT INTO assessment_events (assessment_id, event_id)
			SELECT $1, id FROM trigger_events WHERE id = $2 ON CONFLICT DO NOTHING`, id, ev)
		if err != nil {
			return false, fmt.Errorf("linking the draft to its trigger event: %w", err)
		}
		if tag.RowsAffected() > 0 {
			created["event_ids"] = d.EventIDs
		}
	}
	if err := history(ctx, tx, id, "engine", "created", created); err != nil {
		return false, err
	}
	return true, alertEvent(ctx, tx, alertID, "engine", "assessment_drafted", 0, map[string]any{"title": d.Title, "assessment_id": id})
}

func saveHotspots(ctx context.Context, tx pgx.Tx, runID int64, rep *tension.Report) error {
	if _, err := tx.Exec(ctx, `DELETE FROM hotspots WHERE res = $1`, rep.HotspotRes); err != nil {
		return err
	}
	rows := make([][]any, len(rep.Hotspots))
	for i, h := range rep.Hotspots {
		rows[i] = []any{runID, int16(rep.HotspotRes), int64(h.Cell), rep.HotspotFrom, rep.HotspotTo, int32(h.Count), h.Z, h.P,
			int16(h.Confidence), string(h.Category), nanNull(h.TrendZ), nanNull(h.TrendP)}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"hotspots"}, []string{"run_id", "res", "cell", "period_from", "period_to", "count", "z", "p",
		"confidence", "category", "trend_z", "trend_p"}, pgx.CopyFromRows(rows))
	return err
}

// Alerts returns alerts matching f, the most recently seen first.
func (db *DB) Alerts(ctx context.Context, f tension.AlertFilter) ([]tension.StoredAlert, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var since any
	if !f.Since.IsZero() {
		since = f.Since
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts a
		WHERE (cardinality($1::text[]) = 0 OR a.status = ANY($1)) AND (cardinality($2::text[]) = 0 OR a.method = ANY($2))
		AND (cardinality($3::text[]) = 0 OR a.tension_level = ANY($3)) AND ($4::date IS NULL OR a.last_seen >= $4)
		ORDER BY a.last_seen DESC, a.id DESC LIMIT $5`, nonNilStrings(f.Status), nonNilStrings(f.Method), nonNilStrings(f.Level), since, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: alerts: %w", err)
	}
	defer rows.Close()
	var out []tension.StoredAlert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Alert returns one alert with its history; ENOTFOUND if none.
func (db *DB) Alert(ctx context.Context, id int64) (*tension.StoredAlert, error) {
	a, err := scanAlert(db.Pool.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts a WHERE a.id = $1`, id))
	if err != nil {
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT at, actor, action, coalesce(run_id, 0), detail FROM alert_events WHERE alert_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e tension.AlertEvent
		var detail []byte
		if err := rows.Scan(&e.At, &e.Actor, &e.Action, &e.RunID, &detail); err != nil {
			return nil, err
		}
		json.Unmarshal(detail, &e.Detail)
		a.Events = append(a.Events, e)
	}
	return a, rows.Err()
}

// MoveAlert changes an alert's status as a person asks, if tension.CanMove allows
// it, and records who and why; ENOTFOUND if no such alert, ECONFLICT if the move is
// not allowed from its status.
func (db *DB) MoveAlert(ctx context.Context, id int64, to, reason, actor string) (*tension.StoredAlert, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var from string
		err := tx.QueryRow(ctx, `SELECT status FROM alerts WHERE id = $1 FOR UPDATE`, id).Scan(&from)
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.ENOTFOUND, "no alert %d", id)
		} else if err != nil {
			return err
		}
		if !tension.CanMove(from, to) {
			return geo.Errorf(geo.ECONFLICT, "an alert that is %s cannot become %s", strings.ReplaceAll(from, "_", " "), strings.ReplaceAll(to, "_", " "))
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1`, id, to, reason); err != nil {
			return err
		}
		action := map[string]string{tension.StatusAcknowledged: "acknowledged", tension.StatusDismissed: "dismissed"}[to]
		return alertEvent(ctx, tx, id, actor, action, 0, map[string]any{"from": from, "reason": reason})
	})
	if err != nil {
		if geo.ErrorCode(err) != geo.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("postgis: moving an alert: %w", err)
	}
	return db.Alert(ctx, id)
}

// Hotspots returns the latest hotspot analysis at a resolution (empty when none ran).
func (db *DB) Hotspots(ctx context.Context, res int) (from, to time.Time, runID int64, out []tension.Hotspot, err error) {
	rows, err := db.Pool.Query(ctx, `SELECT run_id, period_from, period_to, cell, count, z, p, confidence, category,
		coalesce(trend_z, 'NaN'), coalesce(trend_p, 'NaN') FROM hotspots WHERE res = $1 ORDER BY cell`, res)
	if err != nil {
		return from, to, 0, nil, fmt.Errorf("postgis: hotspots: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h tension.Hotspot
		var cell int64
		var category string
		var confidence int16
		var count int32
		if err := rows.Scan(&runID, &from, &to, &cell, &count, &h.Z, &h.P, &confidence, &category, &h.TrendZ, &h.TrendP); err != nil {
			return from, to, 0, nil, err
		}
		h.Cell, h.Category, h.Confidence, h.Count = uint64(cell), tension.Category(category), int(confidence), int(count)
		out = append(out, h)
	}
	return from, to, runID, out, rows.Err()
}

// NearRepeat returns the latest near-repeat analysis; ENOTFOUND when none ran.
func (db *DB) NearRepeat(ctx context.Context) (*tension.NearRepeatReport, int64, error) {
	var js []byte
	var runID int64
	err := db.Pool.QueryRow(ctx, `SELECT run_id, analysis FROM near_repeat`).Scan(&runID, &js)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, geo.Errorf(geo.ENOTFOUND, "no near-repeat analysis has run yet")
	} else if err != nil {
		return nil, 0, fmt.Errorf("postgis: near repeat: %w", err)
	}
	var nr tension.NearRepeatReport
	if err := json.Unmarshal(js, &nr); err != nil {
		return nil, 0, err
	}
	return &nr, runID, nil
}

// EngineRuns returns the latest runs, newest first.
func (db *DB) EngineRuns(ctx context.Context, limit int) ([]tension.RunRecord, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, as_of, trigger, started_at, coalesce(finished_at, 'epoch'), coalesce(duration_ms, 0), status, params, counts, error
		FROM engine_runs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: engine runs: %w", err)
	}
	defer rows.Close()
	var out []tension.RunRecord
	for rows.Next() {
		var r tension.RunRecord
		var ms int64
		var params, counts []byte
		if err := rows.Scan(&r.ID, &r.AsOf, &r.Trigger, &r.StartedAt, &r.FinishedAt, &ms, &r.Status, &params, &counts, &r.Error); err != nil {
			return nil, err
		}
		r.Duration = time.Duration(ms) * time.Millisecond
		if r.FinishedAt.Unix() == 0 {
			r.FinishedAt = time.Time{}
		}
		json.Unmarshal(params, &r.Params)
		json.Unmarshal(counts, &r.Counts)
		out = append(out, r)
	}
	return out, rows.Err()
}

// AnalysisVersion returns a number that changes when an engine run finishes or an
// alert moves: what the hot spot, alert and near-repeat layers depend on besides
// the data.
func (db *DB) AnalysisVersion(ctx context.Context) (int64, error) {
	var v int64
	// Both ids only grow, so their sum changes whenever a run finishes or an alert
	// moves (each move is an alert event).
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM engine_runs WHERE status = 'done')
		+ (SELECT coalesce(max(id), 0) FROM alert_events)`).Scan(&v)
	return v, err
}
