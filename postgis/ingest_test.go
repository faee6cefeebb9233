package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/uber/h3-go/v4"
)

func TestMigrateIsIdempotent(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Errorf("second Migrate applied %v, want nothing", applied)
	}
	pending, err := db.Pending(ctx)
	if err != nil || len(pending) != 0 {
		t.Errorf("Pending = %v, %v; want none", pending, err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestH3ParentInSQLMatchesH3(t *testing.T) {
	db := openDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		lat, lon := rng.Float64()*170-85, rng.Float64()*360-180
		res := rng.IntN(16)
		cell := h3.LatLngToCell(h3.NewLatLng(lat, lon), res)
		for r := 0; r <= res; r++ {
			var got int64
			var gotRes int
			if err := db.Pool.QueryRow(context.Background(), "SELECT h3_parent($1, $2), h3_res($1)", int64(cell), r).Scan(&got, &gotRes); err != nil {
				t.Fatal(err)
			}
			if want := int64(cell.Parent(r)); got != want {
				t.Fatalf("h3_parent(%s, %d) = %x, want %x", cell, r, got, want)
			}
			if gotRes != res {
				t.Fatalf("h3_res(%s) = %d, want %d", cell, gotRes, res)
			}
		}
	}
}

// TestIngestDemo loads a synthetic town and checks the counts, the roll-ups against a
// GROUP BY over the incidents, the area attribution against PostGIS, and that a
// second run stores nothing.
func TestIngestDemo(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})

	sum, err := p.ingest(ctx, t, g.Reader(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 6000 || sum.Inserted != 6000 || sum.Rejected != 0 || sum.Duplicates != 0 {
		t.Fatalf("first run: %s; want 6000 read and inserted", sum)
	}
	if got := count(t, db, "SELECT count(*) FROM incidents"); got != 6000 {
		t.Errorf("incidents: got %d, want 6000", got)
	}
	if got := count(t, db, "SELECT count(*) FROM incidents WHERE precision IN ('online', 'none')"); got != int64(sum.Unlocated) {
		t.Errorf("unlocated: summary says %d, table holds %d", sum.Unlocated, got)
	}
	if got := count(t, db, "SELECT count(*) FROM incidents WHERE victim_key IS NOT NULL AND victim_key LIKE 'V-%'"); got != 0 {
		t.Errorf("%d raw victim references stored", got)
	}
	checkRollups(t, db, geo.DefaultResolutions)
	checkAttribution(t, db)

	again, err := p.ingest(ctx, t, g.Reader(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if again.Inserted != 0 || again.Duplicates != 6000 {
		t.Errorf("second run: %s; want 0 inserted, 6000 duplicates", again)
	}
	if got := count(t, db, "SELECT count(*) FROM incidents"); got != 6000 {
		t.Errorf("after the second run: %d incidents, want 6000", got)
	}
	checkRollups(t, db, geo.DefaultResolutions)

	// A rebuild from the incidents gives the same roll-ups.
	if err := db.RebuildRollups(ctx, geo.DefaultResolutions); err != nil {
		t.Fatal(err)
	}
	checkRollups(t, db, geo.DefaultResolutions)

	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Incidents != 6000 || st.Located != int64(6000-sum.Unlocated) || st.AreasByLevel["lsoa"] == 0 || st.AreasByLevel["ward"] == 0 {
		t.Errorf("stats: %+v", st)
	}
}

// TestAreasImportedAfterIncidents checks that importing boundaries re-attributes the
// incidents already stored.
func TestAreasImportedAfterIncidents(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 3000)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 500); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, "SELECT count(*) FROM incidents WHERE areas <> '{}'"); got != 0 {
		t.Fatalf("%d incidents attributed before any area exists", got)
	}
	areas := importDemoAreas(t, db, g)
	if got := count(t, db, "SELECT count(*) FROM incidents WHERE areas <> '{}'"); got == 0 {
		t.Fatal("no incident attributed after importing areas")
	}
	checkAttribution(t, db)
	checkRollups(t, db, geo.DefaultResolutions)

	// Re-importing the same boundaries changes nothing; importing one area moved
	// re-attributes its incidents.
	res, err := db.ImportAreas(ctx, areas)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Updated != len(areas) || res.Reattributed != 0 {
		t.Errorf("re-import: %+v; want %d updated, none re-attributed", res, len(areas))
	}
	moved := areas[0]
	moved.Geometry = moved.Geometry.Clone()
	for i := range moved.Geometry[0][0] {
		moved.Geometry[0][0][i][0] += 0.02
	}
	res, err = db.ImportAreas(ctx, []geo.Area{moved})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reattributed == 0 {
		t.Error("moving an area re-attributed no incident")
	}
	checkAttribution(t, db)
	checkRollups(t, db, geo.DefaultResolutions)
}

