package postgis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tensionmap/tensionmap/geo"
)

var _ geo.BatchWriter = (*IncidentWriter)(nil)

// areasLock is the advisory lock key between ingest (shared, for the whole ingest:
// its area attribution was computed from the areas as they were when it started) and
// area imports and roll-up rebuilds (exclusive).
const areasLock = 7455_2023_0002

// IncidentWriter stores batches of incidents and keeps the roll-ups current. It is
// safe for concurrent use: each WriteBatch runs on a connection of its own, so two
// batches can be stored at once on two cores.
type IncidentWriter struct {
	db     *DB
	vocab  *Vocab
	binner *geo.Binner
	lock   *pgxpool.Conn
	runID  atomic.Int64
	// conflictPath is set after a batch met references already stored: the next batch
	// then goes straight to the path that skips them instead of first trying COPY.
	conflictPath atomic.Bool
	// stores, when set, holds a token for each batch being stored (SetStores).
	stores chan struct{}
	// encoders are the COPY encoders of batches done, for the next ones.
	encoders encoderPool

	setsMu  sync.Mutex
	sets    map[string]int32 // area set ids by setKey
	classes map[int64]int32  // rollup_classes.idx by class

	// What the batches stored so far touched, for Compact: their first and last day
	// (days since 2000-01-01) and the tree nodes of area counts they added to.
	touchMu           sync.Mutex
	firstDay, lastDay int32
	touchedDays       bool
	touchedNodes      map[int32]bool
	touchedAreas      map[int32]bool
	appended          int // roll-up rows the batches added since the last Compact
	// The cells of the monthly and yearly counts the batches added to, while they
	// are few enough for a small merge (nil beyond).
	touchedCells map[int64]bool
}

