package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/geo"
)

// AreaImport reports what ImportAreas did.
type AreaImport struct {
	Inserted     int   `json:"inserted"`
	Updated      int   `json:"updated"`
	MadeValid    int   `json:"made_valid"`   // polygons that were invalid (self-intersecting, say) and were repaired
	Reattributed int64 `json:"reattributed"` // incidents whose areas changed
}

// ImportAreas inserts areas, or replaces the level, name and geometry of those whose
// code is already stored, then re-attributes every incident the change can touch and
// rebuilds the area roll-ups, all in one transaction. It waits for running ingests to
// finish, since they attribute incidents to the areas as they were when they started.
func (db *DB) ImportAreas(ctx context.Context, areas []geo.Area) (AreaImport, error) {
	var res AreaImport
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", areasLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE area_stage (level text, code text, name text, ewkb bytea) ON COMMIT DROP`); err != nil {
			return err
		}
		rows := make([][]any, len(areas))
		for i, a := range areas {
			b, err := marshalEWKB(a.Geometry)
			if err != nil {
				return fmt.Errorf("area %s: %w", a.Code, err)
			}
			rows[i] = []any{a.Level, a.Code, a.Name, b}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"area_stage"}, []string{"level", "code", "name", "ewkb"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		// The extent of the new geometries and the ids of the areas being replaced bound
		// the incidents whose attribution can change.
		err := tx.QueryRow(ctx, `
			WITH g AS (SELECT code, ST_GeomFromEWKB(ewkb) AS geom FROM area_stage)
			SELECT count(*) FILTER (WHERE NOT ST_IsValid(geom)) FROM g`).Scan(&res.MadeValid)
		if err != nil {
			return err
		}
		var oldIDs []int32
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(a.id), '{}') FROM areas a JOIN area_stage s USING (code)`).Scan(&oldIDs); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			WITH up AS (
				INSERT INTO areas (level, code, name, geom)
				SELECT level, code, name, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(ewkb)), 3))
				FROM area_stage
				ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name, geom = excluded.geom, updated_at = now()
				RETURNING (xmax = 0) AS inserted)
			SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`).Scan(&res.Inserted, &res.Updated)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			WITH ext AS (SELECT ST_Extent(ST_GeomFromEWKB(ewkb))::geometry AS box FROM area_stage),
			sub AS (
				SELECT i.id, coalesce(array_agg(a.id ORDER BY a.id) FILTER (WHERE a.id IS NOT NULL), '{}') AS ids
				FROM incidents i CROSS JOIN ext
				LEFT JOIN areas a ON ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326))
				WHERE i.lon IS NOT NULL AND (ST_Intersects(ST_SetSRID(ext.box, 4326), ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)) OR i.areas && $1::integer[])
				GROUP BY i.id)
			UPDATE incidents i SET areas = sub.ids FROM sub WHERE i.id = sub.id AND i.areas <> sub.ids`, oldIDs)
		if err != nil {
			return fmt.Errorf("re-attributing incidents: %w", err)
		}
		res.Reattributed = tag.RowsAffected()
		if res.Reattributed > 0 {
			var resolutions []int
			var stored []byte
			err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'rollup_resolutions'`).Scan(&stored)
			if err != nil {
				return fmt.Errorf("roll-up resolutions: %w", err)
			}
			if err := json.Unmarshal(stored, &resolutions); err != nil {
				return err
			}
			if err := rebuildRollups(ctx, tx, resolutions); err != nil {
				return err
			}
		}
		if res.Inserted+res.Updated == 0 && res.Reattributed == 0 {
			return nil // nothing imported: the data did not change
		}
		if err := storeCellPopulations(ctx, tx, nil); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT nextval('data_version')")
		return err
	})
	if err != nil {
		return res, fmt.Errorf("postgis: importing areas: %w", err)
	}
	return res, nil
}

// PopulationImport reports what SetPopulation did.
type PopulationImport struct {
	Matched   int      `json:"matched"`   // areas given a population
	Unmatched int      `json:"unmatched"` // codes in the file with no stored area
	Examples  []string `json:"unmatched_examples,omitempty"`
	Missing   int      `json:"areas_without_population"` // stored areas still without one
}

