package postgis

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tensionmap/tensionmap/geo"
)

// AreaCounts returns every area of a level with its count for the filter, zero
// counts included, in code order. An unknown level gives an empty list.
func (db *DB) AreaCounts(ctx context.Context, level string, f geo.Filter) ([]geo.AreaCount, error) {
	return db.areaCounts(ctx, "a.level = $1", level, f)
}

// AreaCount returns one area by code with its count for the filter; ENOTFOUND if
// no such area.
func (db *DB) AreaCount(ctx context.Context, code string, f geo.Filter) (geo.AreaCount, error) {
	out, err := db.areaCounts(ctx, "a.code = $1", code, f)
	if err != nil {
		return geo.AreaCount{}, err
	}
	if len(out) == 0 {
		return geo.AreaCount{}, geo.Errorf(geo.ENOTFOUND, "no area %q", code)
	}
	return out[0], nil
}

func (db *DB) areaCounts(ctx context.Context, where string, arg string, f geo.Filter) ([]geo.AreaCount, error) {
	return db.areaCountsPrefix(ctx, where, arg, f)
}

// monthSplit divides the period [from, to] (a zero end open) into the whole months
// that the tree of area counts answers, [mFrom, mTo) by first days (nil = open), and the
// days at either end that the daily rows answer, [d1From, d1To] and [d2From, d2To]
// (an empty range has its from after its to). With no whole month inside, the
// whole period is daily and the month range empty.
func monthSplit(from, to time.Time) (mFrom, mTo any, d1From, d1To, d2From, d2To time.Time) {
	never := time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)
	d1From, d1To, d2From, d2To = never, never.AddDate(0, 0, -1), never, never.AddDate(0, 0, -1)
	first := time.Time{} // first day of the first whole month
	if !from.IsZero() {
		first = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
		if from.Day() != 1 {
			first = first.AddDate(0, 1, 0)
		}
	}
	end := time.Time{} // first day of the month after the last whole month
	if !to.IsZero() {
		end = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
		if to.AddDate(0, 0, 1).Day() == 1 {
			end = end.AddDate(0, 1, 0)
		}
	}
	if !first.IsZero() && !end.IsZero() && !first.Before(end) {
		// No whole month: the period is read day by day.
		return never, never, from, to, d2From, d2To
	}
	if !first.IsZero() {
		mFrom, d1From, d1To = first, from, first.AddDate(0, 0, -1)
	}
	if !end.IsZero() {
		mTo, d2From, d2To = end, end, to
	}
	return mFrom, mTo, d1From, d1To, d2From, d2To
}