// NewIncidentWriter returns a writer whose roll-ups follow binner's resolutions (see
// EnsureResolutions). It holds the areas lock shared until Close.
func (db *DB) NewIncidentWriter(ctx context.Context, vocab *Vocab, binner *geo.Binner) (*IncidentWriter, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgis: ingest: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1)", areasLock); err != nil {
		conn.Release()
		return nil, fmt.Errorf("postgis: ingest: %w", err)
	}
	w := &IncidentWriter{db: db, vocab: vocab, binner: binner, lock: conn, sets: map[string]int32{},
		classes: map[int64]int32{}, touchedNodes: map[int32]bool{}, touchedAreas: map[int32]bool{},
		encoders: make(encoderPool, 16)}
	rows, _ := conn.Query(ctx, "SELECT id, areas FROM area_sets")
	var id int32
	var areas []int32
	_, err = pgx.ForEachRow(rows, []any{&id, &areas}, func() error {
		w.sets[setKey(areas)] = id
		return nil
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("postgis: ingest: area sets: %w", err)
	}
	var class int64
	rows, _ = conn.Query(ctx, "SELECT idx, class FROM rollup_classes")
	_, err = pgx.ForEachRow(rows, []any{&id, &class}, func() error {
		w.classes[class] = id
		return nil
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("postgis: ingest: roll-up classes: %w", err)
	}
	return w, nil
}

// classIndexes returns the rollup_classes index of each incident's class (0 for an
// incident in no area, which the tree of area counts does not count), registering
// new classes. Registration commits on its own: a class without counts is harmless.
func (w *IncidentWriter) classIndexes(ctx context.Context, batch []*geo.Incident) ([]int32, error) {
	idx := make([]int32, len(batch))
	w.setsMu.Lock()
	defer w.setsMu.Unlock()
	var missing []int64
	for _, in := range batch {
		if len(in.Areas) == 0 {
			continue
		}
		c := w.vocab.Class(in)
		if _, ok := w.classes[c]; !ok && !slices.Contains(missing, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		rows, _ := w.db.Pool.Query(ctx, `WITH ins AS (
				INSERT INTO rollup_classes (class) SELECT unnest($1::bigint[]) ORDER BY 1
				ON CONFLICT (class) DO NOTHING RETURNING idx, class)
			SELECT idx, class FROM ins UNION ALL SELECT idx, class FROM rollup_classes WHERE class = ANY($1)`, missing)
		var i int32
		var c int64
		if _, err := pgx.ForEachRow(rows, []any{&i, &c}, func() error {
			w.classes[c] = i
			return nil
		}); err != nil {
			return nil, fmt.Errorf("roll-up classes: %w", err)
		}
		// A class another process registered at the same moment is committed by now
		// but was not in the statement's snapshot: read it again.
		missing = slices.DeleteFunc(missing, func(c int64) bool { return w.classes[c] != 0 })
		if len(missing) > 0 {
			rows, _ := w.db.Pool.Query(ctx, `SELECT idx, class FROM rollup_classes WHERE class = ANY($1)`, missing)
			if _, err := pgx.ForEachRow(rows, []any{&i, &c}, func() error {
				w.classes[c] = i
				return nil
			}); err != nil {
				return nil, fmt.Errorf("roll-up classes: %w", err)
			}
			for _, c := range missing {
				if w.classes[c] == 0 {
					return nil, fmt.Errorf("roll-up classes: class %x was not registered", c)
				}
			}
		}
	}
	for i, in := range batch {
		if len(in.Areas) > 0 {
			idx[i] = w.classes[w.vocab.Class(in)]
		}
	}
	return idx, nil
}

// setKey is the map key of a sorted set of area ids.
func setKey(areas []int32) string {
	b := make([]byte, 4*len(areas))
	for i, a := range areas {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(a>>24), byte(a>>16), byte(a>>8), byte(a)
	}
	return string(b)
}

// areaSets returns the id of each incident's set of areas, registering new sets.
// Registration commits on its own: a set without counts is harmless.
func (w *IncidentWriter) areaSets(ctx context.Context, batch []*geo.Incident) ([]int32, error) {
	ids := make([]int32, len(batch))
	w.setsMu.Lock()
	defer w.setsMu.Unlock()
	for i, in := range batch {
		k := setKey(in.Areas)
		id, ok := w.sets[k]
		if !ok {
			areas := in.Areas
			if areas == nil {
				areas = []int32{}
			}
			err := w.db.Pool.QueryRow(ctx, `INSERT INTO area_sets (areas) VALUES ($1)
				ON CONFLICT (areas) DO UPDATE SET areas = excluded.areas RETURNING id`, areas).Scan(&id)
			if err != nil {
				return nil, fmt.Errorf("area set %v: %w", in.Areas, err)
			}
			w.sets[k] = id
		}
		ids[i] = id
	}
	return ids, nil
}

// SetRun sets the ingest run the next batches belong to.
func (w *IncidentWriter) SetRun(runID int64) { w.runID.Store(runID) }

// Close releases the writer's lock.
func (w *IncidentWriter) Close() {
	if w.lock == nil {
		return
	}
	// A connection returned to the pool must not keep the lock.
	if _, err := w.lock.Exec(context.Background(), "SELECT pg_advisory_unlock_shared($1)", areasLock); err != nil {
		w.lock.Conn().Close(context.Background())
	}
	w.lock.Release()
	w.lock = nil
}

var incidentColumns = []string{"source_id", "source_ref", "kind", "strands", "offence", "occurred_from", "occurred_to",
	"reported_at", "precision", "lon", "lat", "cell", "areas", "victim_key", "offender_key", "run_id", "cells"}

// retryConflicts runs write, again after a short wait when it ends in a deadlock or
// a serialization failure with a concurrent writer, up to five times in all.
func retryConflicts(write func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = write()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return err
}

// batchError says which batch failed to be stored, and whether the database was away.
func batchError(n int, what string, err error) error {
	if Unavailable(err) {
		return fmt.Errorf("postgis: storing a batch of %d %s: database unavailable: %w", n, what, err)
	}
	return fmt.Errorf("postgis: storing a batch of %d %s: %w", n, what, err)
}

// WriteBatch stores one batch and its roll-up counts in one transaction and returns
// how many incidents were new. References already stored, or repeated within the
// batch, are skipped. A deadlock with a concurrent writer is retried.
func (w *IncidentWriter) WriteBatch(ctx context.Context, batch []*geo.Incident) (int, error) {
	batch = uniqueRefs(batch)
	var inserted int
	err := retryConflicts(func() (err error) {
		inserted, err = w.writeOnce(ctx, batch)
		return err
	})
	if err != nil {
		return 0, batchError(len(batch), "incidents", err)
	}
	if inserted > 0 {
		// The bump records the cells at the coarsest resolution the batch may have
		// added to, so that caches drop only what lies in them (see ChangedCells).
		res, cells, all := w.touched(batch)
		if _, err := w.db.Pool.Exec(ctx, `WITH v AS (SELECT nextval('data_version') AS v),
			ins AS (INSERT INTO data_changes (version, res, cells, touched) SELECT v, $1, $2, $3 FROM v)
			DELETE FROM data_changes WHERE version < (SELECT v FROM v) - 10000`, res, cells, all); err != nil {
			return inserted, fmt.Errorf("postgis: bumping the data version: %w", err)
		}
	}
	return inserted, nil
}

// MaxTouchedCells is the most cells, at all resolutions, a batch records as touched
// (data_changes.touched); a batch that touched more records none.
const MaxTouchedCells = 4096

// touched returns the coarsest roll-up resolution and the distinct cells at it of a
// batch's located incidents, and their distinct cells at every resolution (nil when
// there are more than MaxTouchedCells).
func (w *IncidentWriter) touched(batch []*geo.Incident) (res int16, coarse, all []int64) {
	seen := map[uint64]bool{}
	coarse, all = []int64{}, []int64{}
	for _, in := range batch {
		for i, c := range w.cells(in) {
			if seen[c] {
				continue
			}
			seen[c] = true
			if i == 0 {
				coarse = append(coarse, int64(c))
			}
			if all != nil {
				if len(all) == MaxTouchedCells {
					all = nil
				} else {
					all = append(all, int64(c))
				}
			}
		}
	}
	if len(w.binner.Resolutions) > 0 {
		res = int16(w.binner.Resolutions[0])
	}
	return res, coarse, all
}

// TouchedCells returns every cell, at any roll-up resolution, that the data version
// changes since the version since (a value DataVersion returned) added reports to,
// sorted; complete is false when some change did not record them (a bulk load,
// areas, populations, a rebuild, or changes too far back): then any cell may have
// changed.
func (db *DB) TouchedCells(ctx context.Context, since int64) (cells []uint64, complete bool, err error) {
	now, err := db.DataVersion(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("postgis: touched cells: %w", err)
	}
	if now <= since {
		return nil, true, nil
	}
	// Bumps since then took the values [since, now-1]: each must have its row, with
	// its cells.
	var rows, recorded int64
	var cs []int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(touched),
			coalesce((SELECT array_agg(DISTINCT c ORDER BY c) FROM data_changes, unnest(touched) c WHERE version >= $1 AND version < $2), '{}')
		FROM data_changes WHERE version >= $1 AND version < $2`, since, now).Scan(&rows, &recorded, &cs); err != nil {
		return nil, false, fmt.Errorf("postgis: touched cells: %w", err)
	}
	if rows != now-since || recorded != rows {
		return nil, false, nil
	}
	cells = make([]uint64, len(cs))
	for i, c := range cs {
		cells[i] = uint64(c)
	}
	return cells, true, nil
}

// ChangedCells says what the data version changes since the version since (a value
// DataVersion returned) touched: the cells at resolution res that ingests added
// reports to. complete is false when some change is not recorded by cell (areas,
// populations, a roll-up rebuild, or changes too far back): then everything may
// have changed.
func (db *DB) ChangedCells(ctx context.Context, since int64) (res int, cells []uint64, complete bool, err error) {
	now, err := db.DataVersion(ctx)
	if err != nil {
		return 0, nil, false, fmt.Errorf("postgis: changed cells: %w", err)
	}
	if now <= since {
		return 0, nil, true, nil
	}
	// Bumps since then took the values [since, now-1].
	rows, err := db.Pool.Query(ctx, `SELECT version, res, cells FROM data_changes WHERE version >= $1 AND version < $2 ORDER BY version`, since, now)
	if err != nil {
		return 0, nil, false, fmt.Errorf("postgis: changed cells: %w", err)
	}
	seen := map[uint64]bool{}
	var version int64
	var r int16
	var cs []int64
	recorded := int64(0)
	res = -1
	_, err = pgx.ForEachRow(rows, []any{&version, &r, &cs}, func() error {
		recorded++
		if res == -1 {
			res = int(r)
		} else if res != int(r) {
			res = -2 // resolutions changed on the way: not comparable
		}
		for _, c := range cs {
			if !seen[uint64(c)] {
				seen[uint64(c)] = true
				cells = append(cells, uint64(c))
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, false, fmt.Errorf("postgis: changed cells: %w", err)
	}
	if recorded != now-since || res < 0 {
		return 0, nil, false, nil
	}
	slices.Sort(cells)
	return res, cells, true, nil
}

// uniqueRefs drops later records of a (source, source_ref) already in the batch.
func uniqueRefs(batch []*geo.Incident) []*geo.Incident {
	type key struct{ source, ref string }
	seen := make(map[key]struct{}, len(batch))
	out := batch[:0:0]
	for _, in := range batch {
		k := key{in.Source, in.SourceRef}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, in)
	}
	return out
}

func (w *IncidentWriter) writeOnce(ctx context.Context, batch []*geo.Incident) (int, error) {
	enc := w.encoders.get()
	defer w.encoders.put(enc)
	if err := w.encode(enc, batch); err != nil {
		return 0, err
	}
	data := enc.finish()
	// Area sets are registered before the transaction takes its connection: a writer
	// must never wait for a second connection while holding one.
	sets, err := w.areaSets(ctx, batch)
	if err != nil {
		return 0, err
	}
	idxs, err := w.classIndexes(ctx, batch)
	if err != nil {
		return 0, err
	}
	// Most batches are new: their roll-up rows are summed before the transaction.
	var counts *rollupRows
	if !w.conflictPath.Load() {
		counts = w.prepareCounts(batch, sets, idxs)
		defer counts.release()
	}
	if w.stores != nil {
		select {
		case w.stores <- struct{}{}:
			defer func() { <-w.stores }()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	conn, err := w.db.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	var inserted []*geo.Incident
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if counts != nil {
			// COPY them straight into incidents. A reference already stored aborts
			// the COPY, and the batch takes the conflict path instead.
			err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				_, err := sp.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), copyIncidents)
				return err
			})
			if err == nil {
				inserted = batch
				return w.addCounts(ctx, tx, counts)
			}
			if !isUniqueViolation(err) {
				return err
			}
		}
		fresh, err := w.insertSkippingStored(ctx, tx, batch, data)
		if err != nil {
			return err
		}
		var freshSets, freshIdxs []int32
		inserted = inserted[:0]
		for i, in := range batch {
			if fresh[i] {
				inserted = append(inserted, in)
				freshSets = append(freshSets, sets[i])
				freshIdxs = append(freshIdxs, idxs[i])
			}
		}
		w.conflictPath.Store(len(inserted) < len(batch))
		fc := w.prepareCounts(inserted, freshSets, freshIdxs)
		defer fc.release()
		return w.addCounts(ctx, tx, fc)
	})
	if err != nil {
		return 0, err
	}
	return len(inserted), nil
}

// SetStores limits how many batches the writer stores at once (0: no limit). With a
// limit, the batches beyond it are still prepared (encoded, their roll-up rows summed)
// while others are stored: concurrent COPYs into incidents contend for its indexes,
// so one batch stored while the next is prepared can beat two stored at once.
func (w *IncidentWriter) SetStores(n int) {
	if n > 0 {
		w.stores = make(chan struct{}, n)
	} else {
		w.stores = nil
	}
}

var copyIncidents = "COPY incidents (" + strings.Join(incidentColumns, ", ") + ") FROM STDIN (FORMAT binary)"

// encode writes the batch as binary COPY rows of incidentColumns.
func (w *IncidentWriter) encode(e *copyEncoder, batch []*geo.Incident) error {
	e.reset()
	runID := w.runID.Load()
	for _, in := range batch {
		src, ok := w.vocab.SourceID[in.Source]
		if !ok {
			return fmt.Errorf("source %q is not registered", in.Source)
		}
		mask := w.vocab.Mask(in.Strands)
		if mask == 0 {
			return fmt.Errorf("strands %v are not registered", in.Strands)
		}
		e.row(len(incidentColumns))
		e.int16(src)
		e.text(in.SourceRef)
		e.int16(kindCode(in.Kind))
		e.int64(mask)
		e.text(in.Offence)
		e.date(in.OccurredFrom)
		e.date(in.OccurredTo)
		e.timestamptzOrNull(in.ReportedAt)
		e.text(string(in.Precision))
		if in.Precision.Located() {
			e.float64(in.Location.Lon)
			e.float64(in.Location.Lat)
		} else {
			e.null()
			e.null()
		}
		if in.Cell != 0 {
			e.int64(int64(in.Cell))
		} else {
			e.null()
		}
		e.int32Array(in.Areas)
		e.textOrNull(in.VictimKey)
		e.textOrNull(in.OffenderKey)
		if runID != 0 {
			e.int64(runID)
		} else {
			e.null()
		}
		e.int64ArrayOrNull(w.cells(in))
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// insertSkippingStored stages the batch and inserts the incidents not yet stored,
// returning which of the batch they are.
func (w *IncidentWriter) insertSkippingStored(ctx context.Context, tx pgx.Tx, batch []*geo.Incident, data []byte) ([]bool, error) {
	_, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
		source_id smallint, source_ref text, kind smallint, strands bigint, offence text,
		occurred_from date, occurred_to date, reported_at timestamptz, precision text,
		lon double precision, lat double precision, cell bigint, areas integer[],
		victim_key text, offender_key text, run_id bigint, cells bigint[]) ON COMMIT DELETE ROWS`)
	if err != nil {
		return nil, fmt.Errorf("staging table: %w", err)
	}
	copyStage := "COPY ingest_stage (" + strings.Join(incidentColumns, ", ") + ") FROM STDIN (FORMAT binary)"
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), copyStage); err != nil {
		return nil, err
	}
	cols := strings.Join(incidentColumns, ", ")
	res, err := tx.Query(ctx, `INSERT INTO incidents (`+cols+`) SELECT `+cols+` FROM ingest_stage
		ON CONFLICT (source_id, source_ref) DO NOTHING
		RETURNING source_id, source_ref`)
	if err != nil {
		return nil, err
	}
	type key struct {
		source int16
		ref    string
	}
	fresh := map[key]bool{}
	var k key
	_, err = pgx.ForEachRow(res, []any{&k.source, &k.ref}, func() error {
		fresh[k] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(batch))
	for i, in := range batch {
		out[i] = fresh[key{w.vocab.SourceID[in.Source], in.SourceRef}]
	}
	return out, nil
}