// SetPopulation sets the population of every stored area whose code is in pop.
func (db *DB) SetPopulation(ctx context.Context, pop map[string]int) (PopulationImport, error) {
	var res PopulationImport
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE pop_stage (code text PRIMARY KEY, population integer) ON COMMIT DROP`); err != nil {
			return err
		}
		rows := make([][]any, 0, len(pop))
		for code, n := range pop {
			rows = append(rows, []any{code, int32(n)})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pop_stage"}, []string{"code", "population"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE areas a SET population = p.population, updated_at = now()
			FROM pop_stage p WHERE a.code = p.code`)
		if err != nil {
			return err
		}
		res.Matched = int(tag.RowsAffected())
		res.Unmatched = len(pop) - res.Matched
		rs, _ := tx.Query(ctx, `SELECT p.code FROM pop_stage p LEFT JOIN areas a USING (code) WHERE a.id IS NULL ORDER BY p.code LIMIT 5`)
		if res.Examples, err = pgx.CollectRows(rs, pgx.RowTo[string]); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM areas WHERE population IS NULL`).Scan(&res.Missing); err != nil {
			return err
		}
		if err := storeCellPopulations(ctx, tx, nil); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT nextval('data_version')")
		return err
	})
	if err != nil {
		return res, fmt.Errorf("postgis: setting populations: %w", err)
	}
	return res, nil
}

// LoadAreas returns every stored area with its geometry, for attribution at ingest.
func (db *DB) LoadAreas(ctx context.Context) ([]geo.Area, error) {
	return loadAreas(ctx, db.Pool)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func loadAreas(ctx context.Context, q querier) ([]geo.Area, error) {
	rows, err := q.Query(ctx, `SELECT id, level, code, name, ST_AsEWKB(geom), coalesce(population, 0) FROM areas ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgis: loading areas: %w", err)
	}
	defer rows.Close()
	var out []geo.Area
	for rows.Next() {
		var a geo.Area
		var b []byte
		if err := rows.Scan(&a.ID, &a.Level, &a.Code, &a.Name, &b, &a.Population); err != nil {
			return nil, fmt.Errorf("postgis: loading areas: %w", err)
		}
		g, err := unmarshalEWKB(b)
		if err != nil {
			return nil, fmt.Errorf("postgis: area %s geometry: %w", a.Code, err)
		}
		mp, ok := g.(orb.MultiPolygon)
		if !ok {
			return nil, fmt.Errorf("postgis: area %s geometry is a %s", a.Code, g.GeoJSONType())
		}
		a.Geometry = mp
		out = append(out, a)
	}
	return out, rows.Err()
}

