package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// assessmentColumns are read by scanAssessment, in its order.
const assessmentColumns = `s.id, s.status, s.title, s.trigger_kind, s.trigger, coalesce(s.alert_id, 0), coalesce(s.incident_id, 0),
	s.area_level, s.areas, s.cells, s.strands, s.communities, s.tension_level, s.summary, s.intelligence, s.risks, s.partners,
	s.review_date, s.bbox, s.evidence, s.closed_reason, s.created_by, s.created_at, s.updated_at, s.opened_at, s.closed_at, s.version,
	coalesce((SELECT array_agg(e.event_id ORDER BY e.event_id) FROM assessment_events e WHERE e.assessment_id = s.id), '{}')`

func scanAssessment(row pgx.Row) (*tension.Assessment, error) {
	var a tension.Assessment
	var cells []int64
	var intel, risks, evidence []byte
	var review, opened, closed *time.Time
	err := row.Scan(&a.ID, &a.Status, &a.Title, &a.TriggerKind, &a.Trigger, &a.AlertID, &a.IncidentID,
		&a.AreaLevel, &a.Areas, &cells, &a.Strands, &a.Communities, &a.TensionLevel, &a.Summary, &intel, &risks, &a.Partners,
		&review, &a.BBox, &evidence, &a.ClosedReason, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt, &opened, &closed, &a.Version, &a.EventIDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no such impact assessment")
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: reading an assessment: %w", err)
	}
	for _, c := range cells {
		a.Cells = append(a.Cells, uint64(c))
	}
	json.Unmarshal(intel, &a.Intelligence)
	json.Unmarshal(risks, &a.Risks)
	json.Unmarshal(evidence, &a.Evidence)
	if review != nil {
		a.ReviewDate = *review
	}
	if opened != nil {
		a.OpenedAt = *opened
	}
	if closed != nil {
		a.ClosedAt = *closed
	}
	a.Intelligence = nonNilSlice(a.Intelligence)
	a.Risks = nonNilSlice(a.Risks)
	a.Partners = nonNilSlice(a.Partners)
	a.Areas = nonNilSlice(a.Areas)
	a.Strands = nonNilSlice(a.Strands)
	a.EventIDs = nonNilSlice(a.EventIDs)
	a.Actions = []tension.Action{}
	return &a, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// history appends one line to an assessment's history.
func history(ctx context.Context, tx pgx.Tx, id int64, actor, action string, changes map[string]any) error {
	if changes == nil {
		changes = map[string]any{}
	}
	js, _, err := safeJSON(changes)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO assessment_history (assessment_id, actor, action, changes) VALUES ($1, $2, $3, $4)`, id, actor, action, js)
	return err
}

// followAlert moves an assessment's alert to the status the assessment's status
// asks for, recording it in the alert's history. A new alert a person turns into a
// draft becomes acknowledged; a dismissed one stays dismissed until the assessment opens.
func followAlert(ctx context.Context, tx pgx.Tx, alertID, assessmentID int64, status, actor string) error {
	if alertID == 0 {
		return nil
	}
	to := tension.AlertStatusFor(status)
	var from string
	if err := tx.QueryRow(ctx, `SELECT status FROM alerts WHERE id = $1 FOR UPDATE`, alertID).Scan(&from); err != nil {
		return err
	}
	if from == to || (status == tension.AssessmentDraft && from != tension.StatusNew) {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE alerts SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1`,
		alertID, to, fmt.Sprintf("impact assessment %d is %s", assessmentID, strings.ReplaceAll(status, "_", " "))); err != nil {
		return err
	}
	return alertEvent(ctx, tx, alertID, actor, "assessment_"+status, 0, map[string]any{"assessment_id": assessmentID, "from": from, "to": to})
}

func jsonArg(v any) []byte { return mustSafeJSON(v) }

func dateArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func bboxArg(b []float64) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateAssessment stores a new assessment as a draft and sets its ID, Version and
// times. One made for an alert takes the alert's evidence, places and strands where
// a is silent, and moves the alert on; an alert that already has an assessment
// gives ECONFLICT naming it.
func (db *DB) CreateAssessment(ctx context.Context, a *tension.Assessment, actor string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var alertID any
		if a.AlertID != 0 {
			alertID = a.AlertID
			var existing int64
			err := tx.QueryRow(ctx, `SELECT id FROM assessments WHERE alert_id = $1`, a.AlertID).Scan(&existing)
			if err == nil {
				return geo.Errorf(geo.ECONFLICT, "alert %d already has impact assessment %d", a.AlertID, existing)
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var incidentID any
		if a.IncidentID != 0 {
			incidentID = a.IncidentID
		}
		a.Status = tension.AssessmentDraft
		err := tx.QueryRow(ctx, `INSERT INTO assessments (alert_id, status, title, trigger_kind, trigger, incident_id, area_level, areas, cells,
			strands, communities, tension_level, summary, intelligence, risks, partners, review_date, bbox, evidence, created_by)
			VALUES ($1, 'draft', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
			RETURNING id, created_at, updated_at, version`,
			alertID, a.Title, a.TriggerKind, a.Trigger, incidentID, a.AreaLevel, nonNilSlice(a.Areas), cellArgs(a.Cells),
			nonNilSlice(a.Strands), a.Communities, a.TensionLevel, a.Summary, jsonArg(nonNilSlice(a.Intelligence)),
			jsonArg(nonNilSlice(a.Risks)), nonNilSlice(a.Partners), dateArg(a.ReviewDate), bboxArg(a.BBox),
			jsonArg(orEmpty(a.Evidence)), actor).Scan(&a.ID, &a.CreatedAt, &a.UpdatedAt, &a.Version)
		if err != nil {
			return err
		}
		for _, ev := range a.EventIDs {
			if err := linkEvent(ctx, tx, a.ID, ev); err != nil {
				return err
			}
		}
		created := map[string]any{"status": a.Status, "title": a.Title, "trigger_kind": a.TriggerKind, "alert_id": a.AlertID}
		if len(a.EventIDs) > 0 {
			created["event_ids"] = a.EventIDs
		}
		if err := history(ctx, tx, a.ID, actor, "created", created); err != nil {
			return err
		}
		return followAlert(ctx, tx, a.AlertID, a.ID, a.Status, actor)
	})
	return assessmentErr("creating an assessment", err)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func linkEvent(ctx context.Context, tx pgx.Tx, id, eventID int64) error {
	tag, err := tx.Exec(ctx, `INSERT INTO assessment_events (assessment_id, event_id)
		SELECT $1, id FROM trigger_events WHERE id = $2 ON CONFLICT DO NOTHING`, id, eventID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM trigger_events WHERE id = $1)`, eventID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return geo.Errorf(geo.EINVALID, "event: no trigger event %d", eventID)
		}
	}
	return nil
}

func assessmentErr(what string, err error) error {
	if err == nil || geo.ErrorCode(err) != geo.EINTERNAL {
		return err
	}
	return fmt.Errorf("postgis: %s: %w", what, err)
}

// Assessment returns one assessment with its actions and history.
func (db *DB) Assessment(ctx context.Context, id int64) (*tension.Assessment, error) {
	a, err := scanAssessment(db.Pool.QueryRow(ctx, `SELECT `+assessmentColumns+` FROM assessments s WHERE s.id = $1`, id))
	if err != nil {
		return nil, err
	}
	if err := db.fillActions(ctx, []*tension.Assessment{a}); err != nil {
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT at, actor, action, changes FROM assessment_history WHERE assessment_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgis: assessment history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h tension.HistoryEntry
		var changes []byte
		if err := rows.Scan(&h.At, &h.Actor, &h.Action, &changes); err != nil {
			return nil, err
		}
		json.Unmarshal(changes, &h.Changes)
		a.History = append(a.History, h)
	}
	return a, rows.Err()
}

// fillActions reads the actions of assessments, oldest first.
func (db *DB) fillActions(ctx context.Context, as []*tension.Assessment) error {
	if len(as) == 0 {
		return nil
	}
	ids := make([]int64, len(as))
	byID := map[int64]*tension.Assessment{}
	for i, a := range as {
		ids[i] = a.ID
		byID[a.ID] = a
	}
	rows, err := db.Pool.Query(ctx, `SELECT assessment_id, id, description, owner, due, done, done_at, done_by, created_by, created_at
		FROM assessment_actions WHERE assessment_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return fmt.Errorf("postgis: assessment actions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner int64
		var x tension.Action
		var doneAt *time.Time
		if err := rows.Scan(&owner, &x.ID, &x.Description, &x.Owner, &x.Due, &x.Done, &doneAt, &x.DoneBy, &x.CreatedBy, &x.CreatedAt); err != nil {
			return err
		}
		if doneAt != nil {
			x.DoneAt = *doneAt
		}
		byID[owner].Actions = append(byID[owner].Actions, x)
	}
	return rows.Err()
}

// scopeMatch is true when the places of the assessment row s meet the areas whose
// codes are $S: an area of its is one of them, or overlaps one of them by more than
// 1% of the smaller (so an LSOA inside a scoped ward counts, and a neighbour that
// only touches its border does not); an assessment without areas counts by its map
// extent.
const scopeMatch = `(s.areas && $S::text[]
	OR EXISTS (SELECT 1 FROM areas a JOIN areas sa ON sa.code = ANY($S::text[]) AND a.geom && sa.geom
		WHERE a.code = ANY(s.areas)
		AND ST_Area(ST_Intersection(a.geom, sa.geom)) > 0.01 * least(ST_Area(a.geom), ST_Area(sa.geom)))
	OR (cardinality(s.areas) = 0 AND cardinality(s.bbox) = 4 AND EXISTS (SELECT 1 FROM areas sa WHERE sa.code = ANY($S::text[])
		AND ST_Intersects(sa.geom, ST_MakeEnvelope(s.bbox[1], s.bbox[2], s.bbox[3], s.bbox[4], 4326)))))`

// PlacesInScope reports whether an assessment with these areas and map extent
// (west, south, east, north; nil for none) meets the areas of scope, as
// AssessmentFilter.Scope counts it.
func (db *DB) PlacesInScope(ctx context.Context, areas []string, bbox []float64, scope []string) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `SELECT `+strings.ReplaceAll(scopeMatch, "$S", "$3")+`
		FROM (SELECT $1::text[] AS areas, $2::float8[] AS bbox) s`, nonNilSlice(areas), bboxArg(bbox), nonNilSlice(scope)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("postgis: assessment scope: %w", err)
	}
	return ok, nil
}