// cells returns the cells an incident counts in, one per roll-up resolution: those
// binning gave it, or computed here for an incident binned without them.
func (w *IncidentWriter) cells(in *geo.Incident) []uint64 {
	if in.Cells != nil || in.Cell == 0 {
		return in.Cells
	}
	in.Cells = w.binner.Cells(in)
	return in.Cells
}

// rollupRows are a batch's roll-up rows, summed by key here (and the nodes of the
// tree of area counts with their class vectors), ready to be stored: computed before
// the batch's transaction takes its connection, so that the database is not kept
// waiting while they are summed.
type rollupRows struct {
	cells   cellDeltas
	periods periodDeltas
	areas   setDeltas
	days    dayDeltas
	tree    []treeRow
	// The binary COPY data of each table (a large batch), nil for a small batch or
	// a table without rows; enc holds them until the rows are stored.
	cellData, monthData, yearData, strandData, areaData, treeData, dayData []byte
	enc                                                                    []*copyEncoder
	pool                                                                   encoderPool
}

// prepareCounts sums the roll-up rows of the incidents a batch stores (sets and
// idxs their area sets and class indexes) and encodes them for COPY.
func (w *IncidentWriter) prepareCounts(inserted []*geo.Incident, sets, idxs []int32) *rollupRows {
	r := &rollupRows{}
	if len(inserted) == 0 {
		return r
	}
	r.cells, r.areas, r.days, r.periods = w.deltas(inserted, sets)
	r.tree = treeDeltas(inserted, idxs)
	if len(inserted) <= smallBatch {
		return r
	}
	r.pool = w.encoders
	encoder := func() *copyEncoder {
		e := w.encoders.get()
		r.enc = append(r.enc, e)
		e.reset()
		return e
	}
	for _, t := range []struct {
		rows *cellDeltas
		data *[]byte
	}{{&r.cells, &r.cellData}, {&r.periods.month, &r.monthData}, {&r.periods.year, &r.yearData}, {&r.periods.strands, &r.strandData}} {
		c := t.rows
		if len(c.day) == 0 {
			continue
		}
		e := encoder()
		for i := range c.day {
			e.row(5)
			e.int16(c.res[i])
			e.int32(c.day[i]) // a date (the month's or year's first): days since 2000-01-01
			e.int64(c.cell[i])
			e.int64(c.class[i])
			e.int32(c.n[i])
		}
		*t.data = e.finish()
	}
	if len(r.areas.day) > 0 {
		e := encoder()
		a := &r.areas
		for i := range a.day {
			e.row(4)
			e.int32(a.day[i])
			e.int32(a.set[i])
			e.int64(a.class[i])
			e.int32(a.n[i])
		}
		r.areaData = e.finish()
	}
	if len(r.tree) > 0 {
		e := encoder()
		for _, t := range r.tree {
			e.row(3)
			e.int32(t.node)
			e.int32(t.area)
			e.int32Array(t.counts)
		}
		r.treeData = e.finish()
	}
	e := encoder()
	d := &r.days
	for i := range d.day {
		e.row(4)
		e.int32(d.day[i])
		e.int64(d.class[i])
		e.int32(d.n[i])
		e.int32(d.located[i])
	}
	r.dayData = e.finish()
	return r
}

