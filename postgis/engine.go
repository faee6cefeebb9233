package postgis

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

var _ tension.Source = (*DB)(nil)

// newSeries makes empty series for n units over [from, to], one per strand.
func (v *Vocab) newSeries(n int, from, to time.Time) *tension.Series {
	s := &tension.Series{From: from, To: to, Counts: map[string][][]float64{}}
	days := s.Days()
	for _, strand := range append([]string{tension.AllStrands}, v.Strands...) {
		if strand == "" && len(s.Counts) > 0 {
			continue // an unused strand bit
		}
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = make([]float64, days)
		}
		s.Counts[strand] = rows
	}
	return s
}

// add counts n incidents of a class on a day for a unit, under every strand of the
// class and under all strands.
func (v *Vocab) add(s *tension.Series, unit int, day time.Time, class, n int64) {
	d := int(day.Sub(s.From).Hours() / 24)
	if d < 0 || d >= len(s.Counts[tension.AllStrands][unit]) {
		return
	}
	s.Counts[tension.AllStrands][unit][d] += float64(n)
	_, _, strands := unpackClass(class)
	for _, name := range v.StrandNames(strands) {
		if rows, ok := s.Counts[name]; ok {
			rows[unit][d] += float64(n)
		}
	}
}

// AreaDays returns the areas of a level and their daily counts over [from, to].
func (db *DB) AreaDays(ctx context.Context, level string, from, to time.Time) ([]geo.Area, *tension.Series, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, code, name, coalesce(population, 0) FROM areas WHERE level = $1 ORDER BY code`, level)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: areas of %s: %w", level, err)
	}
	var areas []geo.Area
	index := map[int32]int{}
	for rows.Next() {
		a := geo.Area{Level: level}
		if err := rows.Scan(&a.ID, &a.Code, &a.Name, &a.Population); err != nil {
			return nil, nil, err
		}
		index[a.ID] = len(areas)
		areas = append(areas, a)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	s := v.newSeries(len(areas), from, to)
	// The areas of the level in each set of areas, read here rather than joined:
	// the counts then come from one range of set_day_counts' key by day, with no
	// join, sort or grouping whose plan could turn on the table's statistics (fresh
	// after a large load, they are not there yet). The series add up the rows.
	units, err := db.setUnits(ctx, index)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: area days: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `SELECT area_set, day, class, n::bigint FROM set_day_counts
		WHERE day BETWEEN $1 AND $2 AND area_set <> 0`, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: area days: %w", err)
	}
	var set int32
	var day time.Time
	var class, n int64
	_, err = pgx.ForEachRow(rows, []any{&set, &day, &class, &n}, func() error {
		for _, i := range units[set] {
			v.add(s, i, day, class, n)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: area days: %w", err)
	}
	return areas, s, nil
}

// setUnits maps each set of areas holding any of the areas index numbers to those
// areas' numbers.
func (db *DB) setUnits(ctx context.Context, index map[int32]int) (map[int32][]int, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, areas FROM area_sets WHERE id <> 0`)
	if err != nil {
		return nil, err
	}
	units := map[int32][]int{}
	var id int32
	var members []int32
	_, err = pgx.ForEachRow(rows, []any{&id, &members}, func() error {
		for _, a := range members {
			if i, ok := index[a]; ok {
				units[id] = append(units[id], i)
			}
		}
		return nil
	})
	return units, err
}