// AreasOutline returns the outline of the whole partnership: the union of every
// stored area, holes of less than a hectare (slivers between boundaries that do not
// quite meet) left out. It is empty when no area is stored.
func (db *DB) AreasOutline(ctx context.Context) (orb.MultiPolygon, error) {
	var b []byte
	err := db.Pool.QueryRow(ctx, `SELECT ST_AsEWKB(ST_Multi(ST_CollectionExtract(ST_UnaryUnion(ST_Collect(ST_MakeValid(geom))), 3)))
		FROM areas`).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("postgis: the areas' outline: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	g, err := unmarshalEWKB(b)
	if err != nil {
		return nil, fmt.Errorf("postgis: the areas' outline: %w", err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("postgis: the areas' outline is a %s", g.GeoJSONType())
	}
	return dropSlivers(mp), nil
}

// dropSlivers removes the inner rings of less than about a hectare (1e-6 square
// degrees) from a union, where neighbouring boundaries leave gaps between them.
func dropSlivers(mp orb.MultiPolygon) orb.MultiPolygon {
	out := make(orb.MultiPolygon, 0, len(mp))
	for _, p := range mp {
		if len(p) == 0 {
			continue
		}
		q := orb.Polygon{p[0]}
		for _, hole := range p[1:] {
			if math.Abs(planar.Area(hole)) >= 1e-6 {
				q = append(q, hole)
			}
		}
		out = append(out, q)
	}
	return out
}

// RebuildRollups recomputes every roll-up from the incidents, at the given
// resolutions, and records those as the roll-up resolutions. The incidents' cells
// are computed again first when the resolutions change. Ingests wait for it.
func (db *DB) RebuildRollups(ctx context.Context, resolutions []int) error {
	js, _ := json.Marshal(resolutions)
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", areasLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE incidents IN SHARE MODE"); err != nil {
			return err
		}
		var stored []byte
		err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'rollup_resolutions'`).Scan(&stored)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var old []int
		if stored != nil {
			if err := json.Unmarshal(stored, &old); err != nil {
				return err
			}
		}
		if !slices.Equal(old, resolutions) {
			if err := recomputeCells(ctx, tx, resolutions); err != nil {
				return err
			}
			if err := storeCellPopulations(ctx, tx, resolutions); err != nil {
				return err
			}
		}
		if err := rebuildRollups(ctx, tx, resolutions); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('rollup_resolutions', $1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, js); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT nextval('data_version')")
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: rebuilding roll-ups: %w", err)
	}
	return nil
}

// recomputeCells sets the cells of every located incident at the given resolutions
// (those at or coarser than its own cell, which is at the finest resolution its
// precision supports): the cell that contains its place at each, as
// geo.Binner.Cells has it. The incidents are read and written in chunks by id.
func recomputeCells(ctx context.Context, tx pgx.Tx, resolutions []int) error {
	rs := slices.Clone(resolutions)
	slices.Sort(rs)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE cells_stage (id bigint PRIMARY KEY, cells bigint[]) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("incident cells: %w", err)
	}
	var after int64
	for {
		rows, err := tx.Query(ctx, `SELECT id, lon, lat, cell FROM incidents
			WHERE id > $1 AND cell IS NOT NULL AND lon IS NOT NULL ORDER BY id LIMIT 50000`, after)
		if err != nil {
			return fmt.Errorf("incident cells: %w", err)
		}
		var stage [][]any
		var id, cell int64
		var ll geo.LatLon
		_, err = pgx.ForEachRow(rows, []any{&id, &ll.Lon, &ll.Lat, &cell}, func() error {
			limit := geo.CellRes(uint64(cell))
			var cells []int64
			for _, r := range rs {
				if r <= limit {
					cells = append(cells, int64(geo.CellAt(ll, r)))
				}
			}
			stage = append(stage, []any{id, cells})
			after = id
			return nil
		})
		if err != nil {
			return fmt.Errorf("incident cells: %w", err)
		}
		if len(stage) == 0 {
			break
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cells_stage"}, []string{"id", "cells"}, pgx.CopyFromRows(stage)); err != nil {
			return fmt.Errorf("incident cells: %w", err)
		}
	}
	_, err := tx.Exec(ctx, `UPDATE incidents i SET cells = s.cells FROM cells_stage s WHERE i.id = s.id;
		UPDATE incidents SET cells = NULL WHERE cells IS NOT NULL AND (cell IS NULL OR lon IS NULL);
		DELETE FROM settings WHERE key = 'cells_pending'`)
	if err != nil {
		return fmt.Errorf("incident cells: %w", err)
	}
	return nil
}

// rebuildRollups recomputes cell_day_counts, cell_month_counts, cell_year_counts,
// cell_year_strands, set_day_counts, day_counts and area_prefix_counts from
// incidents, one row a key: each incident counts at each resolution in the cell it
// stores for it (see recomputeCells), by day up to dailyMaxRes, by month and year up
// to monthMaxRes, by year by class up to yearClassMaxRes and by strands up to
// yearMaxRes.
func rebuildRollups(ctx context.Context, tx pgx.Tx, resolutions []int) error {
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO area_sets (areas) SELECT DISTINCT areas FROM incidents ON CONFLICT (areas) DO NOTHING`, nil},
		{`TRUNCATE cell_day_counts, cell_month_counts, cell_year_counts, cell_year_strands, set_day_counts, day_counts, area_prefix_counts`, nil},
		{`INSERT INTO cell_day_counts (res, cell, day, class, n)
			SELECT h3_res(c), c, occurred_from, (kind::bigint << 62) | (source_id::bigint << 48) | strands, count(*)
			FROM incidents CROSS JOIN unnest(cells) AS c
			WHERE cells IS NOT NULL AND h3_res(c) <= $1
			GROUP BY 1, 2, 3, 4`, []any{dailyMaxRes}},
		{`INSERT INTO cell_month_counts (res, cell, month, class, n)
			SELECT h3_res(c), c, date_trunc('month', occurred_from)::date, (kind::bigint << 62) | (source_id::bigint << 48) | strands, count(*)
			FROM incidents CROSS JOIN unnest(cells) AS c
			WHERE cells IS NOT NULL AND h3_res(c) <= $1
			GROUP BY 1, 2, 3, 4`, []any{monthMaxRes}},
		{`INSERT INTO cell_year_counts (res, cell, year, class, n)
			SELECT h3_res(c), c, date_trunc('year', occurred_from)::date, (kind::bigint << 62) | (source_id::bigint << 48) | strands, count(*)
			FROM incidents CROSS JOIN unnest(cells) AS c
			WHERE cells IS NOT NULL AND h3_res(c) <= $1
			GROUP BY 1, 2, 3, 4`, []any{yearClassMaxRes}},
		{`INSERT INTO cell_year_strands (res, cell, year, class, n)
			SELECT h3_res(c), c, date_trunc('year', occurred_from)::date, strands, count(*)
			FROM incidents CROSS JOIN unnest(cells) AS c
			WHERE cells IS NOT NULL AND h3_res(c) <= $1
			GROUP BY 1, 2, 3, 4`, []any{yearMaxRes}},
		{`INSERT INTO set_day_counts (day, area_set, class, n)
			SELECT i.occurred_from, s.id, (i.kind::bigint << 62) | (i.source_id::bigint << 48) | i.strands, count(*)
			FROM incidents i JOIN area_sets s ON s.areas = i.areas
			WHERE i.areas <> '{}'
			GROUP BY 1, 2, 3`, nil},
		{`INSERT INTO day_counts (day, class, n, located)
			SELECT occurred_from, (kind::bigint << 62) | (source_id::bigint << 48) | strands, count(*),
				count(*) FILTER (WHERE cardinality(cells) > 0)
			FROM incidents GROUP BY 1, 2`, nil},
		{`INSERT INTO rollup_classes (class)
			SELECT DISTINCT class FROM set_day_counts m WHERE area_set <> 0
				AND NOT EXISTS (SELECT 1 FROM rollup_classes r WHERE r.class = m.class)
			ORDER BY 1 ON CONFLICT (class) DO NOTHING`, nil},
		{`INSERT INTO area_prefix_counts (node, area_id, counts)
			SELECT node, area_id, count_vec(array_agg(idx), array_agg(n)) FROM (
				SELECT node, m.area_id, c.idx, sum(m.n)::integer AS n
				FROM (SELECT date_trunc('month', day)::date AS month, area_id, class, sum(n) AS n
					FROM area_counts GROUP BY 1, 2, 3) m
				JOIN rollup_classes c ON c.class = m.class
				CROSS JOIN LATERAL fenwick_nodes(month_index(m.month)) AS node
				GROUP BY 1, 2, 3) d
			GROUP BY 1, 2`, nil},
	}
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("rebuilding roll-ups: %w", err)
		}
	}
	return nil
}

