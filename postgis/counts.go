package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tensionmap/tensionmap/geo"
)

// filterArgs turns a filter into the bound values of the roll-up predicates below:
// $from, $to (NULL = open), the strands mask (0 = all), kinds and sources (NULL = all).
func (v *Vocab) filterArgs(f geo.Filter) (from, to any, mask int64, kinds, sources any, err error) {
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	for _, s := range f.Strands {
		b, ok := v.StrandBit[geo.NormaliseName(s)]
		if !ok {
			return nil, nil, 0, nil, nil, geo.Errorf(geo.EINVALID, "unknown strand %q", s)
		}
		mask |= 1 << b
	}
	if len(f.Kinds) > 0 {
		ks := make([]int16, len(f.Kinds))
		for i, k := range f.Kinds {
			ks[i] = kindCode(k)
		}
		kinds = ks
	}
	if len(f.Sources) > 0 {
		ids, err := v.SourceIDs(f.Sources)
		if err != nil {
			return nil, nil, 0, nil, nil, err
		}
		sources = ids
	}
	return from, to, mask, kinds, sources, nil
}

// rollupWhere returns the filter predicate over a roll-up table, its five values
// (those of filterArgs) bound from $first on.
func rollupWhere(first int) string {
	return fmt.Sprintf(`($%[1]d::date IS NULL OR day >= $%[1]d) AND ($%[2]d::date IS NULL OR day <= $%[2]d)
	AND ($%[3]d::bigint = 0 OR class & $%[3]d <> 0)
	AND ($%[4]d::smallint[] IS NULL OR class_kind(class) = ANY($%[4]d))
	AND ($%[5]d::smallint[] IS NULL OR class_source(class) = ANY($%[5]d))`,
		first, first+1, first+2, first+3, first+4)
}

// classWhere returns the strands, kinds and sources part of rollupWhere, its three
// values bound from $first on.
func classWhere(first int) string {
	return fmt.Sprintf(`($%[1]d::bigint = 0 OR class & $%[1]d <> 0)
	AND ($%[2]d::smallint[] IS NULL OR class_kind(class) = ANY($%[2]d))
	AND ($%[3]d::smallint[] IS NULL OR class_source(class) = ANY($%[3]d))`, first, first+1, first+2)
}

// CellCounts returns the count of every cell at resolution res with incidents that
// match the filter, from the roll-ups, in cell order. An incident counts in the cell
// that contains it at res.
func (db *DB) CellCounts(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error) {
	return db.cellCounts(ctx, res, nil, f, false)
}

// CellCountsIn is CellCounts for the given cells at res only (a tile's cells, say):
// it reads the roll-up rows of those cells through their index, so that it costs
// what those cells hold, not the whole resolution. Cells with no incident are left
// out.
func (db *DB) CellCountsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error) {
	return db.cellCountsIn(ctx, res, cells, f, false)
}

// cellCountsIn answers CellCountsIn, or with countOnly CellTotalsIn.
func (db *DB) cellCountsIn(ctx context.Context, res int, cells []uint64, f geo.Filter, countOnly bool) ([]geo.CellCount, error) {
	if len(cells) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(cells))
	for i, c := range cells {
		ids[i] = int64(c)
	}
	return db.cellCounts(ctx, res, ids, f, countOnly)
}

// dailyMaxRes is the finest resolution cell_day_counts rolls up by day: a cell of
// resolution 7 (5 km²) holds many reports a day; finer cells hold about one, and
// their days are counted from the incidents. Up to monthMaxRes a period's whole
// months come from cell_month_counts, and its whole years from cell_year_counts up
// to yearClassMaxRes and cell_year_strands up to yearMaxRes (periodRows).
const dailyMaxRes = 7

// monthMaxRes is the finest resolution cell_month_counts rolls up: finer cells hold
// a report or two a (cell, month, class) (see migration 0017), so their months come
// from the incidents.
const monthMaxRes = 8

// yearClassMaxRes is the finest resolution cell_year_counts rolls up, a row a (cell,
// year, class): at resolutions 9 and 10 a (cell, year, class) holds a report or two
// (a class is a kind, a source and a set of strands), so those rows cost the ingest
// as much as the incidents' index and spare a read little (migration 0023). Reads
// filtered by kind or source there count the incidents' index on their cells.
const yearClassMaxRes = monthMaxRes

