package postgis_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

var h3WriteInputs = flag.Bool("write-h3-inputs", false,
	"write the demo's points to testdata/reference/h3/points.csv for scripts/h3-reference.sh")

const h3RefDir = "../testdata/reference/h3"

// demoPoint is a generated report's place as the file gives it, and the finest
// resolution its precision supports.
type demoPoint struct {
	lat, lon string
	maxRes   int
}

// demoPoints reads the places of the generator's records, as written (text).
func demoPoints(tb testing.TB, r geo.Reader) []demoPoint {
	tb.Helper()
	var out []demoPoint
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if raw.Lat == "" || raw.Lon == "" {
			if raw.Easting != "" {
				tb.Fatalf("record %d is placed by easting and northing: the test wants latitude and longitude", raw.Index)
			}
			continue
		}
		res, ok := geo.DefaultPrecisionRes[geo.Precision(raw.Precision)]
		if !ok {
			continue
		}
		out = append(out, demoPoint{raw.Lat, raw.Lon, res})
	}
	return out
}

// TestCountsMatchLatLngToCell checks the map's counts at every roll-up resolution
// against the H3 library's own LatLngToCell of each generated report's place, and,
// from the reference file scripts/h3-reference.sh writes, against h3-js, an
// independent implementation: at every resolution a report counts in the cell that
// contains it.
func TestCountsMatchLatLngToCell(t *testing.T) {
	ctx := context.Background()
	g := demo(t, 4000)
	points := demoPoints(t, g.Reader())
	if *h3WriteInputs {
		writeH3Points(t, points)
		return
	}
	db := openDB(t)
	importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 500); err != nil {
		t.Fatal(err)
	}
	got := map[int]map[uint64]int{}
	for _, res := range geo.DefaultResolutions {
		counts, err := db.CellCounts(ctx, res, geo.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got[res] = map[uint64]int{}
		for _, c := range counts {
			got[res][c.Cell] = c.Count
		}
	}

	// The H3 library (C, through h3-go) on each point.
	want := map[int]map[uint64]int{}
	moved := map[int]int{} // reports whose cell is not the parent of their finest cell
	for _, p := range points {
		lat, err1 := strconv.ParseFloat(p.lat, 64)
		lon, err2 := strconv.ParseFloat(p.lon, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("point %s, %s: %v %v", p.lat, p.lon, err1, err2)
		}
		ll := h3.NewLatLng(lat, lon)
		finest := h3.LatLngToCell(ll, p.maxRes)
		for _, res := range geo.DefaultResolutions {
			if res > p.maxRes {
				continue
			}
			c := h3.LatLngToCell(ll, res)
			if want[res] == nil {
				want[res] = map[uint64]int{}
			}
			want[res][uint64(c)]++
			if c != finest.Parent(res) {
				moved[res]++
			}
		}
	}
	for _, res := range geo.DefaultResolutions {
		compareCounts(t, fmt.Sprintf("resolution %d against h3-go", res), got[res], want[res])
		t.Logf("resolution %d: %d cells; %d of %d reports lie outside the parent of their finest cell", res, len(want[res]), moved[res], len(points))
	}
	if moved[8] == 0 {
		t.Errorf("no report lies outside the parent of its finest cell at resolution 8: the test cannot tell the two apart")
	}

	// h3-js on the same points, from the reference file.
	js := readH3Cells(t, len(points))
	for _, res := range geo.DefaultResolutions {
		compareCounts(t, fmt.Sprintf("resolution %d against h3-js", res), got[res], js[res])
	}
}

