package tension

import (
	"encoding/binary"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var giVersusR = flag.Bool("gistar-vs-r", false,
	"time spdep::localG on the benchmark cube with Rscript and print the ratio to Go (needs R with spdep)")

const (
	giBenchCells = 10_000
	giBenchSteps = 52
)

// giBenchCube returns the benchmark cube: 10,000 resolution-9 cells (a disk around
// central Leeds, nearest first) over 52 weeks of seeded counts.
func giBenchCube() (cells []uint64, values []float64) {
	for _, ring := range giCentre(9).GridDiskDistances(58) {
		for _, c := range ring {
			if len(cells) < giBenchCells {
				cells = append(cells, uint64(c))
			}
		}
	}
	rng := rand.New(rand.NewPCG(52, 10_000))
	values = make([]float64, len(cells)*giBenchSteps)
	for i := range values {
		values[i] = earsPoisson(rng, 0.8)
	}
	return cells, values
}

// BenchmarkGiStarCube measures Gi* over a cube of 10,000 cells by 52 weeks (520,000
// bins; k = 1 and one previous week: about 14 neighbours a bin). "statistic" is the
// z-scores of a built cube, the part spdep::localG does; "build" the H3
// neighbourhoods; "end-to-end" both; "explicit-list" the same statistic over the
// explicit 7.3 million-entry neighbour list (as spdep holds it), the plain Go
// baseline the cube's per-step sums are measured against; "emerging" the whole
// emerging hot spot analysis (Gi*, FDR, Mann-Kendall and categories).
func BenchmarkGiStarCube(b *testing.B) {
	cells, values := giBenchCube()
	cube, err := NewGiCube(cells, giBenchSteps, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("statistic", func(b *testing.B) {
		for b.Loop() {
			if _, err := cube.GiStar(values); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(values)), "ns/bin")
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := NewGiCube(cells, giBenchSteps, 1, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("end-to-end", func(b *testing.B) {
		for b.Loop() {
			if _, err := GiStarCube(cells, giBenchSteps, values, 1, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	nb := cube.Neighbours()
	b.Run("explicit-list", func(b *testing.B) {
		for b.Loop() {
			if _, err := nb.GiStar(values); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("emerging", func(b *testing.B) {
		hc := HotspotCube{Cells: cells, Steps: giBenchSteps, Counts: values}
		for b.Loop() {
			if _, err := EmergingHotspots(hc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// giBestOf returns the shortest of n timings of f.
func giBestOf(n int, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range n {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// giLocalGScript reads the cube's values and neighbour lists (self excluded) in
// binary, builds the self-included binary listw, times localG (best of 3) and
// writes its z-scores back.
const giLocalGScript = `
suppressPackageStartupMessages(library(spdep))
a <- commandArgs(trailingOnly = TRUE)
dir <- a[1]; n <- as.integer(a[2]); m <- as.integer(a[3])
rd <- function(f, what, k, size) readBin(file.path(dir, f), what, k, size = size, endian = "little")
x <- rd("values.f64", "double", n, 8)
start <- rd("start.i32", "integer", n + 1, 4)
idx <- rd("idx.i32", "integer", m, 4)
t0 <- proc.time()[["elapsed"]]
nb <- split(idx + 1L, factor(rep.int(seq_len(n), diff(start)), levels = seq_len(n)))
nb <- lapply(nb, function(v) if (length(v)) v else 0L)
names(nb) <- NULL
class(nb) <- "nb"
attr(nb, "region.id") <- as.character(seq_len(n))
lw <- nb2listw(include.self(nb), style = "B")
prep <- proc.time()[["elapsed"]] - t0
best <- Inf
for (r in 1:3) {
  t1 <- proc.time()[["elapsed"]]
  g <- localG(x, lw)
  best <- min(best, proc.time()[["elapsed"]] - t1)
}
writeBin(as.numeric(g), file.path(dir, "z.f64"), size = 8, endian = "little")
cat(sprintf("%.6f %.6f\n", best, prep))
`

// TestGiStarCubeVersusR times spdep::localG on the benchmark cube against Go and
// checks the z-scores agree. It runs only with -gistar-vs-r and R with spdep.
func TestGiStarCubeVersusR(t *testing.T) {
	if !*giVersusR {
		t.Skip("run with -gistar-vs-r to time spdep::localG on the benchmark cube")
	}
	rscript, err := exec.LookPath("Rscript")
	if err != nil {
		t.Skip("Rscript is not installed")
	}
	if exec.Command(rscript, "-e", "library(spdep)").Run() != nil {
		t.Skip("R's spdep is not installed")
	}
	cells, values := giBenchCube()
	var cube *GiCube
	goBuild := giBestOf(3, func() { cube, _ = NewGiCube(cells, giBenchSteps, 1, 1) })
	var z []float64
	goStat := giBestOf(5, func() { z, _ = cube.GiStar(values) })

	dir := t.TempDir()
	nb := cube.Neighbours()
	start := make([]int32, 0, nb.Len()+1)
	idx := make([]int32, 0, len(nb.idx))
	start = append(start, 0)
	for i := 0; i < nb.Len(); i++ {
		for _, j := range nb.Neighbours(i) {
			if int(j) != i {
				idx = append(idx, j)
			}
		}
		start = append(start, int32(len(idx)))
	}
	for name, data := range map[string]any{"values.f64": values, "start.i32": start, "idx.i32": idx} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := binary.Write(f, binary.LittleEndian, data); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	script := filepath.Join(dir, "localg.R")
	if err := os.WriteFile(script, []byte(giLocalGScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rscript, script, dir, strconv.Itoa(nb.Len()), strconv.Itoa(len(idx))).CombinedOutput()
	if err != nil {
		t.Fatalf("Rscript: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		t.Fatalf("Rscript printed %q", out)
	}
	rStat, _ := strconv.ParseFloat(fields[len(fields)-2], 64)
	rPrep, _ := strconv.ParseFloat(fields[len(fields)-1], 64)
	raw, err := os.ReadFile(filepath.Join(dir, "z.f64"))
	if err != nil {
		t.Fatal(err)
	}
	rz := make([]float64, len(raw)/8)
	binary.Decode(raw, binary.LittleEndian, rz)
	if len(rz) != len(z) {
		t.Fatalf("R wrote %d z-scores for %d bins", len(rz), len(z))
	}
	var maxD float64
	for i := range z {
		maxD = math.Max(maxD, math.Abs(z[i]-rz[i]))
	}
	if maxD > 1e-9 {
		t.Errorf("max abs difference of z from R: %.3g", maxD)
	}
	rDur := time.Duration(rStat * float64(time.Second))
	goAll := goBuild + goStat
	t.Logf("cube %d cells x %d steps = %d bins, %d neighbour entries (self included)", len(cells), giBenchSteps, len(z), len(nb.idx))
	t.Logf("R spdep::localG: %v (building the nb and listw took %.1fs more)", rDur, rPrep)
	t.Logf("Go statistic: %v (%.0fx faster); Go H3 neighbourhoods + statistic: %v (%.0fx faster)",
		goStat, rDur.Seconds()/goStat.Seconds(), goAll, rDur.Seconds()/goAll.Seconds())
	t.Logf("max abs difference of z from R over all bins: %.3g", maxD)
	if ratio := rDur.Seconds() / goAll.Seconds(); ratio < 50 {
		t.Errorf("Go is only %.1fx faster than R; the budget is 50x", ratio)
	}
}