// CellAreas returns, for each cell at res with incidents over [from, to], the codes
// of the areas of level its incidents fall in.
func (db *DB) CellAreas(ctx context.Context, res int, level string, from, to time.Time) (map[uint64][]string, error) {
	// The level's areas are read first and passed as ids, and the pairs made unique
	// here: the query is then one range of the incidents by day, with no join, sort
	// or grouping whose plan could turn on statistics a large load has not yet made
	// (a sort of 800,000 pairs spilled to disk at 1 million reports).
	codes := map[int32]string{}
	rows, err := db.Pool.Query(ctx, `SELECT id, code FROM areas WHERE level = $1`, level)
	if err != nil {
		return nil, fmt.Errorf("postgis: cell areas: %w", err)
	}
	var id int32
	var code string
	if _, err := pgx.ForEachRow(rows, []any{&id, &code}, func() error { codes[id] = code; return nil }); err != nil {
		return nil, fmt.Errorf("postgis: cell areas: %w", err)
	}
	ids := make([]int32, 0, len(codes))
	for id := range codes {
		ids = append(ids, id)
	}
	rows, err = db.Pool.Query(ctx, `
		SELECT c.cell, a.area_id
		FROM incidents i CROSS JOIN unnest(i.cells) AS c(cell) CROSS JOIN unnest(i.areas) AS a(area_id)
		WHERE i.occurred_from BETWEEN $2 AND $3 AND i.cells IS NOT NULL AND i.areas <> '{}' AND h3_res(c.cell) = $1
		  AND a.area_id = ANY($4)`, res, from, to, ids)
	if err != nil {
		return nil, fmt.Errorf("postgis: cell areas: %w", err)
	}
	type pair struct {
		cell uint64
		area int32
	}
	seen := map[pair]struct{}{}
	out := map[uint64][]string{}
	var cell int64
	_, err = pgx.ForEachRow(rows, []any{&cell, &id}, func() error {
		p := pair{uint64(cell), id}
		if _, ok := seen[p]; !ok {
			seen[p] = struct{}{}
			out[p.cell] = append(out[p.cell], codes[id])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: cell areas: %w", err)
	}
	return out, nil
}

// CellDays returns the cells at res with any incident over [from, to] and their
// daily counts, the cells in ascending order.
func (db *DB) CellDays(ctx context.Context, res int, from, to time.Time) ([]uint64, *tension.Series, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, nil, err
	}
	type row struct {
		cell     uint64
		day      time.Time
		class, n int64
	}
	var all []row
	index := map[uint64]int{}
	var cells []uint64
	// No grouping: the series add up the rows (at the finest resolutions, one a
	// report), so the plan is a range by day whatever the statistics say.
	rows, err := db.Pool.Query(ctx, `
		SELECT cell, day, class, n::bigint FROM (`+cellRows(res, "$1::integer", "")+`) r
		WHERE day BETWEEN $2 AND $3`, res, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: cell days: %w", err)
	}
	var r row
	var cell int64
	_, err = pgx.ForEachRow(rows, []any{&cell, &r.day, &r.class, &r.n}, func() error {
		r.cell = uint64(cell)
		if _, ok := index[r.cell]; !ok {
			index[r.cell] = len(cells)
			cells = append(cells, r.cell)
		}
		all = append(all, r)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: cell days: %w", err)
	}
	slices.Sort(cells)
	for i, c := range cells {
		index[c] = i
	}
	s := v.newSeries(len(cells), from, to)
	for _, r := range all {
		v.add(s, index[r.cell], r.day, r.class, r.n)
	}
	return cells, s, nil
}

// CityDays returns the daily counts of every incident, located or not.
func (db *DB) CityDays(ctx context.Context, from, to time.Time) (*tension.Series, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	s := v.newSeries(1, from, to)
	rows, err := db.Pool.Query(ctx, `SELECT day, class, n::bigint FROM day_counts WHERE day BETWEEN $1 AND $2`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgis: city days: %w", err)
	}
	var day time.Time
	var class, n int64
	_, err = pgx.ForEachRow(rows, []any{&day, &class, &n}, func() error {
		v.add(s, 0, day, class, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: city days: %w", err)
	}
	return s, nil
}

// LocatedIncidents returns the located incidents over [from, to], for near-repeat
// analysis: where and when, nothing else.
func (db *DB) LocatedIncidents(ctx context.Context, from, to time.Time) ([]tension.Located, error) {
	rows, err := db.Pool.Query(ctx, `SELECT lat, lon, occurred_from FROM incidents
		WHERE occurred_from BETWEEN $1 AND $2 AND lon IS NOT NULL AND precision IN ('exact', 'street')`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgis: located incidents: %w", err)
	}
	var out []tension.Located
	var l tension.Located
	_, err = pgx.ForEachRow(rows, []any{&l.At.Lat, &l.At.Lon, &l.Day}, func() error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// TriggerEvents returns the trigger events recorded over [from, to].
func (db *DB) TriggerEvents(ctx context.Context, from, to time.Time) ([]tension.TriggerEvent, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, day, scope, description, strands FROM trigger_events
		WHERE day BETWEEN $1 AND $2 ORDER BY day, id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgis: trigger events: %w", err)
	}
	var out []tension.TriggerEvent
	var e tension.TriggerEvent
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.Day, &e.Scope, &e.Description, &e.Strands}, func() error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// CreateTriggerEvent records a trigger event and sets its ID.
func (db *DB) CreateTriggerEvent(ctx context.Context, e *tension.TriggerEvent, by string) error {
	if e.Strands == nil {
		e.Strands = []string{}
	}
	err := db.Pool.QueryRow(ctx, `INSERT INTO trigger_events (day, scope, description, strands, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.Day, e.Scope, e.Description, e.Strands, by).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgis: recording a trigger event: %w", err)
	}
	return nil
}
