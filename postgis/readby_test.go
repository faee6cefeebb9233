package postgis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// TestCellReadsByPeriod checks the counts of given cells and of whole resolutions
// at every resolution against a fresh count of the incidents' cells: over a few
// weeks, a year and all time, periods that start and end mid-month across years,
// whole months, whole years, open starts and open ends, with filters by strand,
// kind and source, before and after the roll-ups are merged (the finer resolutions
// read whole years, whole months and the days at either end from three places).
func TestCellReadsByPeriod(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 3000)
	importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 200); err != nil {
		t.Fatal(err)
	}
	_, last, err := db.DateSpan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	extra := extraRows(t, db)
	if extra["cell_month_counts"] == 0 {
		t.Fatal("no monthly key has several rows before the merge: the test needs some")
	}
	if extra["cell_year_strands"] == 0 {
		t.Fatalf("no yearly count by strands has several rows before the merge: the test needs some: %v", extra)
	}
	checkCellReads(t, db, last)
	if err := db.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if extra := extraRows(t, db); extra["cell_month_counts"] != 0 || extra["cell_year_strands"] != 0 {
		t.Fatalf("rows beyond one a key after the merge: %v", extra)
	}
	checkCellReads(t, db, last)
}

func checkCellReads(t *testing.T, db *postgis.DB, last time.Time) {
	t.Helper()
	ctx := context.Background()
	y := last.Year()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	periods := []geo.Filter{
		{From: last.AddDate(0, 0, -27), To: last},
		{From: last.AddDate(-1, 0, 1), To: last},
		{},
		{From: day(y-2, 3, 17), To: day(y, 2, 11)},   // mid-month to mid-month over years
		{From: day(y-1, 1, 1), To: day(y-1, 12, 31)}, // a whole year
		{From: day(y-1, 2, 1), To: day(y-1, 4, 30)},  // whole months
		{From: day(y-1, 5, 3), To: day(y-1, 5, 20)},  // days of one month
		{From: day(y-1, 12, 20), To: day(y, 1, 10)},  // days of two months, no whole one
		{To: day(y-1, 7, 14)},                        // an open start
		{From: day(y-1, 6, 9)},                       // an open end
		{From: day(y-2, 12, 31), To: day(y, 1, 1)},   // a day, a whole year, a day
	}
	var strand, source string
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT name FROM strands ORDER BY id LIMIT 1), (SELECT name FROM sources ORDER BY id LIMIT 1)`).Scan(&strand, &source); err != nil {
		t.Fatal(err)
	}
	var strandBit int
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM strands WHERE name = $1`, strand).Scan(&strandBit); err != nil {
		t.Fatal(err)
	}
	filters := []struct {
		name string
		set  func(*geo.Filter)
		sql  string
	}{
		{"no filter", func(*geo.Filter) {}, "true"},
		{"strand " + strand, func(f *geo.Filter) { f.Strands = []string{strand} }, fmt.Sprintf("i.strands & %d <> 0", int64(1)<<strandBit)},
		{"crimes", func(f *geo.Filter) { f.Kinds = []geo.Kind{geo.KindCrime} }, "i.kind = 0"},
		{"source " + source, func(f *geo.Filter) { f.Sources = []string{source} }, "i.source_id = (SELECT id FROM sources WHERE name = '" + source + "')"},
	}
	for _, res := range geo.DefaultResolutions {
		all, err := db.CellCounts(ctx, res, geo.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var cells []int64
		var ucells []uint64
		for i, c := range all {
			if i%3 == 0 {
				cells, ucells = append(cells, int64(c.Cell)), append(ucells, c.Cell)
			}
		}
		for pi, period := range periods {
			for fi, fl := range filters {
				if fi > 0 && pi != 2 && pi != 3 && pi != 6 {
					continue // the filters over all time, across years and within a month
				}
				f := period
				fl.set(&f)
				lo, hi := f.From, f.To
				if lo.IsZero() {
					lo = last.AddDate(-100, 0, 0)
				}
				if hi.IsZero() {
					hi = last.AddDate(100, 0, 0)
				}
				what := fmt.Sprintf("resolution %d, %s to %s, %s", res, lo.Format("2 January 2006"), hi.Format("2 January 2006"), fl.name)
				for _, given := range []bool{true, false} {
					want := map[uint64]int{}
					q := `SELECT x.cell, count(*) FROM incidents i CROSS JOIN unnest(i.cells) AS x(cell)
						WHERE h3_res(x.cell) = $4 AND ($1::bigint[] IS NULL OR x.cell = ANY($1)) AND i.occurred_from BETWEEN $2 AND $3 AND ` + fl.sql + ` GROUP BY 1`
					var arg any
					if given {
						arg = cells
					}
					rows, err := db.Pool.Query(ctx, q, arg, lo, hi, res)
					if err != nil {
						t.Fatal(err)
					}
					var cell int64
					var n int
					if _, err := pgx.ForEachRow(rows, []any{&cell, &n}, func() error { want[uint64(cell)] = n; return nil }); err != nil {
						t.Fatal(err)
					}
					if given && pi == 2 && fi == 0 && len(want) != len(cells) {
						t.Errorf("%s: %d of %d cells with reports counted afresh", what, len(want), len(cells))
					}
					// By class, and the totals a tile reads (whole years from
					// cell_year_strands when no kind or source is filtered).
					for _, totals := range []bool{false, true} {
						var got []geo.CellCount
						switch {
						case given && totals:
							got, err = db.CellTotalsIn(ctx, res, ucells, f)
						case given:
							got, err = db.CellCountsIn(ctx, res, ucells, f)
						case totals:
							got, err = db.CellTotals(ctx, res, f)
						default:
							got, err = db.CellCounts(ctx, res, f)
						}
						if err != nil {
							t.Fatal(err)
						}
						gotMap := map[uint64]int{}
						for _, c := range got {
							gotMap[c.Cell] = c.Count
						}
						compareCounts(t, fmt.Sprintf("%s, given cells %v, totals %v", what, given, totals), gotMap, want)
					}
				}
			}
		}
	}
}