// yearMaxRes is the finest resolution cell_year_strands rolls up (migration 0022):
// over ten years at ten million reports a cell of resolution 10 holds thousands of
// reports and a (cell, year, strands) a few. Reads with no filter of kind or source
// (what a map tile draws, filtered by strand or not) take their whole years from it.
const yearMaxRes = incidentCellMaxRes

// incidentCellMaxRes is the finest resolution whose cell the incidents hold as a
// column of its own (cell8 to cell10, migration 0020), indexed with the day and the
// class so that the reads of given cells read the index alone. Finer roll-up
// resolutions name cell_at(cells, res) and read through the index on days.
const incidentCellMaxRes = 10

// cellRows returns a query of rows (cell, day, class, n) of the reports at
// resolution res (bound as resParam), from the daily roll-up or the incidents, limited
// to the cells in the bigint[] parameter cellsParam when it is not empty. Predicates
// on day and class over it reach the tables' indexes. Finer than dailyMaxRes the
// reports of given cells are read through the index on (cell<res>, occurred_from
// + 0) alone (those of every cell through the index on days), which the query names
// with res as a constant, so that a prepared statement's generic plan uses it too:
// the reports of given cells over any period are a range of it a cell.
func cellRows(res int, resParam, cellsParam string) string {
	if res <= dailyMaxRes {
		q := `SELECT cell, day, class, n FROM cell_day_counts WHERE res = ` + resParam
		if cellsParam != "" {
			q += ` AND cell = ANY(` + cellsParam + `)`
		}
		return q
	}
	cell := fmt.Sprintf("cell_at(i.cells, %d)", res)
	if res <= incidentCellMaxRes {
		// The column of its own (migration 0020), which the index on it returns.
		cell = fmt.Sprintf("i.cell%d", res)
	}
	day := `i.occurred_from`
	if cellsParam != "" {
		// The day as the index on cells names it, out of the reach of those on days.
		day = `i.occurred_from + 0`
	}
	q := `SELECT ` + cell + ` AS cell, ` + day + ` AS day, (i.kind::bigint << 62) | (i.source_id::bigint << 48) | i.strands AS class, 1 AS n
		FROM incidents i
		WHERE ` + cell + ` IS NOT NULL AND ` + resParam + ` IS NOT NULL`
	if cellsParam != "" {
		q += ` AND ` + cell + ` = ANY(` + cellsParam + `)`
	}
	return q
}

// dayBounds returns a filter's days with open ends closed far away, so that a
// plan for them uses an index on days whatever the values.
func dayBounds(from, to any) (time.Time, time.Time) {
	lo, hi := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if t, ok := from.(time.Time); ok {
		lo = t
	}
	if t, ok := to.(time.Time); ok {
		hi = t
	}
	return lo, hi
}

// periodParts splits the days lo to hi (both included) for the reads of cells: its
// whole years, read from cell_year_counts or cell_year_strands; its whole months
// outside them, from cell_month_counts; the days left at either end (a few weeks at
// most, or the whole of a period without a whole month), from cell_day_counts or the
// incidents. Each
// part is a half-open range [from, to) of first days (years and months) or days; an
// empty part has from == to.
type periodParts struct {
	years  [2]time.Time
	months [2][2]time.Time
	days   [2][2]time.Time
}

