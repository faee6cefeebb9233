package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tensionmap/tensionmap/geo"
)

var _ geo.BatchWriter = (*IncidentWriter)(nil)

// areasLock is the advisory lock key between ingest (shared, for the whole ingest:
// its area attribution was computed from the areas as they were when it started) and
// area imports (exclusive, while they re-attribute incidents).
const areasLock = 7455_2023_0002

// IncidentWriter stores batches of incidents and keeps the roll-ups current, on one
// connection of its own. It is not safe for concurrent use; several writers may run
// at once.
type IncidentWriter struct {
	conn  *pgxpool.Conn
	vocab *Vocab
	res   []int16
	runID int64
}

// NewIncidentWriter returns a writer for incidents of the given ingest run. resolutions
// are the roll-up resolutions (see EnsureResolutions). Close it when done.
func (db *DB) NewIncidentWriter(ctx context.Context, vocab *Vocab, resolutions []int, runID int64) (*IncidentWriter, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgis: ingest: %w", err)
	}
	w := &IncidentWriter{conn: conn, vocab: vocab, runID: runID}
	for _, r := range resolutions {
		w.res = append(w.res, int16(r))
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1)", areasLock); err != nil {
		conn.Release()
		return nil, fmt.Errorf("postgis: ingest: %w", err)
	}
	// The staging table lives as long as the connection; ON COMMIT DELETE ROWS empties it
	// after every batch.
	_, err = conn.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
		ord integer, source_id smallint, source_ref text, kind smallint, strands bigint,
		offence text, occurred_from date, occurred_to date, reported_at timestamptz,
		precision text, lon float8, lat float8, cell bigint, areas integer[],
		victim_key text, offender_key text) ON COMMIT DELETE ROWS`)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("postgis: ingest: staging table: %w", err)
	}
	return w, nil
}

// SetRun sets the ingest run the next batches belong to.
func (w *IncidentWriter) SetRun(runID int64) { w.runID = runID }

// Close releases the writer's connection and its lock.
func (w *IncidentWriter) Close() {
	if w.conn == nil {
		return
	}
	// A connection returned to the pool must not keep the lock.
	if _, err := w.conn.Exec(context.Background(), "SELECT pg_advisory_unlock_shared($1)", areasLock); err != nil {
		w.conn.Conn().Close(context.Background())
	}
	w.conn.Release()
	w.conn = nil
}

var stageColumns = []string{"ord", "source_id", "source_ref", "kind", "strands", "offence", "occurred_from", "occurred_to",
	"reported_at", "precision", "lon", "lat", "cell", "areas", "victim_key", "offender_key"}

// insertBatch moves the staged rows into incidents, skipping those already stored,
// and adds what it inserted to the roll-ups, all in one statement. Roll-up rows are
// upserted in key order so concurrent writers lock them in the same order.
const insertBatch = `
WITH ins AS (
    INSERT INTO incidents (source_id, source_ref, kind, strands, offence, occurred_from, occurred_to,
        reported_at, precision, location, cell, areas, victim_key, offender_key, run_id)
    SELECT source_id, source_ref, kind, strands, offence, occurred_from, occurred_to, reported_at, precision,
        CASE WHEN lon IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
        cell, areas, victim_key, offender_key, $2
    FROM ingest_stage ORDER BY ord
    ON CONFLICT (source_id, source_ref) DO NOTHING
    RETURNING source_id, kind, strands, occurred_from, cell, areas
), cells AS (
    INSERT INTO cell_counts AS c (res, cell, day, kind, source_id, strands, n)
    SELECT r, h3_parent(i.cell, r), i.occurred_from, i.kind, i.source_id, i.strands, count(*)
    FROM ins i CROSS JOIN unnest($1::smallint[]) AS r
    WHERE i.cell IS NOT NULL AND r <= h3_res(i.cell)
    GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (res, cell, day, kind, source_id, strands) DO UPDATE SET n = c.n + excluded.n
), days AS (
    INSERT INTO day_counts AS d (day, kind, source_id, strands, n, located)
    SELECT occurred_from, kind, source_id, strands, count(*), count(cell)
    FROM ins GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, kind, source_id, strands) DO UPDATE SET n = d.n + excluded.n, located = d.located + excluded.located
), areas AS (
    INSERT INTO area_counts AS a (area_id, day, kind, source_id, strands, n)
    SELECT area_id, occurred_from, kind, source_id, strands, count(*)
    FROM ins CROSS JOIN unnest(ins.areas) AS area_id
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (area_id, day, kind, source_id, strands) DO UPDATE SET n = a.n + excluded.n
)
SELECT count(*) FROM ins`

// WriteBatch stores one batch in one transaction and returns how many incidents were
// new. A deadlock with a concurrent writer is retried.
func (w *IncidentWriter) WriteBatch(ctx context.Context, batch []*geo.Incident) (int, error) {
	var inserted int
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		inserted, err = w.writeOnce(ctx, batch)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
			time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		return 0, fmt.Errorf("postgis: storing a batch of %d incidents: %w", len(batch), err)
	}
	if inserted > 0 {
		if _, err := w.conn.Exec(ctx, "SELECT nextval('data_version')"); err != nil {
			return inserted, fmt.Errorf("postgis: bumping the data version: %w", err)
		}
	}
	return inserted, nil
}

func (w *IncidentWriter) writeOnce(ctx context.Context, batch []*geo.Incident) (int, error) {
	var inserted int
	err := pgx.BeginFunc(ctx, w.conn, func(tx pgx.Tx) error {
		src := &stageSource{batch: batch, vocab: w.vocab, row: make([]any, len(stageColumns)), i: -1}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ingest_stage"}, stageColumns, src); err != nil {
			return err
		}
		if src.err != nil {
			return src.err
		}
		return tx.QueryRow(ctx, insertBatch, w.res, w.runID).Scan(&inserted)
	})
	return inserted, err
}

// stageSource feeds a batch to COPY without building every row up front.
type stageSource struct {
	batch []*geo.Incident
	vocab *Vocab
	row   []any
	i     int
	err   error
}

func (s *stageSource) Next() bool {
	s.i++
	return s.i < len(s.batch) && s.err == nil
}

func (s *stageSource) Values() ([]any, error) {
	in := s.batch[s.i]
	src, ok := s.vocab.SourceID[in.Source]
	if !ok {
		s.err = fmt.Errorf("source %q is not registered", in.Source)
		return nil, s.err
	}
	mask := s.vocab.Mask(in.Strands)
	if mask == 0 {
		s.err = fmt.Errorf("strands %v are not registered", in.Strands)
		return nil, s.err
	}
	r := s.row
	r[0], r[1], r[2], r[3], r[4] = int32(s.i), src, in.SourceRef, kindCode(in.Kind), mask
	r[5], r[6], r[7] = in.Offence, in.OccurredFrom, in.OccurredTo
	r[8] = nullTime(in.ReportedAt)
	r[9] = string(in.Precision)
	if in.Precision.Located() {
		r[10], r[11] = in.Location.Lon, in.Location.Lat
	} else {
		r[10], r[11] = nil, nil
	}
	if in.Cell != 0 {
		r[12] = int64(in.Cell)
	} else {
		r[12] = nil
	}
	if in.Areas == nil {
		r[13] = []int32{}
	} else {
		r[13] = in.Areas
	}
	r[14], r[15] = nullString(in.VictimKey), nullString(in.OffenderKey)
	return r, nil
}

func (s *stageSource) Err() error { return s.err }

func kindCode(k geo.Kind) int16 {
	if k == geo.KindIncident {
		return 1
	}
	return 0
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// StartRun records the start of an ingest run and returns its id.
func (db *DB) StartRun(ctx context.Context, origin, actor string, inputs []string) (int64, error) {
	if inputs == nil {
		inputs = []string{}
	}
	var id int64
	err := db.Pool.QueryRow(ctx, `INSERT INTO ingest_runs (origin, actor, inputs) VALUES ($1, $2, $3) RETURNING id`,
		origin, actor, inputs).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgis: recording the ingest run: %w", err)
	}
	return id, nil
}

// FinishRun records the outcome of an ingest run.
func (db *DB) FinishRun(ctx context.Context, id int64, sum geo.Summary, runErr error) error {
	status := "done"
	if runErr != nil {
		status = "failed"
	}
	js, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = db.Pool.Exec(ctx, `UPDATE ingest_runs SET finished_at = now(), status = $2, summary = $3 WHERE id = $1`, id, status, js)
	if err != nil {
		return fmt.Errorf("postgis: recording the ingest run: %w", err)
	}
	return nil
}

// DataVersion returns a number that changes whenever stored counts change.
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.Pool.QueryRow(ctx, "SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM data_version").Scan(&v)
	return v, err
}