// AssessmentsInScope returns those of ids whose assessments a caller scoped to the
// areas of scope may read (AssessmentFilter.Scope: their places meet those areas,
// or they are citywide), in ascending order. Ids of no assessment are left out.
func (db *DB) AssessmentsInScope(ctx context.Context, ids []int64, scope []string) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT s.id FROM assessments s
		WHERE s.id = ANY($1::bigint[])
		AND ((cardinality(s.areas) = 0 AND coalesce(cardinality(s.bbox), 0) = 0) OR `+strings.ReplaceAll(scopeMatch, "$S", "$2")+`)
		ORDER BY s.id`, ids, nonNilSlice(scope))
	if err != nil {
		return nil, fmt.Errorf("postgis: assessments in scope: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgis: assessments in scope: %w", err)
	}
	return out, nil
}

// Assessments lists assessments, the most recently changed first, with their actions.
func (db *DB) Assessments(ctx context.Context, f tension.AssessmentFilter) ([]*tension.Assessment, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var status any
	if len(f.Status) > 0 {
		status = f.Status
	}
	var alert, event any
	if f.AlertID != 0 {
		alert = f.AlertID
	}
	if f.EventID != 0 {
		event = f.EventID
	}
	today := f.Today
	if today.IsZero() {
		today = time.Now()
	}
	var scope any
	if f.Scope != nil {
		scope = f.Scope
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+assessmentColumns+` FROM assessments s
		WHERE ($1::text[] IS NULL OR s.status = ANY($1))
		AND ($2::bigint IS NULL OR s.alert_id = $2)
		AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM assessment_events e WHERE e.assessment_id = s.id AND e.event_id = $3))
		AND (NOT $4 OR (s.status IN ('open', 'under_review') AND (s.review_date < $5
			OR EXISTS (SELECT 1 FROM assessment_actions x WHERE x.assessment_id = s.id AND NOT x.done AND x.due < $5))))
		AND ($7::text[] IS NULL OR (cardinality(s.areas) = 0 AND coalesce(cardinality(s.bbox), 0) = 0) OR `+strings.ReplaceAll(scopeMatch, "$S", "$7")+`)
		ORDER BY s.updated_at DESC, s.id DESC LIMIT $6`, status, alert, event, f.Overdue, today, limit, scope)
	if err != nil {
		return nil, fmt.Errorf("postgis: assessments: %w", err)
	}
	var out []*tension.Assessment
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: assessments: %w", err)
	}
	return out, db.fillActions(ctx, out)
}

// lockAssessment reads an assessment for change, checking the version the person
// saw (0: any) so that two people's edits never silently overwrite each other.
func lockAssessment(ctx context.Context, tx pgx.Tx, id int64, version int) (*tension.Assessment, error) {
	a, err := scanAssessment(tx.QueryRow(ctx, `SELECT `+assessmentColumns+` FROM assessments s WHERE s.id = $1 FOR UPDATE`, id))
	if err != nil {
		return nil, err
	}
	if version != 0 && a.Version != version {
		return nil, geo.Errorf(geo.ECONFLICT, "impact assessment %d was changed by someone else (version %d, you edited version %d): reload it and make your change again", id, a.Version, version)
	}
	return a, nil
}

// UpdateAssessment saves the editable fields of a (tension.EditableFields) over
// the stored assessment of version a.Version, records what changed, and returns the
// stored assessment. A closed assessment is not edited: reopen it first.
func (db *DB) UpdateAssessment(ctx context.Context, a *tension.Assessment, actor string) (*tension.Assessment, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		old, err := lockAssessment(ctx, tx, a.ID, a.Version)
		if err != nil {
			return err
		}
		if old.Status == tension.AssessmentClosed {
			return geo.Errorf(geo.ECONFLICT, "impact assessment %d is closed: reopen it to change it", a.ID)
		}
		changes := tension.Changes(old, a)
		if len(changes) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE assessments SET title = $2, trigger = $3, areas = $4, area_level = $5, strands = $6, communities = $7,
			tension_level = $8, summary = $9, intelligence = $10, risks = $11, partners = $12, review_date = $13, bbox = $14,
			version = version + 1, updated_at = now() WHERE id = $1`,
			a.ID, a.Title, a.Trigger, nonNilSlice(a.Areas), a.AreaLevel, nonNilSlice(a.Strands), a.Communities, a.TensionLevel, a.Summary,
			jsonArg(nonNilSlice(a.Intelligence)), jsonArg(nonNilSlice(a.Risks)), nonNilSlice(a.Partners), dateArg(a.ReviewDate), bboxArg(a.BBox)); err != nil {
			return err
		}
		return history(ctx, tx, a.ID, actor, "edited", changes)
	})
	if err != nil {
		return nil, assessmentErr("saving an assessment", err)
	}
	return db.Assessment(ctx, a.ID)
}