// TestCellReadPlans checks that a read of given cells goes where the service meant
// it to even in a generic plan (the statement is prepared, and the planner then
// knows neither the period nor the cells): at resolution 8 a few weeks from the
// incidents through the index on that resolution's cells and days, a year through
// the monthly counts' index on cells, several years through the yearly counts' too;
// at resolutions 9 and 10 (no monthly rows, no yearly rows by class) the days
// outside whole years, or every day of a read by class, through the index on that
// resolution's cells and days, never the index on days alone (which reads every
// report of the period); a tile's read of the totals over whole years, unfiltered or
// of a strand, through the index of the yearly counts by strands, at every
// resolution. The incidents' indexes answer alone (index-only scans): a read that
// fetched every report from the table cost a page a report.
func TestCellReadPlans(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 2000)
	importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	// VACUUM marks the pages all-visible, as autovacuum does after inserts: the reads
	// of the incidents are then to be answered from their cells' indexes alone.
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE incidents, cell_month_counts, cell_year_counts, cell_year_strands`); err != nil {
		t.Fatal(err)
	}
	_, last, err := db.DateSpan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `RESET plan_cache_mode`) //nolint:errcheck
	for _, res := range []int{8, 9, 10} {
		all, err := db.CellCounts(ctx, res, geo.Filter{})
		if err != nil || len(all) == 0 {
			t.Fatalf("cells at resolution %d: %d, %v", res, len(all), err)
		}
		cells := []int64{}
		for _, c := range all[:min(len(all), 50)] {
			cells = append(cells, int64(c.Cell))
		}
		incidents := fmt.Sprintf("Index Only Scan using incidents_cell%d ", res)
		for _, p := range []struct {
			from       time.Time
			read       string
			mustUse    []string
			mustNotUse []string
		}{
			{last.AddDate(0, 0, -27), "class", []string{incidents}, []string{"incidents_day", "cell_month_counts_cell"}},
			{last.AddDate(-1, 0, 1), "class", []string{"cell_month_counts_cell"}, []string{"incidents_day", "cell_year_counts_cell"}},
			{time.Date(last.Year()-2, 1, 1, 0, 0, 0, 0, time.UTC), "class", []string{"cell_year_counts_cell", "cell_month_counts_cell"}, []string{"incidents_day", "cell_year_strands_cell"}},
			// A tile's read over whole years, unfiltered or filtered by strand: the
			// counts by strands, from their index alone.
			{time.Date(last.Year()-2, 1, 1, 0, 0, 0, 0, time.UTC), "totals", []string{"Index Only Scan using cell_year_strands_cell", "cell_month_counts_cell"}, []string{"incidents_day", "cell_year_counts_cell"}},
			{time.Date(last.Year()-2, 1, 1, 0, 0, 0, 0, time.UTC), "strands", []string{"Index Only Scan using cell_year_strands_cell", "cell_month_counts_cell"}, []string{"incidents_day", "cell_year_counts_cell"}},
		} {
			if res > 8 {
				// No monthly rows: every day outside the whole years from the
				// incidents.
				p.mustUse = []string{incidents}
				p.mustNotUse = []string{"incidents_day", "cell_month_counts_cell", "Heap Scan", "Index Scan using"}
				// The totals, unfiltered or of a strand, from the rows by strands;
				// no yearly rows by class this fine: a read by class counts the whole
				// period from the incidents.
				p.mustNotUse = append(p.mustNotUse, "cell_year_counts_cell")
				if p.read == "class" || p.from.Month() != time.January || p.from.Day() != 1 {
					p.mustNotUse = append(p.mustNotUse, "cell_year_strands_cell")
				} else {
					p.mustUse = append(p.mustUse, "Index Only Scan using cell_year_strands_cell")
				}
			}
			sql, args := postgis.CellReadQuery(res, cells, p.from, last, p.read)
			if _, err := conn.Exec(ctx, `DEALLOCATE ALL`); err != nil {
				t.Fatal(err)
			}
			types := []string{"integer", "date", "date", "bigint", "smallint[]", "smallint[]", "bigint[]"}
			for len(types) < len(args) {
				types = append(types, "date")
			}
			if _, err := conn.Exec(ctx, `PREPARE cell_read(`+strings.Join(types, ", ")+`) AS `+sql); err != nil {
				t.Fatal(err)
			}
			// EXPLAIN takes no parameters: the values, numbers and dates, are written out.
			vals := make([]string, len(args))
			for i, a := range args {
				switch a := a.(type) {
				case nil:
					vals[i] = "NULL"
				case int:
					vals[i] = strconv.Itoa(a)
				case int64:
					vals[i] = strconv.FormatInt(a, 10)
				case time.Time:
					vals[i] = "'" + a.Format("2006-01-02") + "'"
				case []int64:
					ids := make([]string, len(a))
					for j, c := range a {
						ids[j] = strconv.FormatInt(c, 10)
					}
					vals[i] = "'{" + strings.Join(ids, ",") + "}'"
				default:
					t.Fatalf("value %d of type %T", i, a)
				}
			}
			rows, err := conn.Query(ctx, `EXPLAIN EXECUTE cell_read(`+strings.Join(vals, ", ")+`)`, pgx.QueryExecModeSimpleProtocol)
			if err != nil {
				t.Fatal(err)
			}
			var plan strings.Builder
			var line string
			if _, err := pgx.ForEachRow(rows, []any{&line}, func() error { plan.WriteString(line + "\n"); return nil }); err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("resolution %d, %s to %s, read %s", res, p.from.Format("2 January 2006"), last.Format("2 January 2006"), p.read)
			for _, idx := range p.mustNotUse {
				if strings.Contains(plan.String(), idx) {
					t.Errorf("%s: the generic plan uses %s:\n%s", what, idx, plan.String())
				}
			}
			for _, idx := range p.mustUse {
				if !strings.Contains(plan.String(), idx) {
					t.Errorf("%s: the generic plan does not use %s:\n%s", what, idx, plan.String())
				}
			}
		}
	}
}