// areaCountsFrom answers areaCounts from the daily roll-up alone: the reference the
// tree of area counts is checked and timed against.
func (db *DB) areaCountsFrom(ctx context.Context, where string, arg string, f geo.Filter) ([]geo.AreaCount, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	from, to, mask, kinds, sources, err := v.filterArgs(f)
	if err != nil {
		return nil, err
	}
	// where is one of two fixed predicates above, never user text.
	counts := `SELECT area_id, class, sum(n)::bigint AS n FROM area_counts WHERE ` + rollupWhere(2) + ` GROUP BY 1, 2`
	args := []any{arg, from, to, mask, kinds, sources}
	rows, err := db.Pool.Query(ctx, `
		WITH c AS (`+counts+`)
		SELECT a.id, a.level, a.code, a.name, coalesce(a.population, 0), coalesce(c.class, 0), coalesce(c.n, 0)
		FROM areas a LEFT JOIN c ON c.area_id = a.id
		WHERE `+where+`
		ORDER BY a.code`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgis: area counts: %w", err)
	}
	defer rows.Close()
	var out []geo.AreaCount
	for rows.Next() {
		var a geo.Area
		var class, n int64
		if err := rows.Scan(&a.ID, &a.Level, &a.Code, &a.Name, &a.Population, &class, &n); err != nil {
			return nil, fmt.Errorf("postgis: area counts: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Area.ID != a.ID {
			out = append(out, geo.AreaCount{Area: a, ByStrand: map[string]int{}, BySource: map[string]int{}})
		}
		if n == 0 {
			continue
		}
		c := &out[len(out)-1]
		v.addClass(class, int(n), &c.Count, &c.Crimes, &c.Incidents, c.ByStrand, c.BySource)
	}
	return out, rows.Err()
}

// AreaLevels returns the levels of the stored areas.
func (db *DB) AreaLevels(ctx context.Context) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT level FROM areas ORDER BY level`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Incidents returns a page of incident records matching q, newest first. A scope
// with no stored area gives nothing.
func (db *DB) Incidents(ctx context.Context, q geo.IncidentQuery) ([]geo.StoredIncident, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	from, to, mask, kinds, sources, err := v.filterArgs(q.Filter)
	if err != nil {
		return nil, err
	}
	var west, south, east, north any
	if b := q.BBox; b != nil {
		west, south, east, north = b.West, b.South, b.East, b.North
	}
	var afterDay any
	var afterID int64
	if q.After != "" {
		d, id, err := geo.ParseCursor(q.After)
		if err != nil {
			return nil, err
		}
		afterDay, afterID = d, id
	}
	var areas, scope any
	if q.Areas != nil {
		areas = q.Areas
	}
	if q.Scope != nil {
		scope = q.Scope
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT i.id, s.name, i.source_ref, i.kind, i.strands, i.offence, i.occurred_from, i.occurred_to,
			coalesce(i.reported_at, 'epoch'), i.precision, coalesce(i.lon, 0), coalesce(i.lat, 0), coalesce(i.cell, 0),
			coalesce((SELECT array_agg(a.code ORDER BY a.level, a.code) FROM areas a WHERE a.id = ANY(i.areas)), '{}'),
			coalesce(i.victim_key, ''), coalesce(i.offender_key, '')
		FROM incidents i JOIN sources s ON s.id = i.source_id
		WHERE ($1::date IS NULL OR i.occurred_from >= $1) AND ($2::date IS NULL OR i.occurred_from <= $2)
		AND ($3::bigint = 0 OR i.strands & $3 <> 0)
		AND ($4::smallint[] IS NULL OR i.kind = ANY($4)) AND ($5::smallint[] IS NULL OR i.source_id = ANY($5))
		AND ($6::float8 IS NULL OR (i.lon BETWEEN $6 AND $8 AND i.lat BETWEEN $7 AND $9))
		AND ($10::text[] IS NULL OR i.areas && (SELECT coalesce(array_agg(id), '{}') FROM areas WHERE code = ANY($10)))
		AND ($11::text[] IS NULL OR i.areas && (SELECT coalesce(array_agg(id), '{}') FROM areas WHERE code = ANY($11)))
		AND ($12::date IS NULL OR (i.occurred_from, i.id) < ($12, $13))
		ORDER BY i.occurred_from DESC, i.id DESC
		LIMIT $14`,
		from, to, mask, kinds, sources, west, south, east, north, areas, scope, afterDay, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: incidents: %w", err)
	}
	defer rows.Close()
	var out []geo.StoredIncident
	for rows.Next() {
		var r geo.StoredIncident
		var kind int16
		var strands, cell int64
		var precision string
		if err := rows.Scan(&r.ID, &r.Source, &r.SourceRef, &kind, &strands, &r.Offence, &r.OccurredFrom, &r.OccurredTo,
			&r.ReportedAt, &precision, &r.Location.Lon, &r.Location.Lat, &cell, &r.AreaCodes, &r.VictimKey, &r.OffenderKey); err != nil {
			return nil, fmt.Errorf("postgis: incidents: %w", err)
		}
		r.Kind = geo.KindCrime
		if kind == 1 {
			r.Kind = geo.KindIncident
		}
		r.Strands = v.StrandNames(strands)
		r.Precision = geo.Precision(precision)
		r.Cell = uint64(cell)
		if r.ReportedAt.Unix() == 0 {
			r.ReportedAt = time.Time{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenLazy returns a pool without connecting: a server starts while its database is
// still down and connects when it comes up.
func OpenLazy(url string, o Options) (*DB, error) {
	return open(context.Background(), url, o, false)
}

// fenwickSize is the number of months area_prefix_counts covers, from 1900-01 (month
// 1) on; see migration 0009.
const fenwickSize = 4096

// monthIndex numbers the month of d as month_index does: 1 for January 1900.
func monthIndex(d time.Time) int {
	return (d.Year()-1900)*12 + int(d.Month())
}

// prefixNodes adds weight w to the tree nodes whose sum is the count of the months
// 1..k (none when k <= 0).
func prefixNodes(nodes map[int32]int32, k int, w int32) {
	for j := min(k, fenwickSize); j > 0; j -= j & -j {
		nodes[int32(j)] += w
	}
}

// areaCountsPrefix answers areaCounts with the whole months of the period from
// area_prefix_counts, two prefix sums of at most 12 rows an area whatever the
// period's length, and the partial months at either end from the daily rows; the
// filter's strands, kinds and sources are applied to each class here.
func (db *DB) areaCountsPrefix(ctx context.Context, where string, arg string, f geo.Filter) ([]geo.AreaCount, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	_, _, mask, kindsArg, sourcesArg, err := v.filterArgs(f)
	if err != nil {
		return nil, err
	}
	kinds, _ := kindsArg.([]int16)
	sources, _ := sourcesArg.([]int16)
	mFrom, mTo, d1From, d1To, d2From, d2To := monthSplit(f.From, f.To)
	nodes := map[int32]int32{}
	noMonths := mFrom != nil && mTo != nil && !mFrom.(time.Time).Before(mTo.(time.Time))
	if !noMonths {
		end := fenwickSize // months before mTo; all of them when open
		if mTo != nil {
			end = monthIndex(mTo.(time.Time)) - 1
		}
		prefixNodes(nodes, end, 1)
		if mFrom != nil {
			prefixNodes(nodes, monthIndex(mFrom.(time.Time))-1, -1)
		}
	}
	var nodeIDs, weights []int32
	for n, w := range nodes {
		if w != 0 {
			nodeIDs, weights = append(nodeIDs, n), append(weights, w)
		}
	}
	// where is one of two fixed predicates, never user text.
	b := &pgx.Batch{}
	b.Queue(`SELECT id, level, code, name, coalesce(population, 0) FROM areas a WHERE `+where+` ORDER BY code`, arg)
	b.Queue(`SELECT idx, class FROM rollup_classes`)
	b.Queue(`SELECT p.area_id, w.w, p.counts FROM area_prefix_counts p
		JOIN unnest($2::integer[], $3::integer[]) AS w(node, w) ON w.node = p.node
		WHERE p.area_id IN (SELECT id FROM areas a WHERE `+where+`)`, arg, nodeIDs, weights)
	br := db.Pool.SendBatch(ctx, b)
	defer br.Close()
	fail := func(err error) ([]geo.AreaCount, error) { return nil, fmt.Errorf("postgis: area counts: %w", err) }

	var out []geo.AreaCount
	at := map[int32]int{} // area id -> index in out
	rows, _ := br.Query()
	for rows.Next() {
		var a geo.Area
		if err := rows.Scan(&a.ID, &a.Level, &a.Code, &a.Name, &a.Population); err != nil {
			return fail(err)
		}
		at[int32(a.ID)] = len(out)
		out = append(out, geo.AreaCount{Area: a, ByStrand: map[string]int{}, BySource: map[string]int{}})
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	var classes []int64 // by idx
	rows, _ = br.Query()
	for rows.Next() {
		var idx int32
		var class int64
		if err := rows.Scan(&idx, &class); err != nil {
			return fail(err)
		}
		for len(classes) <= int(idx) {
			classes = append(classes, 0)
		}
		classes[idx] = class
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	// Per area, counts by class index; a class the index does not know yet (none
	// should be) is counted aside.
	classIdx := make(map[int64]int, len(classes))
	for i, c := range classes[min(1, len(classes)):] {
		classIdx[c] = i + 1
	}
	tally := make([][]int64, len(out))
	extra := make([]map[int64]int64, len(out))
	add := func(i int, class, n int64) {
		if ci, ok := classIdx[class]; ok {
			if tally[i] == nil {
				tally[i] = make([]int64, len(classes))
			}
			tally[i][ci] += n
			return
		}
		if extra[i] == nil {
			extra[i] = map[int64]int64{}
		}
		extra[i][class] += n
	}
	rows, _ = br.Query()
	for rows.Next() {
		var area, w int32
		var counts []int32
		if err := rows.Scan(&area, &w, &counts); err != nil {
			return fail(err)
		}
		i, ok := at[area]
		if !ok {
			continue
		}
		if len(counts) >= len(classes) {
			return fail(fmt.Errorf("area %d counts %d classes; rollup_classes holds %d", area, len(counts), len(classes)-1))
		}
		if tally[i] == nil {
			tally[i] = make([]int64, len(classes))
		}
		t := tally[i]
		for ci, n := range counts {
			t[ci+1] += int64(w) * int64(n)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if err := br.Close(); err != nil {
		return fail(err)
	}
	// The partial months, planned for their own days each time: a generic plan of a
	// prepared statement cannot tell a few days from years and goes parallel, which
	// costs more than the whole answer on a busy machine.
	rows, err = db.Pool.Query(ctx, `SELECT area_id, class, sum(n)::bigint FROM (
			SELECT a.area_id, c.class, c.n FROM set_day_counts c JOIN area_sets s ON s.id = c.area_set CROSS JOIN unnest(s.areas) AS a(area_id)
			WHERE c.day BETWEEN $2 AND $3 AND c.area_set <> 0
			UNION ALL
			SELECT a.area_id, c.class, c.n FROM set_day_counts c JOIN area_sets s ON s.id = c.area_set CROSS JOIN unnest(s.areas) AS a(area_id)
			WHERE c.day BETWEEN $4 AND $5 AND c.area_set <> 0
		) u WHERE area_id IN (SELECT id FROM areas a WHERE `+where+`) GROUP BY 1, 2`, pgx.QueryExecModeExec, arg, d1From, d1To, d2From, d2To)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var area int32
		var class, n int64
		if err := rows.Scan(&area, &class, &n); err != nil {
			return fail(err)
		}
		if i, ok := at[area]; ok {
			add(i, class, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for i := range out {
		c := &out[i]
		for ci, n := range tally[i] {
			if n != 0 && classMatches(classes[ci], mask, kinds, sources) {
				v.addClass(classes[ci], int(n), &c.Count, &c.Crimes, &c.Incidents, c.ByStrand, c.BySource)
			}
		}
		for class, n := range extra[i] {
			if n != 0 && classMatches(class, mask, kinds, sources) {
				v.addClass(class, int(n), &c.Count, &c.Crimes, &c.Incidents, c.ByStrand, c.BySource)
			}
		}
	}
	return out, nil
}

// classMatches applies the strands, kinds and sources of a filter (as filterArgs
// gives them) to a roll-up class, as rollupWhere does in SQL.
func classMatches(class, mask int64, kinds, sources []int16) bool {
	kind, source, _ := unpackClass(class)
	return (mask == 0 || class&mask != 0) &&
		(kinds == nil || slices.Contains(kinds, kind)) &&
		(sources == nil || slices.Contains(sources, source))
}
