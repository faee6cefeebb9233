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
	"github.com/tensionmap/tensionmap/tension/engine"
	"github.com/uber/h3-go/v4"
)

// engineLock keeps two engine runs from overlapping, across server replicas too.
const engineLock = 7455_2023_0003

// StartEngineRun records the start of a run, or returns ok false when another run
// holds the engine (the caller skips its run). Call the returned finish when done:
// the run ends failed when runErr is not nil, partial when SaveEngineRun recorded a
// failed detector or part, and done otherwise.
func (db *DB) StartEngineRun(ctx context.Context, asOf time.Time, trigger string, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, ok bool, err error) {
	return db.startRun(ctx, asOf, trigger, params, 0)
}

// StartBackfillRun is StartEngineRun for one day of a backfill: the run's alerts
// belong to the backfill, and it stores no current-state analyses.
func (db *DB) StartBackfillRun(ctx context.Context, backfillID int64, asOf time.Time, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, ok bool, err error) {
	return db.startRun(ctx, asOf, "backfill_day", params, backfillID)
}

func (db *DB) startRun(ctx context.Context, asOf time.Time, trigger string, params map[string]any, backfillID int64) (id int64, finish func(counts map[string]int, runErr error) error, ok bool, err error) {
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
	js, nulls, err := safeJSON(params)
	if err != nil {
		release()
		return 0, nil, false, err
	}
	start := time.Now()
	if err := db.Pool.QueryRow(ctx, `INSERT INTO engine_runs (as_of, trigger, params, nulls, backfill_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		asOf, trigger, js, mustSafeJSON(nonNilNulls(withPart("params", nulls))), idArg(backfillID)).Scan(&id); err != nil {
		release()
		return 0, nil, false, fmt.Errorf("postgis: recording an engine run: %w", err)
	}
	finish = func(counts map[string]int, runErr error) error {
		defer release()
		msg := ""
		if runErr != nil {
			msg = runErr.Error()
		}
		_, err := db.Pool.Exec(context.Background(), `UPDATE engine_runs SET finished_at = now(), duration_ms = $2,
			status = CASE WHEN $5 THEN 'failed' WHEN failures <> '[]'::jsonb THEN 'partial' ELSE 'done' END, counts = $3, error = $4 WHERE id = $1`,
			id, time.Since(start).Milliseconds(), mustSafeJSON(counts), msg, runErr != nil)
		return err
	}
	return id, finish, true, nil
}

func idArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nonNilNulls(n []NullValue) []NullValue {
	if n == nil {
		return []NullValue{}
	}
	return n
}

const alertColumns = `a.id, a.method, a.key, a.status, a.tension_level, a.first_run_id, a.last_run_id, a.first_seen, a.last_seen,
	a.window_from, a.window_to, a.area_level, a.areas, a.cells, a.strands, coalesce(a.observed, 'NaN'), coalesce(a.expected, 'NaN'),
	coalesce(a.upper_bound, 'NaN'), coalesce(a.p_value, 'NaN'), coalesce(a.recurrence_days, 'NaN'), coalesce(a.score, 'NaN'),
	a.evidence, a.status_reason, a.updated_at, coalesce((SELECT s.id FROM assessments s WHERE s.alert_id = a.id), 0), coalesce(a.backfill_id, 0),
	a.created_at`

func scanAlert(row pgx.Row) (*tension.StoredAlert, error) {
	a := &tension.StoredAlert{}
	var cells []int64
	var evidence []byte
	err := row.Scan(&a.ID, &a.Method, &a.Key, &a.Status, &a.TensionLevel, &a.FirstRunID, &a.LastRunID, &a.FirstSeen, &a.LastSeen,
		&a.WindowFrom, &a.WindowTo, &a.AreaLevel, &a.Areas, &cells, &a.Strands, &a.Observed, &a.Expected,
		&a.Upper, &a.P, &a.Recurrence, &a.Score, &evidence, &a.StatusReason, &a.UpdatedAt, &a.AssessmentID, &a.BackfillID,
		&a.CreatedAt)
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
// findings into them: the live alerts when backfill is 0, else that backfill's.
func (db *DB) RecentAlerts(ctx context.Context, since time.Time, backfill int64) ([]tension.Alert, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts a WHERE a.last_seen >= $1
		AND a.backfill_id IS NOT DISTINCT FROM $2::bigint ORDER BY a.id`, since, idArg(backfill))
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

// SaveEngineRun stores what a run found. The alerts it opened or updated and their
// history, with an impact-assessment draft for each alert at or above draftLevel on
// scale without one, are saved in one transaction: if it fails, SaveEngineRun
// returns the error. The current-state analyses (the run's hotspots, replacing the
// previous ones at the resolution; its near-repeat analysis; the uplift after each
// trigger event) are then saved each in a transaction of its own, and one that fails
// is recorded among the run's failures (the run ends partial) without touching the
// alerts. The run's failed detectors, seconds per detector and the values stored as
// null are recorded with it.
//
// A run of a backfill (StartBackfillRun) marks its alerts as the backfill's, drafts
// no assessment and stores none of the current-state analyses.
// Findings with cells but no areas get the areas containing their cells' centres.
// It leaves the data version alone: what the engine stores is derived from the data,
// and a change of the version is what asks for another run.
func (db *DB) SaveEngineRun(ctx context.Context, runID int64, rep *tension.Report, changes []tension.Change, draftLevel string, scale tension.Scale) (opened, updated, drafts int, err error) {
	var backfill *int64
	if err := db.Pool.QueryRow(ctx, `SELECT backfill_id FROM engine_runs WHERE id = $1`, runID).Scan(&backfill); err != nil {
		return 0, 0, 0, fmt.Errorf("postgis: saving the engine run: %w", err)
	}
	failures := append([]tension.Failure{}, rep.Failures...)
	var nulls []NullValue
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		opened, updated, drafts = 0, 0, 0
		for i := range changes {
			c := &changes[i]
			if len(c.Alert.Areas) == 0 && len(c.Alert.Cells) > 0 {
				codes, err := cellAreaCodes(ctx, tx, c.Alert.Cells)
				if err != nil {
					return err
				}
				c.Alert.Areas = codes
			}
			id, n, err := saveAlert(ctx, tx, runID, c, backfill)
			if err != nil {
				return err
			}
			nulls = append(nulls, withPart(fmt.Sprintf("alert %d", id), n)...)
			if c.New {
				opened++
			} else {
				updated++
			}
			if backfill == nil && scale.Rank(c.Alert.TensionLevel) >= scale.Rank(draftLevel) && scale.Rank(draftLevel) >= 0 {
				made, err := draftAssessment(ctx, tx, id, &c.Alert)
				if err != nil {
					return err
				}
				if made {
					drafts++
				}
			}
		}
		return nil
	})
	if err != nil {
		failures = append(failures, tension.Failure{Detector: "save alerts", Error: err.Error()})
		db.recordRun(ctx, runID, rep, failures, nulls)
		return 0, 0, 0, fmt.Errorf("postgis: saving the engine run's alerts: %w", err)
	}
	if backfill == nil {
		parts := []struct {
			name string
			save func(tx pgx.Tx) ([]NullValue, error)
		}{
			{"hotspots", func(tx pgx.Tx) ([]NullValue, error) {
				if rep.HotspotRes <= 0 {
					return nil, nil
				}
				return nil, saveHotspots(ctx, tx, runID, rep)
			}},
			{"near_repeat", func(tx pgx.Tx) ([]NullValue, error) { return saveNearRepeat(ctx, tx, runID, rep.NearRepeat) }},
			{"uplift", func(tx pgx.Tx) ([]NullValue, error) { return saveUplifts(ctx, tx, runID, rep.Uplifts) }},
		}
		for _, p := range parts {
			var n []NullValue
			err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
				var err error
				n, err = p.save(tx)
				return err
			})
			if err != nil {
				failures = append(failures, tension.Failure{Detector: "save " + p.name, Error: err.Error()})
				continue
			}
			nulls = append(nulls, withPart(p.name, n)...)
		}
	}
	if err := db.recordRun(ctx, runID, rep, failures, nulls); err != nil {
		return opened, updated, drafts, err
	}
	return opened, updated, drafts, nil
}