func splitPeriod(lo, hi time.Time) periodParts {
	lo = time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, time.UTC)
	end := time.Date(hi.Year(), hi.Month(), hi.Day()+1, 0, 0, 0, 0, time.UTC) // the day after hi
	m0 := time.Date(lo.Year(), lo.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !m0.Equal(lo) {
		m0 = m0.AddDate(0, 1, 0)
	}
	m1 := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	var p periodParts
	if !m0.Before(m1) {
		p.days[0] = [2]time.Time{lo, end}
		p.days[1] = [2]time.Time{end, end}
		p.years = [2]time.Time{m1, m1}
		p.months = [2][2]time.Time{{m1, m1}, {m1, m1}}
		return p
	}
	p.days = [2][2]time.Time{{lo, m0}, {m1, end}}
	y0 := time.Date(m0.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	if !y0.Equal(m0) {
		y0 = y0.AddDate(1, 0, 0)
	}
	y1 := time.Date(m1.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	if !y0.Before(y1) {
		p.years = [2]time.Time{m1, m1}
		p.months = [2][2]time.Time{{m0, m1}, {m1, m1}}
		return p
	}
	p.years = [2]time.Time{y0, y1}
	p.months = [2][2]time.Time{{m0, y0}, {y1, m1}}
	return p
}

// periodRows returns a query of rows (cell, class, n) at res over the non-empty
// parts of a period (splitPeriod), limited to the cells in cellsParam when it is not
// empty: up to yearClassMaxRes whole years from cell_year_counts, up to monthMaxRes
// whole months from cell_month_counts, the days left from cell_day_counts up to
// dailyMaxRes and from the incidents finer (cellRows). With byStrands (a read with no
// filter of kind or source) whole years up to yearMaxRes come from
// cell_year_strands, each row's class its strands alone. The parts' dates are bound
// from $first on, in the order of the values it returns.
func periodRows(res int, resParam, cellsParam string, first int, p periodParts, byStrands bool) (string, []any) {
	if res > monthMaxRes {
		// No monthly rows and no yearly rows by class (yearClassMaxRes is
		// monthMaxRes): the days between the whole years of the counts by strands,
		// or the whole period's days: the first day of the first end to the last of
		// the second, whichever parts are empty.
		lo, end := p.days[0][0], p.days[1][1]
		if byStrands && res <= yearMaxRes && p.years[0].Before(p.years[1]) {
			p = periodParts{years: p.years, days: [2][2]time.Time{{lo, p.years[0]}, {p.years[1], end}}}
		} else {
			p = periodParts{days: [2][2]time.Time{{lo, end}, {end, end}}}
		}
	}
	// Given cells name no resolution (a cell's is part of its number): their reads
	// go through the indexes on cells.
	which := `res = ` + resParam
	if cellsParam != "" {
		which = `cell = ANY(` + cellsParam + `)`
	}
	var parts []string
	var args []any
	bind := func(r [2]time.Time) (string, string) {
		args = append(args, r[0], r[1])
		return fmt.Sprintf("$%d::date", first+len(args)-2), fmt.Sprintf("$%d::date", first+len(args)-1)
	}
	if p.years[0].Before(p.years[1]) {
		lo, hi := bind(p.years)
		table := "cell_year_counts"
		if byStrands {
			table = "cell_year_strands"
		}
		parts = append(parts, `SELECT cell, class, n FROM `+table+` WHERE `+which+` AND year >= `+lo+` AND year < `+hi)
	}
	for _, m := range p.months {
		if m[0].Before(m[1]) {
			lo, hi := bind(m)
			parts = append(parts, `SELECT cell, class, n FROM cell_month_counts WHERE `+which+` AND month >= `+lo+` AND month < `+hi)
		}
	}
	// Each end's days are a part of their own, a range of the indexes on days.
	for _, d := range p.days {
		if d[0].Before(d[1]) {
			lo, hi := bind(d)
			parts = append(parts, `SELECT cell, class, n FROM (`+cellRows(res, resParam, cellsParam)+`) i
			WHERE day >= `+lo+` AND day < `+hi)
		}
	}
	if len(parts) == 0 {
		return `SELECT 0::bigint AS cell, 0::bigint AS class, 0 AS n WHERE false`, nil
	}
	return strings.Join(parts, "\n\t\tUNION ALL\n\t\t"), args
}

// cellCountsSQL returns the query of the counts by cell and class at res over the
// days lo to hi, bound as $1 the resolution, $2 and $3 lo and hi, $4 to $6 the class
// filter (classWhere), cellsParam the cells if not empty, and the dates of the
// period's parts, returned, bound from $first on. With byStrands (a read of the
// count alone, with no filter of kind or source) it returns a row a cell, its class
// 0, and reads whole years from cell_year_strands.
func cellCountsSQL(res int, cellsParam string, first int, lo, hi time.Time, byStrands bool) (string, []any) {
	rows, dates := periodRows(res, "$1::integer", cellsParam, first, splitPeriod(lo, hi), byStrands)
	// $1 to $3 are bound but the cells and the parts may say the resolution and the
	// days: their types are named.
	class, group := "class", "1, 2"
	if byStrands {
		class, group = "0::bigint", "1"
	}
	return `SELECT cell, ` + class + `, sum(n)::bigint FROM (` + rows + `) r
		WHERE $1::integer IS NOT NULL AND $2::date <= $3::date AND ` + classWhere(4) + `
		GROUP BY ` + group + ` ORDER BY 1`, dates
}

// CellTotals is CellCounts with the count of each cell alone (Crimes, Incidents and
// ByStrand left empty): what a map tile draws. With no filter of kind or source its
// whole years come from cell_year_strands, a row a cell, year and set of strands.
func (db *DB) CellTotals(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error) {
	return db.cellCounts(ctx, res, nil, f, true)
}

// CellTotalsIn is CellTotals for the given cells at res only, read through their
// indexes (see CellCountsIn).
func (db *DB) CellTotalsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error) {
	return db.cellCountsIn(ctx, res, cells, f, true)
}

// cellCounts answers CellCounts, for every cell at res when cells is nil; with
// countOnly, CellTotals.
func (db *DB) cellCounts(ctx context.Context, res int, cells []int64, f geo.Filter, countOnly bool) ([]geo.CellCount, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	from, to, mask, kinds, sources, err := v.filterArgs(f)
	if err != nil {
		return nil, err
	}
	lo, hi := dayBounds(from, to)
	args := []any{res, lo, hi, mask, kinds, sources}
	param := ""
	if cells != nil {
		param, args = "$7::bigint[]", append(args, cells)
	}
	if from == nil || to == nil {
		// Open ends are closed at the years of the data's first and last days, so
		// that the days left at either end of a period are those of a month at most.
		first, last, err := db.DateSpan(ctx)
		if err != nil {
			return nil, err
		}
		if first.IsZero() {
			return nil, nil
		}
		if from == nil {
			lo = time.Date(first.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if to == nil {
			hi = time.Date(last.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
		}
		args[1], args[2] = lo, hi
	}
	if hi.Before(lo) {
		return nil, nil
	}
	byStrands := countOnly && kinds == nil && sources == nil
	sql, dates := cellCountsSQL(res, param, len(args)+1, lo, hi, byStrands)
	args = append(args, dates...)
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgis: cell counts: %w", err)
	}
	defer rows.Close()
	var out []geo.CellCount
	for rows.Next() {
		var cell, class, n int64
		if err := rows.Scan(&cell, &class, &n); err != nil {
			return nil, fmt.Errorf("postgis: cell counts: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Cell != uint64(cell) {
			out = append(out, geo.CellCount{Cell: uint64(cell)})
			if !countOnly {
				out[len(out)-1].ByStrand = map[string]int{}
			}
		}
		c := &out[len(out)-1]
		if countOnly {
			c.Count += int(n)
			continue
		}
		v.addClass(class, int(n), &c.Count, &c.Crimes, &c.Incidents, c.ByStrand, nil)
	}
	return out, rows.Err()
}

// Totals counts every incident matching the filter, located or not, from the day
// roll-ups; located is the part with a place.
func (db *DB) Totals(ctx context.Context, f geo.Filter) (total, located int64, err error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return 0, 0, err
	}
	from, to, mask, kinds, sources, err := v.filterArgs(f)
	if err != nil {
		return 0, 0, err
	}
	err = db.Pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0)::bigint, coalesce(sum(located), 0)::bigint FROM day_counts
		WHERE `+rollupWhere(1), from, to, mask, kinds, sources).Scan(&total, &located)
	if err != nil {
		return 0, 0, fmt.Errorf("postgis: totals: %w", err)
	}
	return total, located, nil
}

// DateSpan returns the first and last day with incidents; zero times when there are none.
func (db *DB) DateSpan(ctx context.Context) (first, last time.Time, err error) {
	var f, l *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT min(day), max(day) FROM day_counts`).Scan(&f, &l); err != nil {
		return first, last, fmt.Errorf("postgis: date span: %w", err)
	}
	if f != nil {
		first, last = *f, *l
	}
	return first, last, nil
}

// Stats summarise what the database holds, from the roll-ups and small tables.
func (db *DB) Stats(ctx context.Context) (geo.Stats, error) {
	s := geo.Stats{AreasByLevel: map[string]int{}}
	var first, last, lastIngest *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0)::bigint, coalesce(sum(located), 0)::bigint, min(day), max(day),
		(SELECT max(finished_at) FROM ingest_runs WHERE status = 'done') FROM day_counts`).Scan(&s.Incidents, &s.Located, &first, &last, &lastIngest)
	if err != nil {
		return s, fmt.Errorf("postgis: stats: %w", err)
	}
	if first != nil {
		s.FirstDay, s.LastDay = *first, *last
	}
	if lastIngest != nil {
		s.LastIngest = *lastIngest
	}
	rows, err := db.Pool.Query(ctx, `SELECT level, count(*) FROM areas GROUP BY level ORDER BY level`)
	if err != nil {
		return s, fmt.Errorf("postgis: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var level string
		var n int
		if err := rows.Scan(&level, &n); err != nil {
			return s, err
		}
		s.AreasByLevel[level] = n
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	if s.Resolutions, err = db.Resolutions(ctx); err != nil {
		return s, err
	}
	s.DataVersion, err = db.DataVersion(ctx)
	return s, err
}

// Ready returns nil when the database answers and every migration is applied.
func (db *DB) Ready(ctx context.Context) error {
	pending, err := db.Pending(ctx)
	if err != nil {
		return geo.Errorf(geo.EUNAVAILABLE, "database unreachable")
	}
	if len(pending) > 0 {
		return geo.Errorf(geo.EUNAVAILABLE, "migrations %v not applied", pending)
	}
	return nil
}

// WeeklyCounts returns the incidents of each of the weeks weeks that end on the day
// end, oldest first, in one place (a cell at its own resolution, or an area), that
// match f's strands, kinds and sources; f's dates are ignored. An unknown area is
// ENOTFOUND.
func (db *DB) WeeklyCounts(ctx context.Context, p geo.Place, f geo.Filter, end time.Time, weeks int) ([]int, error) {
	if weeks <= 0 {
		return nil, nil
	}
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
	f.From, f.To = end.AddDate(0, 0, -7*weeks+1), end
	from, to, mask, kinds, sources, err := v.filterArgs(f)
	if err != nil {
		return nil, err
	}
	var sql string
	var place any
	switch {
	case p.Area != "":
		var id int32
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM areas WHERE code = $1`, p.Area).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, geo.Errorf(geo.ENOTFOUND, "no area has the code %q", p.Area)
			}
			return nil, fmt.Errorf("postgis: weekly counts: %w", err)
		}
		place = id
		sql = `SELECT ($3::date - day) / 7, sum(n)::bigint FROM set_day_counts c JOIN area_sets s ON s.id = c.area_set
			WHERE $1::integer = ANY(s.areas) AND ` + rollupWhere(2) + ` GROUP BY 1`
	case p.Cell != 0:
		place = []int64{int64(p.Cell)}
		sql = `SELECT ($3::date - day) / 7, sum(n)::bigint FROM (` + cellRows(geo.CellRes(p.Cell), "h3_res(($1::bigint[])[1])", "$1::bigint[]") + `) r
			WHERE ` + rollupWhere(2) + ` GROUP BY 1`
	default:
		return nil, geo.Errorf(geo.EINVALID, "weekly counts: a cell or an area is needed")
	}
	rows, err := db.Pool.Query(ctx, sql, place, from, to, mask, kinds, sources)
	if err != nil {
		return nil, fmt.Errorf("postgis: weekly counts: %w", err)
	}
	defer rows.Close()
	out := make([]int, weeks)
	for rows.Next() {
		var ago, n int64
		if err := rows.Scan(&ago, &n); err != nil {
			return nil, fmt.Errorf("postgis: weekly counts: %w", err)
		}
		if ago >= 0 && ago < int64(weeks) {
			out[weeks-1-int(ago)] += int(n)
		}
	}
	return out, rows.Err()
}