// release returns the rows' encoders for reuse; the data is gone after it.
func (r *rollupRows) release() {
	for _, e := range r.enc {
		r.pool.put(e)
	}
	r.enc = nil
	r.cellData, r.monthData, r.yearData, r.strandData, r.areaData, r.treeData, r.dayData = nil, nil, nil, nil, nil, nil, nil
}

// addCounts adds a batch's roll-up rows (prepareCounts) in the transaction that
// stores its incidents, as new rows: readers sum the rows of a key; Compact merges
// them later. No row of a roll-up is locked or updated, so concurrent writers never
// wait for each other here.
func (w *IncidentWriter) addCounts(ctx context.Context, tx pgx.Tx, r *rollupRows) error {
	if len(r.days.day) == 0 {
		return nil
	}
	if r.dayData == nil {
		if err := addCountsSmall(ctx, tx, r.cells, r.areas, r.days, r.periods, r.tree); err != nil {
			return err
		}
		w.touch(r.days.day, r.tree, r.periods)
		return nil
	}
	pg := tx.Conn().PgConn()
	for _, c := range []struct {
		data      []byte
		sql, what string
	}{
		{r.cellData, "COPY cell_day_counts (res, day, cell, class, n) FROM STDIN (FORMAT binary)", "cell counts"},
		{r.monthData, "COPY cell_month_counts (res, month, cell, class, n) FROM STDIN (FORMAT binary)", "monthly cell counts"},
		{r.yearData, "COPY cell_year_counts (res, year, cell, class, n) FROM STDIN (FORMAT binary)", "yearly cell counts"},
		{r.strandData, "COPY cell_year_strands (res, year, cell, class, n) FROM STDIN (FORMAT binary)", "yearly cell counts by strands"},
		{r.areaData, "COPY set_day_counts (day, area_set, class, n) FROM STDIN (FORMAT binary)", "area counts"},
		{r.treeData, "COPY area_prefix_counts (node, area_id, counts) FROM STDIN (FORMAT binary)", "tree of area counts"},
		{r.dayData, "COPY day_counts (day, class, n, located) FROM STDIN (FORMAT binary)", "day counts"},
	} {
		if c.data == nil {
			continue
		}
		if _, err := pg.CopyFrom(ctx, bytes.NewReader(c.data), c.sql); err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
	}
	w.touch(r.days.day, r.tree, r.periods)
	return nil
}

// smallBatch is the most incidents a batch may hold for its roll-up rows to go
// as plain INSERTs in one round trip (a report from the intake) rather than a COPY
// a table.
const smallBatch = 64

// addCountsSmall appends the roll-up rows of a small batch with one INSERT a table,
// sent together.
func addCountsSmall(ctx context.Context, tx pgx.Tx, cells cellDeltas, areas setDeltas, days dayDeltas, periods periodDeltas, tree []treeRow) error {
	b := &pgx.Batch{}
	for _, t := range []struct {
		table, col string
		rows       *cellDeltas
	}{{"cell_day_counts", "day", &cells}, {"cell_month_counts", "month", &periods.month},
		{"cell_year_counts", "year", &periods.year}, {"cell_year_strands", "year", &periods.strands}} {
		if len(t.rows.day) > 0 {
			b.Queue(`INSERT INTO `+t.table+` (res, cell, `+t.col+`, class, n)
			SELECT res, cell, date '2000-01-01' + d, class, n
			FROM unnest($1::smallint[], $2::integer[], $3::bigint[], $4::bigint[], $5::integer[]) AS u(res, d, cell, class, n)`,
				t.rows.res, t.rows.day, t.rows.cell, t.rows.class, t.rows.n)
		}
	}
	if len(areas.day) > 0 {
		b.Queue(`INSERT INTO set_day_counts (day, area_set, class, n)
			SELECT date '2000-01-01' + d, area_set, class, n
			FROM unnest($1::integer[], $2::integer[], $3::bigint[], $4::integer[]) AS u(d, area_set, class, n)`,
			areas.day, areas.set, areas.class, areas.n)
	}
	if len(tree) > 0 {
		var node, area, idx, n []int32
		for _, t := range tree {
			for i, c := range t.counts {
				if c != 0 {
					node, area, idx, n = append(node, t.node), append(area, t.area), append(idx, int32(i+1)), append(n, c)
				}
			}
		}
		b.Queue(`INSERT INTO area_prefix_counts (node, area_id, counts)
			SELECT node, area_id, count_vec(array_agg(idx), array_agg(n))
			FROM unnest($1::integer[], $2::integer[], $3::integer[], $4::integer[]) AS u(node, area_id, idx, n)
			GROUP BY 1, 2`, node, area, idx, n)
	}
	b.Queue(`INSERT INTO day_counts (day, class, n, located)
		SELECT date '2000-01-01' + d, class, n, located
		FROM unnest($1::integer[], $2::bigint[], $3::integer[], $4::integer[]) AS u(d, class, n, located)`,
		days.day, days.class, days.n, days.located)
	return tx.SendBatch(ctx, b).Close()
}