// storeCellPopulations recomputes the population of every cell at each roll-up
// resolution (the stored ones when resolutions is nil, the default before the
// first ingest) from the stored areas, and replaces cell_populations with them.
func storeCellPopulations(ctx context.Context, tx pgx.Tx, resolutions []int) error {
	if resolutions == nil {
		var err error
		if resolutions, err = storedResolutions(ctx, tx); err != nil {
			return err
		}
	}
	areas, err := loadAreas(ctx, tx)
	if err != nil {
		return err
	}
	var rows [][]any
	for _, r := range resolutions {
		for cell, p := range geo.CellPopulation(areas, r) {
			rows = append(rows, []any{int16(r), int64(cell), p})
		}
	}
	if _, err := tx.Exec(ctx, `TRUNCATE cell_populations`); err != nil {
		return fmt.Errorf("cell populations: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cell_populations"}, []string{"res", "cell", "population"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("cell populations: %w", err)
	}
	_, err = tx.Exec(ctx, `DELETE FROM settings WHERE key = 'populations_pending'`)
	return err
}

// storedResolutions returns the roll-up resolutions, the default ones before the
// first ingest records them.
func storedResolutions(ctx context.Context, q querier) ([]int, error) {
	var stored []byte
	err := q.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'rollup_resolutions'`).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.DefaultResolutions, nil
	} else if err != nil {
		return nil, fmt.Errorf("roll-up resolutions: %w", err)
	}
	var res []int
	return res, json.Unmarshal(stored, &res)
}

// CellPopulations returns the stored population of each of the given cells at res
// that has people (a tile's cells, say), read through the table's key.
func (db *DB) CellPopulations(ctx context.Context, res int, cells []uint64) (map[uint64]float64, error) {
	ids := make([]int64, len(cells))
	for i, c := range cells {
		ids[i] = int64(c)
	}
	rows, err := db.Pool.Query(ctx, `SELECT cell, population FROM cell_populations WHERE res = $1 AND cell = ANY($2)`, res, ids)
	if err != nil {
		return nil, fmt.Errorf("postgis: cell populations: %w", err)
	}
	out := make(map[uint64]float64, len(cells))
	var cell int64
	var p float64
	_, err = pgx.ForEachRow(rows, []any{&cell, &p}, func() error {
		out[uint64(cell)] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: cell populations: %w", err)
	}
	return out, nil
}

// AllCellPopulations returns the stored population of every cell at res.
func (db *DB) AllCellPopulations(ctx context.Context, res int) (map[uint64]float64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT cell, population FROM cell_populations WHERE res = $1`, res)
	if err != nil {
		return nil, fmt.Errorf("postgis: cell populations: %w", err)
	}
	out := map[uint64]float64{}
	var cell int64
	var p float64
	_, err = pgx.ForEachRow(rows, []any{&cell, &p}, func() error {
		out[uint64(cell)] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: cell populations: %w", err)
	}
	return out, nil
}

// computePendingCells computes the cells of incidents stored before the incidents
// kept them (migration 0013) and rebuilds the roll-ups from them, once.
func computePendingCells(ctx context.Context, conn *pgxpool.Conn) error {
	var pending, populations bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM settings WHERE key = 'cells_pending'),
		EXISTS (SELECT 1 FROM settings WHERE key = 'populations_pending')`).Scan(&pending, &populations)
	if err != nil || !pending && !populations {
		return err
	}
	res := geo.DefaultResolutions
	var stored []byte
	err = conn.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'rollup_resolutions'`).Scan(&stored)
	if err == nil {
		if err := json.Unmarshal(stored, &res); err != nil {
			return err
		}
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", areasLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE incidents IN SHARE MODE"); err != nil {
			return err
		}
		if populations {
			if err := storeCellPopulations(ctx, tx, res); err != nil {
				return err
			}
		}
		if pending {
			if err := recomputeCells(ctx, tx, res); err != nil {
				return err
			}
			if err := rebuildRollups(ctx, tx, res); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "SELECT nextval('data_version')")
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: computing the cells of stored incidents: %w", err)
	}
	return nil
}

