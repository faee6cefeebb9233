package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/geo/synth"
)

// TestIngestHostileCorpus loads every file of the hostile corpus through the CLI
// ingest: each bad record is rejected with its line, field and reason (or the input
// ends with a clear error), and the good records of the same file are stored.
func TestIngestHostileCorpus(t *testing.T) {
	c := newCLI(t)
	areas := writeFile(t, "areas.geojson", synth.HostileAreas, false)
	if code, out, errOut := c.run("areas", "import", areas, "--level", "beat", "--code-field", "code", "--name-field", "name"); code != 0 {
		t.Fatalf("areas import: exit %d %s %s", code, out, errOut)
	}
	db := c.db()
	for _, f := range synth.HostileCorpus() {
		t.Run(f.Name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, f.Name)
			if err := os.WriteFile(path, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
			rejects := filepath.Join(dir, "rejects.csv")
			args := []string{"ingest", path, "--json", "--allow-rejects", "--reject-file", rejects}
			if f.Limits.Decompressed > 0 {
				args = append(args, "--max-decompressed", strconv.FormatInt(f.Limits.Decompressed, 10))
			}
			code, out, errOut := c.run(args...)
			if f.Fatal != "" {
				if code == 0 || !strings.Contains(errOut, f.Fatal) {
					t.Errorf("exit %d, stderr %q; want a failure saying %q", code, errOut, f.Fatal)
				}
			} else if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			rf, err := os.Open(rejects)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(rf).ReadAll()
			rf.Close()
			if err != nil {
				t.Fatal(err)
			}
			rows = rows[1:]
			if len(rows) != len(f.Rejects) {
				t.Errorf("%d rejects, want %d: %v", len(rows), len(f.Rejects), rows)
			}
			for i, want := range f.Rejects {
				if i >= len(rows) {
					break
				}
				got := rows[i]
				if got[1] != strconv.Itoa(want.Line) || got[3] != want.Field || !strings.Contains(got[4], want.Reason) {
					t.Errorf("reject %d: line %s, field %q, reason %q; want line %d, field %q, a reason with %q",
						i, got[1], got[3], got[4], want.Line, want.Field, want.Reason)
				}
			}
			prefix := f.Stored[0][:strings.Index(f.Stored[0], "-")+1]
			var stored, all int64
			err = db.Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE source_ref = ANY($1)), count(*)
				FROM incidents WHERE starts_with(source_ref, $2)`, f.Stored, prefix).Scan(&stored, &all)
			if err != nil {
				t.Fatal(err)
			}
			if stored != int64(len(f.Stored)) || all != stored {
				t.Errorf("%d of the good records %v stored, and %d records in all; want all of them and no other", stored, f.Stored, all)
			}
			if f.Fatal != "" {
				return
			}
			var sum struct {
				Files []struct {
					Duplicates int `json:"duplicates"`
					Outside    int `json:"outside_areas"`
					Swapped    int `json:"outside_areas_swapped"`
				} `json:"files"`
			}
			if err := json.Unmarshal([]byte(out), &sum); err != nil || len(sum.Files) != 1 {
				t.Fatalf("summary %q: %v", out, err)
			}
			if s := sum.Files[0]; s.Duplicates != f.Duplicates || s.Outside != f.Outside || s.Swapped != f.Swapped {
				t.Errorf("duplicates %d, outside %d, swapped %d; want %d, %d, %d", s.Duplicates, s.Outside, s.Swapped, f.Duplicates, f.Outside, f.Swapped)
			}
			if f.Swapped > 0 {
				_, text, _ := c.run("ingest", path)
				want := strconv.Itoa(f.Outside) + " points fall outside every imported area; " + strconv.Itoa(f.Swapped) +
					" of them would fall inside if latitude and longitude were swapped"
				if !strings.Contains(text, want) {
					t.Errorf("text summary lacks %q:\n%s", want, text)
				}
			}
		})
	}
}