// recordRun records a run's failures, seconds per detector and null values.
func (db *DB) recordRun(ctx context.Context, runID int64, rep *tension.Report, failures []tension.Failure, nulls []NullValue) error {
	if failures == nil {
		failures = []tension.Failure{}
	}
	seconds := rep.Seconds
	if seconds == nil {
		seconds = map[string]float64{}
	}
	_, err := db.Pool.Exec(context.WithoutCancel(ctx), `UPDATE engine_runs SET failures = $2, seconds = $3, nulls = nulls || $4 WHERE id = $1`,
		runID, mustSafeJSON(failures), mustSafeJSON(seconds), mustSafeJSON(nonNilNulls(nulls)))
	if err != nil {
		return fmt.Errorf("postgis: recording the engine run: %w", err)
	}
	return nil
}

func saveNearRepeat(ctx context.Context, tx pgx.Tx, runID int64, nr *tension.NearRepeatReport) ([]NullValue, error) {
	if nr == nil {
		return nil, nil
	}
	js, nulls, err := safeJSON(nr)
	if err != nil {
		return nil, err
	}
	cells := make([]int64, len(nr.Zones))
	for i, z := range nr.Zones {
		cells[i] = int64(z.Cell)
	}
	_, err = tx.Exec(ctx, `INSERT INTO near_repeat (id, run_id, analysis, zone_res, zone_cells) VALUES (true, $1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, analysis = excluded.analysis, zone_res = excluded.zone_res, zone_cells = excluded.zone_cells`,
		runID, js, nr.ZoneRes, cells)
	return nulls, err
}

