package synth

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
)

func TestWriteDir(t *testing.T) {
	const rows = 20000
	dirA, dirB, dirC := t.TempDir(), t.TempDir(), t.TempDir()
	fa, err := WriteDir(dirA, newGen(t, 77, rows, 2))
	if err != nil {
		t.Fatal(err)
	}
	if fa.Rows != rows {
		t.Errorf("wrote %d rows, want %d", fa.Rows, rows)
	}
	if _, err := WriteDir(dirB, newGen(t, 77, rows, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDir(dirC, newGen(t, 78, rows, 2)); err != nil {
		t.Fatal(err)
	}
	names := []string{FileIncidents, FileAreas, FilePopulation, FileTriggerEvents, FileTruth}
	for _, name := range names {
		a, errA := os.ReadFile(filepath.Join(dirA, name))
		b, errB := os.ReadFile(filepath.Join(dirB, name))
		c, errC := os.ReadFile(filepath.Join(dirC, name))
		if errA != nil || errB != nil || errC != nil {
			t.Fatal(errA, errB, errC)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s is the same for different seeds", name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dirA, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// incidents.csv.gz: the project's layout, every row valid.
	fh, err := os.Open(fa.Incidents)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(zr)
	header, err := cr.Read()
	if err != nil || !slices.Equal(header, geo.Columns) {
		t.Fatalf("header %v (%v), want %v", header, err, geo.Columns)
	}
	refs := map[string]bool{}
	n := 0
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		refs[row[0]+":"+row[1]] = true
		n++
	}
	if n != rows || len(refs) != rows {
		t.Errorf("%d rows, %d distinct source:source_ref, want %d", n, len(refs), rows)
	}

	// truth.json: every ref is a written row.
	var spikes []Spike
	b, _ := os.ReadFile(fa.Truth)
	if err := json.Unmarshal(b, &spikes); err != nil {
		t.Fatal(err)
	}
	if len(spikes) == 0 {
		t.Fatal("no spikes in truth.json")
	}
	for _, sp := range spikes {
		if sp.Start.IsZero() || sp.End.Before(sp.Start) || sp.Event.Description == "" || len(sp.Strands) == 0 || len(sp.Areas) == 0 {
			t.Errorf("spike %+v is incomplete", sp)
		}
		if len(sp.Refs) != sp.Injected || sp.Injected == 0 {
			t.Errorf("%s: %d refs, %d injected", sp.ID, len(sp.Refs), sp.Injected)
		}
		for _, r := range sp.Refs {
			if !refs[r] {
				t.Fatalf("%s: ref %s is not among the written rows", sp.ID, r)
			}
		}
	}
	if !strings.Contains(string(b), `"radius_m"`) || !strings.Contains(string(b), "\n  {") {
		t.Errorf("truth.json is not indented snake_case JSON: %.200s", b)
	}

	// areas.geojson: both levels, with the four properties.
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
			Geometry   struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	b, _ = os.ReadFile(fa.Areas)
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	areas := newGen(t, 77, rows, 2).Areas()
	if fc.Type != "FeatureCollection" || len(fc.Features) != len(areas) {
		t.Fatalf("%s with %d features, want %d", fc.Type, len(fc.Features), len(areas))
	}
	for i, f := range fc.Features {
		a := areas[i]
		p := f.Properties
		if f.Type != "Feature" || f.Geometry.Type != "Polygon" || p["code"] != a.Code || p["name"] != a.Name || p["level"] != a.Level || p["population"] != float64(a.Population) {
			t.Fatalf("feature %d: %v, want %+v", i, p, a)
		}
		for k, pt := range f.Geometry.Coordinates[0] {
			if pt != [2]float64(a.Polygon[0][k]) {
				t.Fatalf("feature %d point %d: %v, want %v", i, k, pt, a.Polygon[0][k])
			}
		}
	}

	// population.csv: UK style thousands, quoted.
	b, _ = os.ReadFile(fa.Population)
	if !strings.HasPrefix(string(b), "code,name,level,population\n") {
		t.Errorf("population.csv starts %.60q", b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != len(areas)+1 {
		t.Fatalf("population.csv: %d records, %v", len(recs), err)
	}
	for i, a := range areas {
		got := recs[i+1]
		if got[0] != a.Code || got[1] != a.Name || got[2] != a.Level {
			t.Fatalf("population row %v, want %+v", got, a)
		}
		if v, err := strconv.Atoi(strings.ReplaceAll(got[3], ",", "")); err != nil || v != a.Population {
			t.Fatalf("population %q, want %d", got[3], a.Population)
		}
		if a.Population > 999 && (!strings.Contains(got[3], ",") || !strings.Contains(string(b), `"`+got[3]+`"`)) {
			t.Fatalf("population %q is not written like \"1,296\"", got[3])
		}
	}

	// trigger-events.csv.
	b, _ = os.ReadFile(fa.TriggerEvents)
	recs, err = csv.NewReader(bytes.NewReader(b)).ReadAll()
	events := newGen(t, 77, rows, 2).Events()
	if err != nil || len(recs) != len(events)+1 || !slices.Equal(recs[0], []string{"date", "scope", "description", "strands"}) {
		t.Fatalf("trigger-events.csv: %v, %v", recs, err)
	}
	for i, e := range events {
		if want := []string{e.Date.Format("2006-01-02"), e.Scope, e.Description, strings.Join(e.Strands, ";")}; !slices.Equal(recs[i+1], want) {
			t.Errorf("event row %v, want %v", recs[i+1], want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1296: "1,296", 17345: "17,345", 290000: "290,000", 1234567: "1,234,567", -1296: "-1,296"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