// MoveAssessment moves an assessment to another status if tension.FindTransition
// allows it (a closing or a reopening needs a reason), records it, and moves its
// alert along. version is what the person saw (0: any).
func (db *DB) MoveAssessment(ctx context.Context, id int64, to, reason string, version int, actor string) (*tension.Assessment, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		old, err := lockAssessment(ctx, tx, id, version)
		if err != nil {
			return err
		}
		t, err := tension.FindTransition(old.Status, to)
		if err != nil {
			return err
		}
		reason = strings.TrimSpace(reason)
		if t.NeedsReason && reason == "" {
			return geo.Errorf(geo.EINVALID, "reason: say why the assessment is %s", strings.ReplaceAll(t.Action, "_", " "))
		}
		if len(reason) > 2000 {
			return geo.Errorf(geo.EINVALID, "reason: at most 2000 characters")
		}
		closedReason := old.ClosedReason
		if to == tension.AssessmentClosed {
			closedReason = reason
		}
		if _, err := tx.Exec(ctx, `UPDATE assessments SET status = $2, closed_reason = $3,
			opened_at = CASE WHEN $2 = 'open' THEN coalesce(opened_at, now()) ELSE opened_at END,
			closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END,
			version = version + 1, updated_at = now() WHERE id = $1`, id, to, closedReason); err != nil {
			return err
		}
		changes := map[string]any{"status": map[string]any{"from": old.Status, "to": to}}
		if reason != "" {
			changes["reason"] = reason
		}
		if err := history(ctx, tx, id, actor, t.Action, changes); err != nil {
			return err
		}
		return followAlert(ctx, tx, old.AlertID, id, to, actor)
	})
	if err != nil {
		return nil, assessmentErr("moving an assessment", err)
	}
	return db.Assessment(ctx, id)
}

// AddAction adds an action to an assessment that is not closed and sets its ID.
func (db *DB) AddAction(ctx context.Context, id int64, x *tension.Action, actor string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		a, err := lockAssessment(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		if a.Status == tension.AssessmentClosed {
			return geo.Errorf(geo.ECONFLICT, "impact assessment %d is closed: reopen it to add an action", id)
		}
		x.CreatedBy = actor
		if err := tx.QueryRow(ctx, `INSERT INTO assessment_actions (assessment_id, description, owner, due, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`, id, x.Description, x.Owner, x.Due, actor).Scan(&x.ID, &x.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE assessments SET version = version + 1, updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		return history(ctx, tx, id, actor, "action_added", map[string]any{"action_id": x.ID, "description": x.Description,
			"owner": x.Owner, "due": x.Due.Format(time.DateOnly)})
	})
	return assessmentErr("adding an action", err)
}