// treeRow is one row of area_prefix_counts: a node of an area's tree and its counts
// by class index (counts[i] for index i+1).
type treeRow struct {
	area, node int32
	counts     []int32
}

// treeDeltas returns the increments of the tree of area counts (migration 0009)
// for newly stored incidents, idxs their class indexes: each incident counts, for
// each of its areas, in every node that holds its month. Rows are in key order.
func treeDeltas(incidents []*geo.Incident, idxs []int32) []treeRow {
	type monthKey struct{ area, month, idx int32 }
	months := map[monthKey]int32{}
	for i, in := range incidents {
		if idxs[i] == 0 {
			continue
		}
		m := int32(monthIndex(in.Day()))
		for _, a := range in.Areas {
			months[monthKey{a, m, idxs[i]}]++
		}
	}
	type nodeKey struct{ area, node int32 }
	nodes := map[nodeKey][]int32{}
	for k, n := range months {
		if k.month < 1 || k.month > fenwickSize {
			continue // outside the tree (before 1900 or after 2241): counted daily only
		}
		for j := k.month; j <= fenwickSize; j += j & -j {
			nk := nodeKey{k.area, j}
			v := nodes[nk]
			if int(k.idx) > len(v) {
				v = append(v, make([]int32, int(k.idx)-len(v))...)
			}
			v[k.idx-1] += n
			nodes[nk] = v
		}
	}
	out := make([]treeRow, 0, len(nodes))
	for k, v := range nodes {
		out = append(out, treeRow{k.area, k.node, v})
	}
	slices.SortFunc(out, func(a, b treeRow) int { return cmp.Or(cmp.Compare(a.area, b.area), cmp.Compare(a.node, b.node)) })
	return out
}

// touch records the days and tree nodes a batch added rows to, for Compact.
func (w *IncidentWriter) touch(days []int32, tree []treeRow, periods periodDeltas) {
	w.touchMu.Lock()
	defer w.touchMu.Unlock()
	for _, d := range days {
		if !w.touchedDays {
			w.firstDay, w.lastDay, w.touchedDays = d, d, true
		}
		w.firstDay, w.lastDay = min(w.firstDay, d), max(w.lastDay, d)
	}
	for _, t := range tree {
		w.touchedNodes[t.node] = true
		w.touchedAreas[t.area] = true
	}
	w.appended += len(tree) + len(days) + len(periods.month.day) + len(periods.year.day) + len(periods.strands.day)
	if w.appended > smallMerge {
		w.touchedCells = nil
	} else {
		if w.touchedCells == nil {
			w.touchedCells = map[int64]bool{}
		}
		// Every cell with a yearly row has a yearly row by strands (the coarser
		// ones their class rows too).
		for _, c := range periods.strands.cell {
			w.touchedCells[c] = true
		}
	}
}

// mergeDaysAfterRun is the longest span of days whose daily roll-up rows an ingest
// run merges as it ends. A run over a longer span (a load of past years) merges the
// tree of area counts only: its batches each add a row to most of the tree's keys,
// but hardly ever to the same key of a day (measured: 348 of 320,577 cell rows and
// 87 of 253,487 area rows after a load of 300,000 reports over five years), so a
// merge there would read every row of those years to save a thousandth of them.
// The monthly and yearly cell counts by class (at resolution 8 a cell holds a report
// or two a month) are left likewise. The yearly counts by strands are merged
// whatever the span: a (cell, year) gathers many batches' rows (tens of reports at
// resolution 10 at ten million reports), and tiles over whole years read them.
// `tensionmap rollups merge` merges everything.
const mergeDaysAfterRun = 92

// Compact merges the roll-up rows of the keys the writer's batches added to, one
// row a key: those of the tree of area counts and of the yearly cell counts by
// strands over the years the batches touched, and those of the other roll-ups over
// the days the batches touched when they span at most mergeDaysAfterRun days. It
// changes no count, and readers see the rows before or after a merge, never
// between. An ingest run calls it once its batches are stored.
func (w *IncidentWriter) Compact(ctx context.Context) error {
	w.touchMu.Lock()
	first, last, touched := w.firstDay, w.lastDay, w.touchedDays
	nodes := make([]int32, 0, len(w.touchedNodes))
	for n := range w.touchedNodes {
		nodes = append(nodes, n)
	}
	areas := make([]int32, 0, len(w.touchedAreas))
	for a := range w.touchedAreas {
		areas = append(areas, a)
	}
	appended := w.appended
	cells := make([]int64, 0, len(w.touchedCells))
	for c := range w.touchedCells {
		cells = append(cells, c)
	}
	w.touchedDays, w.touchedNodes, w.touchedAreas, w.appended, w.touchedCells = false, map[int32]bool{}, map[int32]bool{}, 0, nil
	w.touchMu.Unlock()
	if !touched {
		return nil
	}
	slices.Sort(nodes)
	slices.Sort(areas)
	from, to := pgEpoch.AddDate(0, 0, int(first)), pgEpoch.AddDate(0, 0, int(last))
	if appended <= smallMerge && last-first < mergeDaysAfterRun {
		// A few reports (the intake's): one round trip merges every table.
		return w.db.compactSmall(ctx, from, to, nodes, areas, cells)
	}
	daily := last-first < mergeDaysAfterRun
	if !daily {
		// Left for serve's merge of the days due (MergeDue), a month at a time.
		if err := w.db.markMergeDue(ctx, from, to); err != nil {
			return err
		}
	}
	return w.db.compactRollups(ctx, from, to, daily, nodes, areas, false)
}