// AreasVersion returns a string that changes whenever the stored areas change.
func (db *DB) AreasVersion(ctx context.Context) (string, error) {
	var v string
	err := db.Pool.QueryRow(ctx, `SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') || '/' || coalesce(max(id), 0) FROM areas`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("postgis: areas version: %w", err)
	}
	return v, nil
}

// SetAreasAttribution stores the credit that the areas' licence asks for (the
// Open Government Licence's statements for ONS boundaries, say), which the map
// shows beside them. Empty removes it.
func (db *DB) SetAreasAttribution(ctx context.Context, text string) error {
	var err error
	if text == "" {
		_, err = db.Pool.Exec(ctx, `DELETE FROM settings WHERE key = 'areas_attribution'`)
	} else {
		_, err = db.Pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('areas_attribution', to_jsonb($1::text))
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, text)
	}
	if err != nil {
		return fmt.Errorf("postgis: setting the areas' attribution: %w", err)
	}
	return nil
}

// AreasAttribution returns the credit stored with the areas, "" when none is.
func (db *DB) AreasAttribution(ctx context.Context) (string, error) {
	var text string
	err := db.Pool.QueryRow(ctx, `SELECT coalesce((SELECT value #>> '{}' FROM settings WHERE key = 'areas_attribution'), '')`).Scan(&text)
	if err != nil {
		return "", fmt.Errorf("postgis: the areas' attribution: %w", err)
	}
	return text, nil
}
