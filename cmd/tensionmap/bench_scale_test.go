package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/bench"
	"github.com/tensionmap/tensionmap/postgis/pgtest"
)

// TestBenchScaleSmall runs `bench scale` end to end on a few thousand reports with
// the real binary (which serves the load run as a child process) and checks that its
// one table holds every figure, each measured, and that it lands in the document.
func TestBenchScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a town and serves it: not in -short")
	}
	bin := binary(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "performance.md")
	if err := os.WriteFile(doc, []byte("# Performance\n\nhand-written\n\n"+bench.DocMarker+"\nold\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "bench", "scale", "--rows", "3000", "--years", "2", "--clients", "4", "--slice", "200ms",
		"--load", "1s", "--api-runs", "1", "--doc", doc)
	cmd.Env = append(os.Environ(), "TENSIONMAP_DATABASE_URL="+pgtest.ServerURL(t), "TENSIONMAP_DATA_DIR="+dir,
		"TENSIONMAP_SCAN_REPLICATES=99")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench scale: %v\n%s\n%s", err, out, stderr.String())
	}
	table := string(out)
	for _, figure := range []*regexp.Regexp{
		regexp.MustCompile(`\| ingest, whole pipeline \(file to incidents and roll-ups\) \| \d+ rows/s .*plain COPY into incidents.* \| \d+\.\d\d \| at least 0\.50 \|`),
		regexp.MustCompile(`\| ingest, whole pipeline beside an unindexed table \| \d+ rows/s \| plain COPY into an unindexed table`),
		regexp.MustCompile(`\| engine, whole run \| \d+\.\d s \|`),
		regexp.MustCompile(`\|   engine, near repeat \| \d+\.\d s \|`),
		regexp.MustCompile(`\| uncached hotspot tiles, one at a time, 28 days .* ms/tile \| ST_AsMVT: .* ms/tile \| \d+\.\dx \| at least 5x \|`),
		regexp.MustCompile(`\| first tile after new data \(a report added in it, running server, its background count of the resolution done\), z14, 2 years \| \d+ ms \| ST_AsMVT: \d+ ms \| .* \| within 2x \|`),
		regexp.MustCompile(`\| first tile after new data \(a report added in it just after the server's first tile\), z14, 2 years \| \d+ ms \| ST_AsMVT: \d+ ms \|`),
		regexp.MustCompile(`\| first tile of a new server, z14, 2 years \| \d+ ms \| ST_AsMVT: \d+ ms \|`),
		regexp.MustCompile(`\| uncached hotspot tiles, 2 years, 4 clients \| \d+ requests/s \| ST_AsMVT: \d+ requests/s \|`),
		regexp.MustCompile(`\| cached hotspot tiles, 2 years, 1 client \| \d+ requests/s \|`),
		regexp.MustCompile(`\| one cached tile \(\d+ bytes, z13\), 4 clients \| \d+ requests/s \| a handler writing the same bytes: \d+ requests/s \| \d\.\d\d \| at least 0\.7 \|`),
		regexp.MustCompile(`\| load run, 4 clients panning z10-z14, three layers, 1s \| p50 \d+ ms, p99 \d+ ms, max \d+ ms; \d+ errors of [1-9]\d* requests \|`),
		regexp.MustCompile(`\| API, GET /api/v1/areas\?level=lsoa, 3 periods x 2 filters x 2 roles, 12 calls \| p50 \d+ ms`),
		regexp.MustCompile(`\| server peak memory \(VmHWM of the serve process\) \| [1-9]\d* MB \|`),
		regexp.MustCompile(`\| database size \(pg_database_size\) \| [1-9]\d* MB \|`),
		regexp.MustCompile(`\|   table incidents \(with indexes\) \| \d+ MB \|`),
		regexp.MustCompile(`(?m)^- engine run: \d`),
		regexp.MustCompile(`3000 demo reports over 2 years .* cores, .* GiB memory, PostgreSQL \d+`),
	} {
		if !figure.MatchString(table) {
			t.Errorf("no line matching %s in:\n%s", figure, table)
		}
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.HasPrefix(got, "# Performance\n\nhand-written\n\n"+bench.DocMarker) || strings.Contains(got, "\nold\n") ||
		!strings.HasSuffix(got, table) {
		t.Errorf("the document:\n%s", got)
	}
}