// CompactRollups merges every roll-up row of a key with the others of its key, over
// all days and nodes, while ingest and reads go on.
func (db *DB) CompactRollups(ctx context.Context) error {
	nodes := make([]int32, fenwickSize)
	for i := range nodes {
		nodes[i] = int32(i + 1)
	}
	var started time.Time
	if err := db.Pool.QueryRow(ctx, "SELECT now()").Scan(&started); err != nil {
		return err
	}
	// Every day that holds reports (rows a batch adds meanwhile are left for the
	// next merge).
	first, last, err := db.DateSpan(ctx)
	if err != nil {
		return err
	}
	if !first.IsZero() {
		if err := db.compactRollups(ctx, first, last, true, nodes, nil, false); err != nil {
			return err
		}
	}
	// Every day is merged: what runs recorded before this merge began is done.
	if _, err := db.Pool.Exec(ctx, "DELETE FROM rollup_merges_due WHERE added < $1", started); err != nil {
		return fmt.Errorf("postgis: forgetting merged days: %w", err)
	}
	return nil
}

// smallMerge is the most roll-up rows (days and tree nodes) a run may have added
// for its merge to go as one statement batch in SQL rather than table by table.
const smallMerge = 2000

// compactSmall merges the rows of a small run in one round trip, in one
// transaction: the daily roll-ups over [first, last], the monthly and yearly cell
// counts of the cells given over those years, and the tree nodes of the areas
// given, the tree's vectors summed in SQL (count_vec_sum).
func (db *DB) compactSmall(ctx context.Context, first, last time.Time, nodes, areas []int32, cells []int64) error {
	return retryConflicts(func() error {
		b := &pgx.Batch{}
		b.Queue(mergeCellsSQL, first, last, dailyResolutions())
		b.Queue(mergeSetsSQL, first, last)
		b.Queue(mergeDaysSQL, first, last)
		b.Queue(mergeMonthsSQL, yearStart(first), last, cells)
		b.Queue(mergeYearsSQL, yearStart(first), last, cells)
		b.Queue(mergeStrandsSQL, yearStart(first), last, cells)
		b.Queue(`WITH k AS (
				SELECT area_id, node FROM area_prefix_counts WHERE area_id = ANY($2) AND node = ANY($1)
				GROUP BY 1, 2 HAVING count(*) > 1),
			gone AS (
				DELETE FROM area_prefix_counts p USING k
				WHERE p.area_id = ANY($2) AND p.node = ANY($1) AND p.area_id = k.area_id AND p.node = k.node
				RETURNING p.area_id, p.node, p.counts)
			INSERT INTO area_prefix_counts (node, area_id, counts)
			SELECT node, area_id, count_vec_sum(counts) FROM gone GROUP BY 1, 2 ORDER BY 2, 1`, nodes, areas)
		return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	})
}

// dailyResolutions are the resolutions cell_day_counts may hold.
func dailyResolutions() []int16 {
	res := make([]int16, 0, dailyMaxRes+1)
	for r := 0; r <= dailyMaxRes; r++ {
		res = append(res, int16(r))
	}
	return res
}

// The merges of the daily roll-ups over the days [$1, $2]: the rows of each key
// with more than one are deleted and their sum inserted.
const (
	mergeCellsSQL = `WITH k AS (
			SELECT res, day, cell, class FROM cell_day_counts
			WHERE res = ANY($3) AND day BETWEEN $1 AND $2
			GROUP BY 1, 2, 3, 4 HAVING count(*) > 1),
		gone AS (
			DELETE FROM cell_day_counts c USING k
			WHERE c.res = ANY($3) AND c.day BETWEEN $1 AND $2
				AND (c.res, c.day, c.cell, c.class) = (k.res, k.day, k.cell, k.class)
			RETURNING c.res, c.day, c.cell, c.class, c.n)
		INSERT INTO cell_day_counts (res, day, cell, class, n)
		SELECT res, day, cell, class, sum(n) FROM gone GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`
	mergeSetsSQL = `WITH k AS (
			SELECT day, area_set, class FROM set_day_counts WHERE day BETWEEN $1 AND $2
			GROUP BY 1, 2, 3 HAVING count(*) > 1),
		gone AS (
			DELETE FROM set_day_counts c USING k
			WHERE c.day BETWEEN $1 AND $2 AND (c.day, c.area_set, c.class) = (k.day, k.area_set, k.class)
			RETURNING c.day, c.area_set, c.class, c.n)
		INSERT INTO set_day_counts (day, area_set, class, n)
		SELECT day, area_set, class, sum(n) FROM gone GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`
	mergeDaysSQL = `WITH k AS (
			SELECT day, class FROM day_counts WHERE day BETWEEN $1 AND $2
			GROUP BY 1, 2 HAVING count(*) > 1),
		gone AS (
			DELETE FROM day_counts c USING k
			WHERE c.day BETWEEN $1 AND $2 AND (c.day, c.class) = (k.day, k.class)
			RETURNING c.day, c.class, c.n, c.located)
		INSERT INTO day_counts (day, class, n, located)
		SELECT day, class, sum(n), sum(located) FROM gone GROUP BY 1, 2 ORDER BY 1, 2`
)

// The merges of the monthly and yearly cell counts and of the yearly counts by
// strands over the months or years [$1, $2], of the cells $3 (NULL: all).
var (
	mergeMonthsSQL  = mergePeriodSQL("cell_month_counts", "month")
	mergeYearsSQL   = mergePeriodSQL("cell_year_counts", "year")
	mergeStrandsSQL = mergePeriodSQL("cell_year_strands", "year")
)

// mergePeriodSQL is the merge of a table of cell counts keyed by (res, col, cell,
// class): the rows of each key with more than one are deleted and their sum inserted.
func mergePeriodSQL(table, col string) string {
	return `WITH k AS (
			SELECT res, ` + col + `, cell, class FROM ` + table + `
			WHERE ` + col + ` BETWEEN $1 AND $2 AND ($3::bigint[] IS NULL OR cell = ANY($3))
			GROUP BY 1, 2, 3, 4 HAVING count(*) > 1),
		gone AS (
			DELETE FROM ` + table + ` c USING k
			WHERE c.` + col + ` BETWEEN $1 AND $2 AND ($3::bigint[] IS NULL OR c.cell = ANY($3))
				AND (c.res, c.` + col + `, c.cell, c.class) = (k.res, k.` + col + `, k.cell, k.class)
			RETURNING c.res, c.` + col + `, c.cell, c.class, c.n)
		INSERT INTO ` + table + ` (res, ` + col + `, cell, class, n)
		SELECT res, ` + col + `, cell, class, sum(n) FROM gone GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`
}

// yearStart returns the first day of t's year, the first key of cell_month_counts
// and cell_year_counts a day of that year counts in.
func yearStart(t time.Time) time.Time {
	return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
}

// compactWorkMem is the memory each merge may take to group a run's rows by key
// before it spills to disk.
const compactWorkMem = "128MB"