// SetActionDone marks an action done or not done.
func (db *DB) SetActionDone(ctx context.Context, id, actionID int64, done bool, actor string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		a, err := lockAssessment(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		if a.Status == tension.AssessmentClosed {
			return geo.Errorf(geo.ECONFLICT, "impact assessment %d is closed: reopen it to change its actions", id)
		}
		var was bool
		var description string
		err = tx.QueryRow(ctx, `SELECT done, description FROM assessment_actions WHERE id = $1 AND assessment_id = $2 FOR UPDATE`,
			actionID, id).Scan(&was, &description)
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.ENOTFOUND, "impact assessment %d has no action %d", id, actionID)
		} else if err != nil {
			return err
		}
		if was == done {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE assessment_actions SET done = $2,
			done_at = CASE WHEN $2 THEN now() END, done_by = CASE WHEN $2 THEN $3 ELSE '' END WHERE id = $1`, actionID, done, actor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE assessments SET version = version + 1, updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		action := map[bool]string{true: "action_done", false: "action_undone"}[done]
		return history(ctx, tx, id, actor, action, map[string]any{"action_id": actionID, "description": description})
	})
	return assessmentErr("changing an action", err)
}

// LinkEvents links or unlinks trigger events to an assessment.
func (db *DB) LinkEvents(ctx context.Context, id int64, link, unlink []int64, actor string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		a, err := lockAssessment(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		for _, ev := range link {
			if slices.Contains(a.EventIDs, ev) {
				continue
			}
			if err := linkEvent(ctx, tx, id, ev); err != nil {
				return err
			}
			if err := history(ctx, tx, id, actor, "event_linked", map[string]any{"event_id": ev}); err != nil {
				return err
			}
		}
		for _, ev := range unlink {
			tag, err := tx.Exec(ctx, `DELETE FROM assessment_events WHERE assessment_id = $1 AND event_id = $2`, id, ev)
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				if err := history(ctx, tx, id, actor, "event_unlinked", map[string]any{"event_id": ev}); err != nil {
					return err
				}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE assessments SET version = version + 1, updated_at = now() WHERE id = $1`, id)
		return err
	})
	return assessmentErr("linking events", err)
}

// TriggerEventList returns the trigger events recorded, the latest day first.
func (db *DB) TriggerEventList(ctx context.Context, limit int) ([]tension.TriggerEventDetail, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.Pool.Query(ctx, `SELECT t.id, t.day, t.scope, t.description, t.strands, t.created_by, t.created_at,
		coalesce((SELECT array_agg(e.assessment_id ORDER BY e.assessment_id) FROM assessment_events e WHERE e.event_id = t.id), '{}')
		FROM trigger_events t ORDER BY t.day DESC, t.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: trigger events: %w", err)
	}
	var out []tension.TriggerEventDetail
	var e tension.TriggerEventDetail
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.Day, &e.Scope, &e.Description, &e.Strands, &e.CreatedBy, &e.CreatedAt, &e.Assessments}, func() error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// TriggerEvent returns one trigger event with its uplifts and assessments.
func (db *DB) TriggerEvent(ctx context.Context, id int64) (*tension.TriggerEventDetail, error) {
	var e tension.TriggerEventDetail
	err := db.Pool.QueryRow(ctx, `SELECT t.id, t.day, t.scope, t.description, t.strands, t.created_by, t.created_at,
		coalesce((SELECT array_agg(e.assessment_id ORDER BY e.assessment_id) FROM assessment_events e WHERE e.event_id = t.id), '{}')
		FROM trigger_events t WHERE t.id = $1`, id).Scan(&e.ID, &e.Day, &e.Scope, &e.Description, &e.Strands, &e.CreatedBy, &e.CreatedAt, &e.Assessments)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no trigger event %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgis: trigger event: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT strand, run_id, result FROM trigger_uplifts WHERE event_id = $1 ORDER BY strand`, id)
	if err != nil {
		return nil, fmt.Errorf("postgis: trigger event uplifts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var strand string
		var run int64
		var js []byte
		if err := rows.Scan(&strand, &run, &js); err != nil {
			return nil, err
		}
		var r tension.UpliftResult
		if err := json.Unmarshal(js, &r); err != nil {
			return nil, fmt.Errorf("postgis: trigger event %d uplift: %w", id, err)
		}
		r.Name = strand
		e.Uplifts = append(e.Uplifts, r)
		e.UpliftRun = max(e.UpliftRun, run)
	}
	return &e, rows.Err()
}