func compareCounts(t *testing.T, what string, got, want map[uint64]int) {
	t.Helper()
	bad := 0
	for c, n := range want {
		if got[c] != n {
			if bad < 5 {
				t.Errorf("%s: cell %s counts %d, want %d", what, geo.CellString(c), got[c], n)
			}
			bad++
		}
	}
	for c, n := range got {
		if _, ok := want[c]; !ok {
			if bad < 5 {
				t.Errorf("%s: cell %s counts %d, want none", what, geo.CellString(c), n)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d cells differ", what, bad, len(want))
	}
}

func writeH3Points(t *testing.T, points []demoPoint) {
	if err := os.MkdirAll(h3RefDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("lat,lon,max_res\n")
	for _, p := range points {
		fmt.Fprintf(&b, "%s,%s,%d\n", p.lat, p.lon, p.maxRes)
	}
	if err := os.WriteFile(filepath.Join(h3RefDir, "points.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d points", len(points))
}

// readH3Cells reads the counts by resolution and cell h3-js gave for points.csv.
func readH3Cells(t *testing.T, points int) map[int]map[uint64]int {
	t.Helper()
	f, err := os.Open(filepath.Join(h3RefDir, "cells.csv"))
	if err != nil {
		t.Fatalf("%v: run scripts/h3-reference.sh", err)
	}
	defer f.Close()
	out := map[int]map[uint64]int{}
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	line := 0
	seen := map[int]bool{}
	for sc.Scan() {
		line++
		if line == 1 {
			continue // header: point,res,cell
		}
		fs := strings.Split(sc.Text(), ",")
		if len(fs) != 3 {
			t.Fatalf("cells.csv line %d: want point,res,cell", line)
		}
		i, err1 := strconv.Atoi(fs[0])
		res, err2 := strconv.Atoi(fs[1])
		cell, err3 := strconv.ParseUint(fs[2], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("cells.csv line %d: %v %v %v", line, err1, err2, err3)
		}
		seen[i] = true
		if out[res] == nil {
			out[res] = map[uint64]int{}
		}
		out[res][cell]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != points {
		t.Fatalf("cells.csv places %d points, the demo %d: run scripts/h3-reference.sh again", len(seen), points)
	}
	return out
}

// TestStoredIncidentsGetTheirCells puts a database in the state migration 0013 leaves
// one with incidents stored before it (no cells, no cell roll-ups, a setting saying
// so) and checks that migrating computes every incident's cells and the roll-ups.
func TestStoredIncidentsGetTheirCells(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 3000)
	importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	want := count(t, db, "SELECT sum(n * (1 + (cell % 7)) * res)::bigint FROM cell_day_counts")
	if _, err := db.Pool.Exec(ctx, `UPDATE incidents SET cells = NULL; TRUNCATE cell_day_counts, cell_populations;
		INSERT INTO settings (key, value) VALUES ('cells_pending', 'true'), ('populations_pending', 'true')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, "SELECT sum(n * (1 + (cell % 7)) * res)::bigint FROM cell_day_counts"); got != want {
		t.Errorf("cell roll-ups after migrating: checksum %d, want %d", got, want)
	}
	if n := count(t, db, "SELECT count(*) FROM settings WHERE key IN ('cells_pending', 'populations_pending')"); n != 0 {
		t.Errorf("%d pending settings left", n)
	}
	if n := count(t, db, "SELECT count(*) FROM cell_populations"); n == 0 {
		t.Errorf("no cell populations after migrating")
	}
	checkRollups(t, db, geo.DefaultResolutions)
}

// TestTileReadsOfCells checks the reads a tile makes of its own cells: the counts of
// given cells are those CellCounts gives them, and their populations those
// geo.CellPopulation computes from the areas, stored at area import and again when
// populations change.
func TestTileReadsOfCells(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 3000)
	areas := importDemoAreas(t, db, g)
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	f := geo.Filter{Strands: []string{"race"}}
	for _, res := range geo.DefaultResolutions {
		all, err := db.CellCounts(ctx, res, f)
		if err != nil {
			t.Fatal(err)
		}
		// Every third cell with reports, and a cell with none.
		var cells []uint64
		want := map[uint64]int{}
		for i, c := range all {
			if i%3 == 0 {
				cells = append(cells, c.Cell)
				want[c.Cell] = c.Count
			}
		}
		empty := uint64(h3.LatLngToCell(h3.NewLatLng(51.5, -0.1), res)) // London, outside the town
		cells = append(cells, empty)
		got, err := db.CellCountsIn(ctx, res, cells, f)
		if err != nil {
			t.Fatal(err)
		}
		gotMap := map[uint64]int{}
		for _, c := range got {
			gotMap[c.Cell] = c.Count
		}
		compareCounts(t, fmt.Sprintf("resolution %d, given cells", res), gotMap, want)

		pops := geo.CellPopulation(areas, res)
		var popCells []uint64
		for c := range pops {
			popCells = append(popCells, c)
		}
		stored, err := db.CellPopulations(ctx, res, append(popCells, empty))
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(pops) {
			t.Errorf("resolution %d: %d cells with a stored population, want %d", res, len(stored), len(pops))
		}
		for c, p := range pops {
			if d := stored[c] - p; d > 1e-6 || d < -1e-6 {
				t.Errorf("resolution %d, cell %s: stored population %.3f, want %.3f", res, geo.CellString(c), stored[c], p)
				break
			}
		}
	}
	// Populations doubled: the stored ones follow.
	doubled := map[string]int{}
	for code, n := range g.Populations() {
		doubled[code] = 2 * n
	}
	if _, err := db.SetPopulation(ctx, doubled); err != nil {
		t.Fatal(err)
	}
	areas, err := db.LoadAreas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := db.AllCellPopulations(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	for c, p := range geo.CellPopulation(areas, 8) {
		if d := all[c] - p; d > 1e-6 || d < -1e-6 {
			t.Fatalf("after new populations, cell %s: stored %.3f, want %.3f", geo.CellString(c), all[c], p)
		}
	}
}

// TestChangedCells checks what a change of the data version says it touched: an
// ingest batch, the cells at the coarsest resolution of its reports; a change of
// areas, everything.
func TestChangedCells(t *testing.T) {
	ctx := context.Background()
	db, g, v0 := ingestSince(t, 500)
	res, cells, complete, err := db.ChangedCells(ctx, v0)
	if err != nil {
		t.Fatal(err)
	}
	coarsest := geo.DefaultResolutions[0]
	if !complete || res != coarsest {
		t.Fatalf("after an ingest: resolution %d, complete %v; want %d, true", res, complete, coarsest)
	}
	want := map[uint64]int{}
	counts, err := db.CellCounts(ctx, coarsest, geo.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		want[c.Cell] = 1
	}
	got := map[uint64]int{}
	for _, c := range cells {
		got[c] = 1
	}
	compareCounts(t, "changed cells", got, want)

	v1, _ := db.DataVersion(ctx)
	if _, _, complete, _ := db.ChangedCells(ctx, v1); !complete {
		t.Errorf("no change since: not complete")
	}
	doubled := map[string]int{}
	for code, n := range g.Populations() {
		doubled[code] = 2 * n
	}
	if _, err := db.SetPopulation(ctx, doubled); err != nil {
		t.Fatal(err)
	}
	if _, _, complete, err := db.ChangedCells(ctx, v1); err != nil || complete {
		t.Errorf("after new populations: complete %v, %v; want everything changed", complete, err)
	}
}

// TestTouchedCells checks which cells a change of the data version says it added
// reports to: after an ingest in batches, every cell at every resolution that holds
// a count, and nothing else; none after no change; after new populations (a change
// not recorded by cell), not known.
func TestTouchedCells(t *testing.T) {
	ctx := context.Background()
	db, g, v0 := ingestSince(t, 200)
	cells, complete, err := db.TouchedCells(ctx, v0)
	if err != nil || !complete {
		t.Fatalf("after an ingest: complete %v, %v; want the cells", complete, err)
	}
	if !slices.IsSorted(cells) {
		t.Errorf("touched cells not sorted")
	}
	want, got := map[uint64]int{}, map[uint64]int{}
	for _, res := range geo.DefaultResolutions {
		counts, err := db.CellCounts(ctx, res, geo.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			want[c.Cell] = 1
		}
	}
	for _, c := range cells {
		got[c] = 1
	}
	compareCounts(t, "touched cells", got, want)

	v1, _ := db.DataVersion(ctx)
	if cells, complete, err := db.TouchedCells(ctx, v1); err != nil || !complete || len(cells) != 0 {
		t.Errorf("no change since: %d cells, complete %v, %v; want none, complete", len(cells), complete, err)
	}
	doubled := map[string]int{}
	for code, n := range g.Populations() {
		doubled[code] = 2 * n
	}
	if _, err := db.SetPopulation(ctx, doubled); err != nil {
		t.Fatal(err)
	}
	if _, complete, err := db.TouchedCells(ctx, v1); err != nil || complete {
		t.Errorf("after new populations: complete %v, %v; want not known", complete, err)
	}
}