// compactRollups merges the rows of each key of the tree nodes and areas given
// (nil areas: all), of the yearly cell counts by strands over the years of the days
// [first, last] and, when daily is set, of the daily,
// monthly and yearly roll-ups over those days. Each table is merged in a
// transaction of its own, all at once or, with oneAtATime, one after another: the
// rows of the keys with more than one are deleted and their sum inserted, so a count
// never changes, and rows a concurrent batch adds meanwhile are left for the next
// merge.
func (db *DB) compactRollups(ctx context.Context, first, last time.Time, daily bool, nodes, areas []int32, oneAtATime bool) error {
	// A run over many days leaves the daily, monthly and yearly rows by class to
	// serve (see Compact); the counts by strands and the tree (what tiles over whole
	// years and areas read, a key gathering many batches' rows) are merged whatever
	// the span.
	type step struct {
		what, sql string
		args      []any
		always    bool
	}
	all := []step{
		{"cell counts", mergeCellsSQL, []any{first, last, dailyResolutions()}, false},
		{"area counts", mergeSetsSQL, []any{first, last}, false},
		{"day counts", mergeDaysSQL, []any{first, last}, false},
	}
	// The tables by month and year a year at a time: the years' rows are apart, so
	// that their merges share the cores (a run's last step, the merge of its years of
	// counts by strands, was one statement on one core).
	for y := yearStart(first); !y.After(last); y = y.AddDate(1, 0, 0) {
		end := y.AddDate(1, 0, -1)
		if end.After(last) {
			end = last
		}
		all = append(all,
			step{"monthly cell counts of " + y.Format("2006"), mergeMonthsSQL, []any{y, end, nil}, false},
			step{"yearly cell counts of " + y.Format("2006"), mergeYearsSQL, []any{y, end, nil}, false},
			step{"yearly cell counts by strands of " + y.Format("2006"), mergeStrandsSQL, []any{y, end, nil}, true})
	}
	all = append(all, step{"tree of area counts", "", nil, true})
	steps := all[:0]
	for _, st := range all {
		if (daily || st.always) && (st.sql != "" || len(nodes) > 0) {
			steps = append(steps, st)
		}
	}
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	// At once, a connection a table; or one table after another, a connection and a
	// core at a time, for a merge in the background of a serving server.
	turns := make(chan struct{}, len(steps))
	if oneAtATime {
		turns = make(chan struct{}, 1)
	}
	for i, st := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			turns <- struct{}{}
			defer func() { <-turns }()
			errs[i] = retryConflicts(func() error {
				return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+compactWorkMem+"'"); err != nil {
						return err
					}
					// The keys to merge join the rows by hashing, whatever the
					// planner guesses of their number: a nested loop over a
					// misjudged few keys reads the rows once a key.
					if _, err := tx.Exec(ctx, "SET LOCAL enable_nestloop = off"); err != nil {
						return err
					}
					if st.sql == "" {
						return compactTree(ctx, tx, nodes, areas)
					}
					_, err := tx.Exec(ctx, st.sql, st.args...)
					return err
				})
			})
			if errs[i] != nil {
				errs[i] = fmt.Errorf("postgis: merging the %s: %w", st.what, errs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// compactTree merges the rows of each (area, node) of the tree of area counts with
// more than one, over the nodes and areas given (nil areas: all): their vectors are
// summed here.
func compactTree(ctx context.Context, tx pgx.Tx, nodes, areas []int32) error {
	rows, _ := tx.Query(ctx, `DELETE FROM area_prefix_counts p
		USING (SELECT area_id, node FROM area_prefix_counts WHERE ($2::integer[] IS NULL OR area_id = ANY($2)) AND node = ANY($1)
			GROUP BY 1, 2 HAVING count(*) > 1) k
		WHERE ($2::integer[] IS NULL OR p.area_id = ANY($2)) AND p.node = ANY($1) AND p.area_id = k.area_id AND p.node = k.node
		RETURNING p.area_id, p.node, p.counts`, nodes, areas)
	type key struct{ area, node int32 }
	sums := map[key][]int32{}
	var k key
	var counts []int32
	_, err := pgx.ForEachRow(rows, []any{&k.area, &k.node, &counts}, func() error {
		v := sums[k]
		if len(counts) > len(v) {
			v = append(v, make([]int32, len(counts)-len(v))...)
		}
		for i, n := range counts {
			v[i] += n
		}
		sums[k] = v
		return nil
	})
	if err != nil || len(sums) == 0 {
		return err
	}
	out := make([]treeRow, 0, len(sums))
	for k, v := range sums {
		out = append(out, treeRow{k.area, k.node, v})
	}
	slices.SortFunc(out, func(a, b treeRow) int { return cmp.Or(cmp.Compare(a.area, b.area), cmp.Compare(a.node, b.node)) })
	var e copyEncoder
	e.reset()
	for _, t := range out {
		e.row(3)
		e.int32(t.node)
		e.int32(t.area)
		e.int32Array(t.counts)
	}
	_, err = tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(e.finish()), "COPY area_prefix_counts (node, area_id, counts) FROM STDIN (FORMAT binary)")
	return err
}

// cellDeltas, setDeltas and dayDeltas are roll-up increments as columns, sorted by
// their table's key.
type cellDeltas struct {
	res   []int16
	day   []int32 // days since 2000-01-01
	cell  []int64
	class []int64
	n     []int32
}

type setDeltas struct {
	day, set, n []int32
	class       []int64
}

type dayDeltas struct {
	day, n, located []int32
	class           []int64
}

// periodDeltas are the increments of cell_month_counts, cell_year_counts and
// cell_year_strands (the class's strands alone), their day the first of the month
// or year.
type periodDeltas struct {
	month, year, strands cellDeltas
}

// deltas sums the roll-up increments of newly stored incidents, each sorted by its
// table's key: a count at each of an incident's cells up to dailyMaxRes by day, up
// to monthMaxRes by month, by year up to yearClassMaxRes by class and up to
// yearMaxRes by its strands alone, one for its set of areas when it has one,
// and one in day_counts always. Sorting then summing runs is cheaper than a map at
// batch sizes.
func (w *IncidentWriter) deltas(incidents []*geo.Incident, sets []int32) (cellDeltas, setDeltas, dayDeltas, periodDeltas) {
	type incRow struct {
		day     int32
		set     int32
		class   int64
		located bool
	}
	inc := make([]incRow, len(incidents))
	cr := make([]cellRow, 0, len(incidents)*len(w.binner.Resolutions))
	mr := make([]cellRow, 0, len(incidents)*len(w.binner.Resolutions))
	yr := make([]cellRow, 0, len(incidents)*len(w.binner.Resolutions))
	sr := make([]cellRow, 0, len(incidents)*len(w.binner.Resolutions))
	periodOf := map[int32][2]int32{} // a day's month and year, a batch's days being few
	for i, in := range incidents {
		d := in.Day()
		day := int32(d.Sub(pgEpoch).Hours() / 24)
		class := w.vocab.Class(in)
		cs := w.cells(in)
		inc[i] = incRow{day, sets[i], class, len(cs) > 0}
		for _, c := range cs {
			r := geo.CellRes(c)
			if r <= dailyMaxRes {
				cr = append(cr, cellRow{int16(r), day, int64(c), class})
			}
			if r > yearMaxRes {
				continue
			}
			p, ok := periodOf[day]
			if !ok {
				p = [2]int32{int32(time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC).Sub(pgEpoch).Hours() / 24),
					int32(time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC).Sub(pgEpoch).Hours() / 24)}
				periodOf[day] = p
			}
			month, year := p[0], p[1]
			sr = append(sr, cellRow{int16(r), year, int64(c), class & strandBits})
			if r <= yearClassMaxRes {
				yr = append(yr, cellRow{int16(r), year, int64(c), class})
			}
			if r <= monthMaxRes {
				mr = append(mr, cellRow{int16(r), month, int64(c), class})
			}
		}
	}
	c := sumCellRows(cr)
	p := periodDeltas{month: sumCellRows(mr), year: sumCellRows(yr), strands: sumCellRows(sr)}
	slices.SortFunc(inc, func(a, b incRow) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.set, b.set), cmp.Compare(a.class, b.class))
	})
	var s setDeltas
	for i, r := range inc {
		if r.set == 0 {
			continue // in no area
		}
		if n := len(s.day); n > 0 && i > 0 && inc[i-1].day == r.day && inc[i-1].set == r.set && inc[i-1].class == r.class {
			s.n[n-1]++
			continue
		}
		s.day, s.set, s.class, s.n = append(s.day, r.day), append(s.set, r.set), append(s.class, r.class), append(s.n, 1)
	}
	// Day keys: rows are sorted by day first, so each day's classes are together.
	slices.SortStableFunc(inc, func(a, b incRow) int { return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.class, b.class)) })
	var d dayDeltas
	for i, r := range inc {
		located := int32(0)
		if r.located {
			located = 1
		}
		if n := len(d.day); n > 0 && i > 0 && inc[i-1].day == r.day && inc[i-1].class == r.class {
			d.n[n-1]++
			d.located[n-1] += located
			continue
		}
		d.day, d.class, d.n, d.located = append(d.day, r.day), append(d.class, r.class), append(d.n, 1), append(d.located, located)
	}
	return c, s, d, p
}