// TestRejectedRowsAndReasons checks that bad rows are counted by field and the good
// ones stored.
func TestRejectedRowsAndReasons(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	p := newPipeline(t, db, geo.Defaults{})
	csv := strings.Join([]string{
		"source,source_ref,kind,strands,occurred,lat,lon,precision",
		"police,A1,crime,race,2025-03-01,52.04,-0.76,exact",
		"police,A2,crime,race,2025-03-01,91.5,-0.76,exact",     // lat out of range
		"police,A3,crime,astrology,2025-03-01,52.04,-0.76,",    // unknown strand
		"police,A4,crime,religion,2031-01-01,52.04,-0.76,",     // future
		"police,A5,burglary,race,2025-03-01,52.04,-0.76,",      // kind
		"police,A6,incident,race;religion,2025-03-02,,,online", // online: kept
		`police,A7,crime,"race,disability",2025-03-02,52.041,-0.761,street`,
		"police,A8,crime,race,2025-03-01,52.04", // too few fields
	}, "\r\n")
	r, err := geo.NewReader(strings.NewReader(csv), geo.ReaderOptions{Format: geo.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.ingest(ctx, t, r, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"lat": 1, "strands": 1, "occurred": 1, "kind": 1, "record": 1}
	if fmt.Sprint(sum.RejectedBy) != fmt.Sprint(want) {
		t.Errorf("rejected by field: got %v, want %v", sum.RejectedBy, want)
	}
	if !strings.Contains(sum.Examples["lat"], "line 3") || !strings.Contains(sum.Examples["lat"], "91.5") {
		t.Errorf("lat example %q does not name the line and value", sum.Examples["lat"])
	}
	if sum.Inserted != 3 || sum.Unlocated != 1 {
		t.Errorf("got %s; want 3 inserted, 1 unlocated", sum)
	}
	if got := count(t, db, "SELECT sum(n) FROM day_counts"); got != 3 {
		t.Errorf("day totals: got %d, want 3 (the online report counts)", got)
	}
	checkRollups(t, db, geo.DefaultResolutions)
}

// cancelAfter is a reader that cancels the ingest's context once it has handed out n
// records, as an operator's Ctrl-C or a killed process would stop it.
type cancelAfter struct {
	geo.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Next() (*geo.RawIncident, error) {
	if c.n == 0 {
		c.cancel()
		time.Sleep(50 * time.Millisecond)
	}
	c.n--
	return c.Reader.Next()
}

// TestInterruptedIngestResumes stops an ingest part way and checks that whole
// batches were stored, that a rerun completes the load, and that the result equals
// an uninterrupted load.
func TestInterruptedIngestResumes(t *testing.T) {
	db := openDB(t)
	g := demo(t, 8000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	ctx, cancel := context.WithCancel(context.Background())
	_, err := p.ingest(ctx, t, &cancelAfter{Reader: g.Reader(), n: 4500, cancel: cancel}, 1000)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted ingest returned %v, want context.Canceled", err)
	}
	stored := count(t, db, "SELECT count(*) FROM incidents")
	if stored%1000 != 0 || stored > 4500 {
		t.Errorf("after the interruption %d incidents are stored; want whole batches of 1000, at most 4500", stored)
	}
	if got := count(t, db, "SELECT coalesce(sum(n), 0) FROM day_counts"); got != stored {
		t.Errorf("roll-ups count %d incidents, the table holds %d", got, stored)
	}
	sum, err := p.ingest(context.Background(), t, g.Reader(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if int64(sum.Duplicates) != stored || sum.Inserted != 8000-int(stored) {
		t.Errorf("rerun: %s; want %d duplicates and the rest inserted", sum, stored)
	}
	checkRollups(t, db, geo.DefaultResolutions)

	clean := openDB(t)
	importDemoAreas(t, clean, g)
	if _, err := newPipeline(t, clean, geo.Defaults{}).ingest(context.Background(), t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM incidents",
		"SELECT sum(n * (1 + (cell % 7)))::bigint FROM cell_day_counts",
		"SELECT sum(n * area_id)::bigint FROM area_counts",
	} {
		if a, b := count(t, db, q), count(t, clean, q); a != b {
			t.Errorf("%s: resumed load %d, clean load %d", q, a, b)
		}
	}
}

// TestConcurrentIngests runs two overlapping loads at once: every incident is stored
// and counted once.
func TestConcurrentIngests(t *testing.T) {
	db := openDB(t)
	g := demo(t, 5000)
	importDemoAreas(t, db, g)
	var wg sync.WaitGroup
	var sums [2]geo.Summary
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := newPipeline(t, db, geo.Defaults{}).ingest(context.Background(), t, g.Reader(), 700)
			if err != nil {
				t.Error(err)
			}
			sums[i] = s
		}()
	}
	wg.Wait()
	if got := sums[0].Inserted + sums[1].Inserted; got != 5000 {
		t.Errorf("inserted %d + %d, want 5000 in all", sums[0].Inserted, sums[1].Inserted)
	}
	checkRollups(t, db, geo.DefaultResolutions)
}

// TestIngestOneStoreAtATime ingests with one batch stored at a time while two more
// are prepared, as the command line does, in batches that ramp up to their size,
// then the same reports again (every batch on the conflict path, nothing new): the
// roll-ups equal fresh counts of the incidents throughout.
func TestIngestOneStoreAtATime(t *testing.T) {
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	p.stores, p.writers = 1, 3
	for round, want := range []int{6000, 0} {
		sum, err := p.ingest(context.Background(), t, g.Reader(), 4096)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Inserted != want || sum.Inserted+sum.Duplicates != 6000 {
			t.Errorf("round %d: inserted %d and %d duplicates, want %d inserted of 6000", round, sum.Inserted, sum.Duplicates, want)
		}
		checkRollups(t, db, geo.DefaultResolutions)
	}
}

func TestCellCountsFilters(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 4000)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	vocab, err := db.LoadVocab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from := testEnd.AddDate(0, -6, 0)
	filters := []geo.Filter{
		{},
		{Strands: []string{"religion"}},
		{Strands: []string{"race", "disability"}, Kinds: []geo.Kind{geo.KindIncident}},
		{Sources: []string{"third_party", "anonymous"}, From: from},
		{From: from, To: testEnd.AddDate(0, -1, 0), Kinds: []geo.Kind{geo.KindCrime}},
	}
	for _, f := range filters {
		for _, res := range []int{6, 8, 10} {
			t.Run(fmt.Sprintf("%+v/res%d", f, res), func(t *testing.T) {
				got, err := db.CellCounts(ctx, res, f)
				if err != nil {
					t.Fatal(err)
				}
				want := expectedCellCounts(t, db, vocab, res, f)
				if len(got) != len(want) {
					t.Fatalf("got %d cells, want %d", len(got), len(want))
				}
				for _, c := range got {
					if w := want[c.Cell]; w != c.Count {
						t.Fatalf("cell %x: got %d, want %d", c.Cell, c.Count, w)
					}
					sumKinds := c.Crimes + c.Incidents
					if sumKinds != c.Count {
						t.Fatalf("cell %x: crimes %d + incidents %d != count %d", c.Cell, c.Crimes, c.Incidents, c.Count)
					}
				}
			})
		}
	}
	if _, err := db.CellCounts(ctx, 8, geo.Filter{Strands: []string{"astrology"}}); geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("unknown strand: got %v, want EINVALID", err)
	}
}

// expectedCellCounts counts incidents matching f per cell at res, straight from the
// incidents table with the cell arithmetic of h3-go.
func expectedCellCounts(tb testing.TB, db *postgis.DB, vocab *postgis.Vocab, res int, f geo.Filter) map[uint64]int {
	tb.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT cell, occurred_from, kind, source_id, strands, lat, lon FROM incidents WHERE cell IS NOT NULL`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[uint64]int{}
	for rows.Next() {
		var cell, strands int64
		var day time.Time
		var kind, source int16
		var lat, lon float64
		if err := rows.Scan(&cell, &day, &kind, &source, &strands, &lat, &lon); err != nil {
			tb.Fatal(err)
		}
		c := h3.Cell(cell)
		if c.Resolution() < res || (!f.From.IsZero() && day.Before(f.From)) || (!f.To.IsZero() && day.After(f.To)) {
			continue
		}
		if len(f.Strands) > 0 && strands&vocab.Mask(f.Strands) == 0 {
			continue
		}
		if len(f.Kinds) > 0 && !containsKind(f.Kinds, kind) {
			continue
		}
		if len(f.Sources) > 0 {
			ids, _ := vocab.SourceIDs(f.Sources)
			found := false
			for _, id := range ids {
				found = found || id == source
			}
			if !found {
				continue
			}
		}
		// The cell that contains the place at res, by the H3 library.
		out[uint64(h3.LatLngToCell(h3.NewLatLng(lat, lon), res))]++
	}
	return out
}

func containsKind(ks []geo.Kind, code int16) bool {
	for _, k := range ks {
		if (k == geo.KindIncident) == (code == 1) {
			return true
		}
	}
	return false
}

// checkRollups compares every roll-up with what a GROUP BY over the incidents gives,
// computing cell parents with h3-go rather than the database's functions.
func checkRollups(tb testing.TB, db *postgis.DB, resolutions []int) {
	tb.Helper()
	ctx := context.Background()
	type cellKey struct {
		res   int
		cell  uint64
		day   string
		class int64
	}
	type areaKey struct {
		area  int32
		day   string
		class int64
	}
	type dayKey struct {
		day   string
		class int64
	}
	wantCells, wantAreas, wantDays, wantLocated := map[cellKey]int64{}, map[areaKey]int64{}, map[dayKey]int64{}, map[dayKey]int64{}
	rows, err := db.Pool.Query(ctx, `SELECT occurred_from::text, kind, source_id, strands, coalesce(cell, 0), areas,
		coalesce(lat, 0), coalesce(lon, 0) FROM incidents`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var day string
		var kind, source int16
		var strands, cell int64
		var areas []int32
		var lat, lon float64
		if err := rows.Scan(&day, &kind, &source, &strands, &cell, &areas, &lat, &lon); err != nil {
			tb.Fatal(err)
		}
		class := int64(kind)<<62 | int64(source)<<48 | strands
		wantDays[dayKey{day, class}]++
		located := false
		if cell != 0 {
			c := h3.Cell(cell)
			for _, r := range resolutions {
				if r <= c.Resolution() {
					// The cell that contains the place at r, by the H3 library itself.
					wantCells[cellKey{r, uint64(h3.LatLngToCell(h3.NewLatLng(lat, lon), r)), day, class}]++
					located = true
				}
			}
		}
		if located {
			wantLocated[dayKey{day, class}]++
		}
		for _, a := range areas {
			wantAreas[areaKey{a, day, class}]++
		}
	}
	if rows.Err() != nil {
		tb.Fatal(rows.Err())
	}
	gotCells := map[cellKey]int64{}
	rows, _ = db.Pool.Query(ctx, `SELECT res, cell, day::text, (kind::bigint << 62) | (source_id::bigint << 48) | strands, sum(n)
		FROM cell_counts_by_res GROUP BY 1, 2, 3, 4`)
	for rows.Next() {
		var k cellKey
		var cell, n int64
		if err := rows.Scan(&k.res, &cell, &k.day, &k.class, &n); err != nil {
			tb.Fatal(err)
		}
		k.cell = uint64(cell)
		gotCells[k] = n
	}
	compareMaps(tb, "cell roll-ups", gotCells, wantCells)
	// The monthly and yearly cell counts: the same reports, by the month and the
	// year of their day; the yearly counts by strands by their class's strands alone.
	for _, p := range []struct {
		table, col, what, class string
		maxRes                  int
	}{
		{"cell_month_counts", "month", "monthly cell roll-ups", "class", postgis.MonthMaxRes},
		{"cell_year_counts", "year", "yearly cell roll-ups", "class", postgis.YearClassMaxRes},
		{"cell_year_strands", "year", "yearly cell counts by strands", "class", postgis.YearMaxRes}} {
		want := map[cellKey]int64{}
		for k, n := range wantCells {
			if k.res > p.maxRes {
				continue // finer cells' periods are read from the incidents
			}
			if p.col == "month" {
				k.day = k.day[:8] + "01"
			} else {
				k.day = k.day[:5] + "01-01"
			}
			if p.table == "cell_year_strands" {
				k.class &= 1<<48 - 1 // the strands alone
			}
			want[k] += n
		}
		got := map[cellKey]int64{}
		rows, _ = db.Pool.Query(ctx, `SELECT res, cell, `+p.col+`::text, `+p.class+`, sum(n) FROM `+p.table+` GROUP BY 1, 2, 3, 4`)
		for rows.Next() {
			var k cellKey
			var cell, n int64
			if err := rows.Scan(&k.res, &cell, &k.day, &k.class, &n); err != nil {
				tb.Fatal(err)
			}
			k.cell = uint64(cell)
			got[k] = n
		}
		if rows.Err() != nil {
			tb.Fatal(rows.Err())
		}
		compareMaps(tb, p.what, got, want)
	}
	gotAreas := map[areaKey]int64{}
	rows, _ = db.Pool.Query(ctx, `SELECT area_id, day::text, class, n FROM area_counts`)
	for rows.Next() {
		var k areaKey
		var n int64
		if err := rows.Scan(&k.area, &k.day, &k.class, &n); err != nil {
			tb.Fatal(err)
		}
		gotAreas[k] = n
	}
	compareMaps(tb, "area roll-ups", gotAreas, wantAreas)
	wantMonths := map[areaKey]int64{}
	for k, n := range wantAreas {
		wantMonths[areaKey{k.area, k.day[:8] + "01", k.class}] += n
	}
	// The tree of area counts: each month's counts in every node that holds it.
	classIdx := map[int64]int32{}
	rows, _ = db.Pool.Query(ctx, `SELECT idx, class FROM rollup_classes`)
	for rows.Next() {
		var idx int32
		var class int64
		if err := rows.Scan(&idx, &class); err != nil {
			tb.Fatal(err)
		}
		classIdx[class] = idx
	}
	type treeKey struct{ area, node, idx int32 }
	wantTree := map[treeKey]int64{}
	for k, n := range wantMonths {
		month, err := time.Parse(time.DateOnly, k.day)
		if err != nil {
			tb.Fatal(err)
		}
		idx, ok := classIdx[k.class]
		if !ok {
			tb.Fatalf("class %x has no index in rollup_classes", k.class)
		}
		i := (month.Year()-1900)*12 + int(month.Month())
		for j := i; j <= 4096; j += j & -j {
			wantTree[treeKey{int32(k.area), int32(j), idx}] += n
		}
	}
	gotTree := map[treeKey]int64{}
	rows, _ = db.Pool.Query(ctx, `SELECT area_id, node, v.i::integer, v.n FROM area_prefix_counts CROSS JOIN unnest(counts) WITH ORDINALITY AS v(n, i) WHERE v.n <> 0`)
	for rows.Next() {
		var k treeKey
		var n int64
		if err := rows.Scan(&k.area, &k.node, &k.idx, &n); err != nil {
			tb.Fatal(err)
		}
		gotTree[k] += n // a key may have several rows until they are merged
	}
	compareMaps(tb, "tree of area counts", gotTree, wantTree)
	gotDays, gotLocated := map[dayKey]int64{}, map[dayKey]int64{}
	rows, _ = db.Pool.Query(ctx, `SELECT day::text, class, sum(n), sum(located) FROM day_counts GROUP BY 1, 2`)
	for rows.Next() {
		var k dayKey
		var n, located int64
		if err := rows.Scan(&k.day, &k.class, &n, &located); err != nil {
			tb.Fatal(err)
		}
		gotDays[k] = n
		if located > 0 {
			gotLocated[k] = located
		}
	}
	compareMaps(tb, "day roll-ups", gotDays, wantDays)
	compareMaps(tb, "located day roll-ups", gotLocated, wantLocated)
}

func compareMaps[K comparable](tb testing.TB, what string, got, want map[K]int64) {
	tb.Helper()
	bad := 0
	for k, w := range want {
		if g := got[k]; g != w {
			if bad < 5 {
				tb.Errorf("%s %+v: got %d, want %d", what, k, g, w)
			}
			bad++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			if bad < 5 {
				tb.Errorf("%s %+v: got %d, want none", what, k, g)
			}
			bad++
		}
	}
	if bad > 0 {
		tb.Errorf("%s: %d keys differ of %d expected", what, bad, len(want))
	}
}

// checkAttribution compares the areas stored on each incident with PostGIS's
// ST_Intersects over the stored boundaries.
func checkAttribution(tb testing.TB, db *postgis.DB) {
	tb.Helper()
	n := count(tb, db, `SELECT count(*) FROM incidents i WHERE lon IS NOT NULL AND areas IS DISTINCT FROM
		(SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}') FROM areas a WHERE ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)))`)
	if n != 0 {
		tb.Errorf("%d incidents are attributed to other areas than PostGIS finds", n)
	}
	if located := count(tb, db, "SELECT count(*) FROM incidents WHERE lon IS NOT NULL"); located == 0 {
		tb.Error("no located incidents to check")
	}
}

var _ io.Reader = (*strings.Reader)(nil)
