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