// DailyCounts returns the reports of each day over [from, to] (days, both
// included) that match f's strands, kinds and sources (f's dates are ignored),
// located or not, oldest first.
func (db *DB) DailyCounts(ctx context.Context, f geo.Filter, from, to time.Time) ([]int, error) {
	from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	if to.Before(from) {
		return nil, geo.Errorf(geo.EINVALID, "to is before from")
	}
	days := int(to.Sub(from).Hours()/24) + 1
	if days > 3700 {
		return nil, geo.Errorf(geo.EINVALID, "at most ten years of days")
	}
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	f.From, f.To = from, to
	fromArg, toArg, mask, kinds, sources, err := v.filterArgs(f)
	if err != nil {
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT day, sum(n)::bigint FROM day_counts WHERE `+rollupWhere(1)+` GROUP BY day`,
		fromArg, toArg, mask, kinds, sources)
	if err != nil {
		return nil, fmt.Errorf("postgis: daily counts: %w", err)
	}
	defer rows.Close()
	out := make([]int, days)
	for rows.Next() {
		var d time.Time
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("postgis: daily counts: %w", err)
		}
		if i := int(d.Sub(from).Hours() / 24); i >= 0 && i < days {
			out[i] += int(n)
		}
	}
	return out, rows.Err()
}