func saveUplifts(ctx context.Context, tx pgx.Tx, runID int64, uplifts []tension.EventUplift) ([]NullValue, error) {
	var nulls []NullValue
	for _, u := range uplifts {
		for _, r := range u.Results {
			js, n, err := safeJSON(r)
			if err != nil {
				return nil, err
			}
			nulls = append(nulls, withPart(fmt.Sprintf("uplift %d %q", u.Event.ID, r.Name), n)...)
			if _, err := tx.Exec(ctx, `INSERT INTO trigger_uplifts (event_id, strand, run_id, result) VALUES ($1, $2, $3, $4)
				ON CONFLICT (event_id, strand) DO UPDATE SET run_id = excluded.run_id, result = excluded.result`,
				u.Event.ID, r.Name, runID, js); err != nil {
				return nil, err
			}
		}
	}
	return nulls, nil
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

func saveAlert(ctx context.Context, tx pgx.Tx, runID int64, c *tension.Change, backfill *int64) (int64, []NullValue, error) {
	a := &c.Alert
	evidence, nulls, err := safeJSON(alertEvidence{Series: a.Series, Detail: a.Detail, Scale: a.Scale, BaselineFrom: a.BaselineFrom,
		BaselineTo: a.BaselineTo, Breadth: a.Breadth, EventID: a.EventID, Uplift: a.Uplift})
	if err != nil {
		return 0, nil, err
	}
	for _, s := range []*[]string{&a.Areas, &a.Strands} {
		if *s == nil {
			*s = []string{}
		}
	}
	args := []any{a.Method, a.Key, a.Status, a.TensionLevel, runID, a.LastSeen, a.WindowFrom, a.WindowTo, a.AreaLevel, a.Areas,
		cellArgs(a.Cells), a.Strands, nanNull(a.Observed), nanNull(a.Expected), nanNull(a.Upper), nanNull(a.P), nanNull(a.Recurrence), nanNull(a.Score),
		evidence, a.StatusReason, backfill}
	var id int64
	detail := map[string]any{"tension_level": a.TensionLevel, "observed": a.Observed, "expected": a.Expected}
	if c.New {
		err = tx.QueryRow(ctx, `INSERT INTO alerts (method, key, status, tension_level, first_run_id, last_run_id, first_seen, last_seen,
				window_from, window_to, area_level, areas, cells, strands, observed, expected, upper_bound, p_value, recurrence_days, score, evidence, status_reason, backfill_id)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`, args...).Scan(&id)
		if err != nil {
			return 0, nil, err
		}
		return id, nulls, alertEvent(ctx, tx, id, "engine", "opened", runID, detail)
	}
	id = a.ID
	_, err = tx.Exec(ctx, `UPDATE alerts SET method = $1, key = $2, status = $3, tension_level = $4, last_run_id = $5, last_seen = $6,
			window_from = $7, window_to = $8, area_level = $9, areas = $10, cells = $11, strands = $12, observed = $13, expected = $14,
			upper_bound = $15, p_value = $16, recurrence_days = $17, score = $18, evidence = $19, status_reason = $20, backfill_id = $21, updated_at = now()
		WHERE id = $22`, append(args, id)...)
	if err != nil {
		return 0, nil, err
	}
	action := "updated"
	if c.Reraised {
		action = "reraised"
		detail["reason"] = a.StatusReason
	}
	return id, nulls, alertEvent(ctx, tx, id, "engine", action, runID, detail)
}

func alertEvent(ctx context.Context, tx pgx.Tx, alertID int64, actor, action string, runID int64, detail map[string]any) error {
	js := mustSafeJSON(detail)
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
	names, err := areaNames(ctx, tx, a.Areas)
	if err != nil {
		return false, err
	}
	d := tension.DraftFromAlert(alertID, a, names)
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO assessments (alert_id, title, trigger, area_level, areas, cells, strands, tension_level, evidence, bbox, created_by)
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
		rows[i] = []any{runID, int16(rep.HotspotRes), int64(h.Cell), rep.HotspotFrom, rep.HotspotTo, int32(h.Count), nanNull(h.Z), nanNull(h.P),
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
		AND a.backfill_id IS NOT DISTINCT FROM $6::bigint
		ORDER BY a.last_seen DESC, a.id DESC LIMIT $5`, nonNilStrings(f.Status), nonNilStrings(f.Method), nonNilStrings(f.Level), since, limit, idArg(f.Backfill))
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
	rows, err := db.Pool.Query(ctx, `SELECT run_id, period_from, period_to, cell, count, confidence, category,
		coalesce(z, 'NaN'), coalesce(p, 'NaN'), coalesce(trend_z, 'NaN'), coalesce(trend_p, 'NaN') FROM hotspots WHERE res = $1 ORDER BY cell`, res)
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
		if err := rows.Scan(&runID, &from, &to, &cell, &count, &confidence, &category, &h.Z, &h.P, &h.TrendZ, &h.TrendP); err != nil {
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
	// A ratio stored as null (no pairs expected) reads back as not a number.
	t := &nr.Table
	for i := range min(len(t.Ratio), len(t.Expected)) {
		for j := range min(len(t.Ratio[i]), len(t.Expected[i])) {
			if t.Expected[i][j] == 0 {
				t.Ratio[i][j] = math.NaN()
			}
		}
	}
	return &nr, runID, nil
}

const runColumns = `id, as_of, trigger, started_at, coalesce(finished_at, 'epoch'), coalesce(duration_ms, 0), status, params, counts, error,
	failures, seconds, nulls, coalesce(backfill_id, 0)`

func scanRun(row pgx.Row) (tension.RunRecord, error) {
	var r tension.RunRecord
	var ms int64
	var params, counts, failures, seconds, nulls []byte
	if err := row.Scan(&r.ID, &r.AsOf, &r.Trigger, &r.StartedAt, &r.FinishedAt, &ms, &r.Status, &params, &counts, &r.Error,
		&failures, &seconds, &nulls, &r.BackfillID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return r, geo.Errorf(geo.ENOTFOUND, "no such engine run")
		}
		return r, fmt.Errorf("postgis: engine runs: %w", err)
	}
	r.Duration = time.Duration(ms) * time.Millisecond
	if r.FinishedAt.Unix() == 0 {
		r.FinishedAt = time.Time{}
	}
	json.Unmarshal(params, &r.Params)
	json.Unmarshal(counts, &r.Counts)
	json.Unmarshal(failures, &r.Failures)
	json.Unmarshal(seconds, &r.Seconds)
	json.Unmarshal(nulls, &r.Nulls)
	if r.Failures == nil {
		r.Failures = []tension.Failure{}
	}
	return r, nil
}

// EngineRuns returns the latest runs, newest first: live runs and backfills when
// f.Backfill is 0, else that backfill's own record and its days.
func (db *DB) EngineRuns(ctx context.Context, f tension.RunFilter) ([]tension.RunRecord, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+runColumns+` FROM engine_runs
		WHERE CASE WHEN $2::bigint IS NULL THEN backfill_id IS NULL ELSE backfill_id = $2 OR id = $2 END
		ORDER BY id DESC LIMIT $1`, limit, idArg(f.Backfill))
	if err != nil {
		return nil, fmt.Errorf("postgis: engine runs: %w", err)
	}
	defer rows.Close()
	var out []tension.RunRecord
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EngineRun returns one run; ENOTFOUND if none.
func (db *DB) EngineRun(ctx context.Context, id int64) (tension.RunRecord, error) {
	return scanRun(db.Pool.QueryRow(ctx, `SELECT `+runColumns+` FROM engine_runs WHERE id = $1`, id))
}

// LastCompletedRun returns the latest live run that completed (done or partial, not
// a day of a backfill nor a backfill's record): of the latest as-of day, the one
// that started last. It is zero when none did.
func (db *DB) LastCompletedRun(ctx context.Context) (engine.RunMark, error) {
	var m engine.RunMark
	err := db.Pool.QueryRow(ctx, `SELECT as_of, trigger, started_at FROM engine_runs
		WHERE status IN ('done', 'partial') AND backfill_id IS NULL AND trigger <> 'backfill'
		ORDER BY as_of DESC, started_at DESC LIMIT 1`).Scan(&m.AsOf, &m.Trigger, &m.Started)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.RunMark{}, nil
	}
	return m, err
}

// StartBackfill records the start of a backfill over [from, to]: a record (trigger
// "backfill") its days' runs (StartBackfillRun) and alerts belong to. Call finish
// when it ends with what it counted: it ends failed when runErr is not nil, partial
// when any of its days was partial or failed, and done otherwise.
func (db *DB) StartBackfill(ctx context.Context, from, to time.Time, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, err error) {
	js, nulls, err := safeJSON(params)
	if err != nil {
		return 0, nil, err
	}
	start := time.Now()
	if err := db.Pool.QueryRow(ctx, `INSERT INTO engine_runs (as_of, trigger, params, nulls) VALUES ($1, 'backfill', $2, $3) RETURNING id`,
		to, js, mustSafeJSON(nonNilNulls(withPart("params", nulls)))).Scan(&id); err != nil {
		return 0, nil, fmt.Errorf("postgis: recording a backfill: %w", err)
	}
	finish = func(counts map[string]int, runErr error) error {
		msg := ""
		if runErr != nil {
			msg = runErr.Error()
		}
		_, err := db.Pool.Exec(context.Background(), `UPDATE engine_runs SET finished_at = now(), duration_ms = $2,
			status = CASE WHEN $5 THEN 'failed'
				WHEN EXISTS (SELECT FROM engine_runs d WHERE d.backfill_id = $1 AND d.status IN ('partial', 'failed')) THEN 'partial'
				ELSE 'done' END,
			counts = $3, error = $4,
			failures = (SELECT coalesce(jsonb_agg(jsonb_build_object('detector', d.as_of::text || ' ' || (f->>'detector'), 'error', f->>'error')), '[]')
				FROM engine_runs d CROSS JOIN jsonb_array_elements(d.failures) f WHERE d.backfill_id = $1),
			seconds = (SELECT coalesce(jsonb_object_agg(k, t), '{}') FROM (SELECT k, sum(v::float8) AS t
				FROM engine_runs d CROSS JOIN jsonb_each_text(d.seconds) AS s(k, v) WHERE d.backfill_id = $1 GROUP BY k) x)
			WHERE id = $1`,
			id, time.Since(start).Milliseconds(), mustSafeJSON(counts), msg, runErr != nil)
		return err
	}
	return id, finish, nil
}

// ClearBackfill deletes the alerts a backfill raised and their history, and marks
// the backfill cleared; it returns how many alerts went. Backfills draft no
// assessment; if a person has since opened one on a backfill's alert, the
// assessment's history (append-only) keeps it, and ClearBackfill refuses with
// ECONFLICT. ENOTFOUND if id is no backfill.
func (db *DB) ClearBackfill(ctx context.Context, id int64) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var trigger string
		err := tx.QueryRow(ctx, `SELECT trigger FROM engine_runs WHERE id = $1 FOR UPDATE`, id).Scan(&trigger)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && trigger != "backfill") {
			return geo.Errorf(geo.ENOTFOUND, "no backfill %d", id)
		} else if err != nil {
			return err
		}
		var assessed int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM assessments s JOIN alerts a ON a.id = s.alert_id WHERE a.backfill_id = $1`, id).Scan(&assessed); err != nil {
			return err
		}
		if assessed > 0 {
			return geo.Errorf(geo.ECONFLICT, "%d assessments were opened on backfill %d's alerts: they keep their history, so the backfill cannot be cleared", assessed, id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM alert_events e USING alerts a WHERE e.alert_id = a.id AND a.backfill_id = $1`, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM alerts WHERE backfill_id = $1`, id)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `UPDATE engine_runs SET status = 'cleared' WHERE id = $1`, id)
		return err
	})
	if err != nil {
		if geo.ErrorCode(err) != geo.EINTERNAL {
			return 0, err
		}
		return 0, fmt.Errorf("postgis: clearing backfill %d: %w", id, err)
	}
	return n, nil
}

// AnalysisVersion returns a number that changes when an engine run finishes or an
// alert moves: what the hot spot, alert and near-repeat layers depend on besides
// the data.
func (db *DB) AnalysisVersion(ctx context.Context) (int64, error) {
	var v int64
	// Both ids only grow, so their sum changes whenever a run finishes or an alert
	// moves (each move is an alert event).
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM engine_runs WHERE status IN ('done', 'partial', 'cleared'))
		+ (SELECT coalesce(max(id), 0) FROM alert_events)`).Scan(&v)
	return v, err
}