// cellRow is one report's key in a roll-up of cells: its resolution, day (or the
// first day of its month or year; days since 2000-01-01), cell and class.
type cellRow struct {
	res   int16
	day   int32
	cell  int64
	class int64
}

// sumCellRows sorts the keys and sums them, a row a key. Sorting then summing runs
// is cheaper than a map at batch sizes.
func sumCellRows(cr []cellRow) cellDeltas {
	slices.SortFunc(cr, func(a, b cellRow) int {
		return cmp.Or(cmp.Compare(a.res, b.res), cmp.Compare(a.day, b.day), cmp.Compare(a.cell, b.cell), cmp.Compare(a.class, b.class))
	})
	var c cellDeltas
	for i, r := range cr {
		if n := len(c.day); n > 0 && cr[i-1] == r {
			c.n[n-1]++
			continue
		}
		c.res, c.day, c.cell, c.class, c.n = append(c.res, r.res), append(c.day, r.day), append(c.cell, r.cell), append(c.class, r.class), append(c.n, 1)
	}
	return c
}

func kindCode(k geo.Kind) int16 {
	if k == geo.KindIncident {
		return 1
	}
	return 0
}

// runsLock is the first key of the advisory lock a live ingest run holds on its id
// (pg_advisory_lock(runsLock, id)): a run whose lock nobody holds is not running.
const runsLock = 7455_0007

// StartRun records the start of an ingest run and returns its id. The run holds an
// advisory lock, on a connection of its own, until FinishRun: a run left 'running' by
// a process that died is told from a live one by it (see MarkInterruptedRuns).
func (db *DB) StartRun(ctx context.Context, origin, actor string, inputs []string) (int64, error) {
	if inputs == nil {
		inputs = []string{}
	}
	// A connection outside the pool, so that runs never starve their own writers.
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return 0, fmt.Errorf("postgis: recording the ingest run: %w", err)
	}
	var id int64
	// The lock is taken before the row commits, so no other process ever sees the run
	// without its lock.
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO ingest_runs (origin, actor, inputs) VALUES ($1, $2, $3) RETURNING id`,
			origin, actor, inputs).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT pg_advisory_lock($1, $2::integer)", runsLock, id)
		return err
	})
	if err != nil {
		conn.Close(context.Background()) // the lock, if taken, goes with the session
		return 0, fmt.Errorf("postgis: recording the ingest run: %w", err)
	}
	db.runsMu.Lock()
	if db.runs == nil {
		db.runs = map[int64]*pgx.Conn{}
	}
	db.runs[id] = conn
	db.runsMu.Unlock()
	return id, nil
}

// FinishRun records the outcome of an ingest run and releases its lock. The update
// commits synchronously, so that the run's batches are durable once it returns.
func (db *DB) FinishRun(ctx context.Context, id int64, sum geo.Summary, runErr error) error {
	defer db.releaseRun(id)
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

// releaseRun releases a run's lock and its connection, if it holds them.
func (db *DB) releaseRun(id int64) {
	db.runsMu.Lock()
	conn := db.runs[id]
	delete(db.runs, id)
	db.runsMu.Unlock()
	if conn == nil {
		return
	}
	conn.Close(context.Background()) // the session's end releases the lock
}

// MarkInterruptedRuns marks 'interrupted' every run still 'running' whose process
// is gone (no session holds its lock), and returns how many it marked. Ingest and
// serve call it as they start.
func (db *DB) MarkInterruptedRuns(ctx context.Context) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `
		UPDATE ingest_runs r SET status = 'interrupted', finished_at = now()
		WHERE r.status = 'running' AND NOT EXISTS (
			SELECT 1 FROM pg_locks l
			WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND l.classid = $1::bigint::oid AND l.objid = r.id::oid AND l.objsubid = 2)`, runsLock)
	if err != nil {
		return 0, fmt.Errorf("postgis: marking interrupted ingest runs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DataVersion returns a number that changes whenever stored counts change.
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.Pool.QueryRow(ctx, "SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM data_version").Scan(&v)
	return v, err
}
