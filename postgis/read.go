package postgis

import (
	"context"
	"fmt"
	"time"

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
	return db.areaCountsFrom(ctx, where, arg, f, true)
}

// monthSplit divides the period [from, to] (a zero end open) into the whole months
// that area_month_counts answers, [mFrom, mTo) by first days (nil = open), and the
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

// areaCountsFrom answers areaCounts from the monthly roll-up and the partial months
// from the daily one when monthly is set, from the daily roll-up alone otherwise;
// both give the same counts.
func (db *DB) areaCountsFrom(ctx context.Context, where string, arg string, f geo.Filter, monthly bool) ([]geo.AreaCount, error) {
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
	if monthly {
		mFrom, mTo, d1From, d1To, d2From, d2To := monthSplit(f.From, f.To)
		// Three range scans, each on the leading key column of its table: the whole
		// months, and the days before and after them.
		counts = `SELECT area_id, class, sum(n)::bigint AS n FROM (
				SELECT area_id, class, n FROM area_month_counts
				WHERE month >= $5 AND month < $6 AND ` + classWhere(2) + `
				UNION ALL
				SELECT a.area_id, c.class, c.n FROM cell_counts c JOIN area_sets s ON s.id = c.area_set CROSS JOIN unnest(s.areas) AS a(area_id)
				WHERE c.day BETWEEN $7 AND $8 AND c.area_set <> 0 AND ` + classWhere(2) + `
				UNION ALL
				SELECT a.area_id, c.class, c.n FROM cell_counts c JOIN area_sets s ON s.id = c.area_set CROSS JOIN unnest(s.areas) AS a(area_id)
				WHERE c.day BETWEEN $9 AND $10 AND c.area_set <> 0 AND ` + classWhere(2) + `
			) u GROUP BY 1, 2`
		if mFrom == nil {
			mFrom = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if mTo == nil {
			mTo = time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)
		}
		args = []any{arg, mask, kinds, sources, mFrom, mTo, d1From, d1To, d2From, d2To}
	}
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
