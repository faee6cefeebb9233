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

// TestCellReadsByPeriod checks the counts of given cells at every resolution over
// a few weeks (read through the index on days), a year and all time (through the
// index on cells) against a fresh count of the incidents' cells.
func TestCellReadsByPeriod(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 3000)
	importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	_, last, err := db.DateSpan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	periods := []geo.Filter{{From: last.AddDate(0, 0, -27), To: last}, {From: last.AddDate(-1, 0, 1), To: last}, {}}
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
		for _, f := range periods {
			lo, hi := f.From, f.To
			if lo.IsZero() {
				lo, hi = last.AddDate(-100, 0, 0), last
			}
			want := map[uint64]int{}
			rows, err := db.Pool.Query(ctx, `SELECT x.cell, count(*) FROM incidents i CROSS JOIN unnest(i.cells) AS x(cell)
				WHERE x.cell = ANY($1) AND i.occurred_from BETWEEN $2 AND $3 GROUP BY 1`, cells, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			var cell int64
			var n int
			if _, err := pgx.ForEachRow(rows, []any{&cell, &n}, func() error { want[uint64(cell)] = n; return nil }); err != nil {
				t.Fatal(err)
			}
			if f.From.IsZero() && len(want) != len(cells) {
				t.Errorf("resolution %d: %d of %d cells with reports counted afresh", res, len(want), len(cells))
			}
			got, err := db.CellCountsIn(ctx, res, ucells, f)
			if err != nil {
				t.Fatal(err)
			}
			gotMap := map[uint64]int{}
			for _, c := range got {
				gotMap[c.Cell] = c.Count
			}
			compareCounts(t, fmt.Sprintf("resolution %d, %s to %s", res, lo.Format("2 January 2006"), hi.Format("2 January 2006")), gotMap, want)
		}
	}
}

// TestCellReadPlans checks that a read of given cells at a resolution counted from
// the incidents goes through the index the service chose for its period even in a
// generic plan (the statement is prepared, and the planner then knows neither the
// period nor the cells): a few weeks through the index on days only, a long period
// through the index on cells only.
func TestCellReadPlans(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 2000)
	importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE incidents`); err != nil {
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
	cells := []int64{}
	all, err := db.CellCounts(ctx, 8, geo.Filter{})
	if err != nil || len(all) == 0 {
		t.Fatalf("cells at resolution 8: %d, %v", len(all), err)
	}
	for _, c := range all[:min(len(all), 50)] {
		cells = append(cells, int64(c.Cell))
	}
	for _, p := range []struct {
		from       time.Time
		wantBy     string
		mustNotUse []string
	}{
		{last.AddDate(0, 0, -27), "days", []string{"incidents_cells"}},
		{last.AddDate(-1, 0, 1), "cells", []string{"incidents_day", "incidents_occurred"}},
	} {
		sql, by := postgis.CellRowsQuery(8, p.from, last)
		if by != p.wantBy {
			t.Errorf("%s to %s: read by %s, want by %s", p.from.Format("2 January 2006"), last.Format("2 January 2006"), by, p.wantBy)
		}
		if _, err := conn.Exec(ctx, `DEALLOCATE ALL`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `PREPARE cell_read(integer, bigint[], date, date) AS `+sql); err != nil {
			t.Fatal(err)
		}
		// EXPLAIN takes no parameters: the values, numbers and dates, are written out.
		ids := make([]string, len(cells))
		for i, c := range cells {
			ids[i] = strconv.FormatInt(c, 10)
		}
		rows, err := conn.Query(ctx, fmt.Sprintf(`EXPLAIN EXECUTE cell_read(8, '{%s}', '%s', '%s')`,
			strings.Join(ids, ","), p.from.Format("2006-01-02"), last.Format("2006-01-02")), pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		var line string
		if _, err := pgx.ForEachRow(rows, []any{&line}, func() error { plan.WriteString(line + "\n"); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, idx := range p.mustNotUse {
			if strings.Contains(plan.String(), idx) {
				t.Errorf("read by %s: the generic plan uses %s:\n%s", by, idx, plan.String())
			}
		}
		if !strings.Contains(plan.String(), "Scan") {
			t.Errorf("read by %s: no plan:\n%s", by, plan.String())
		}
	}
}
