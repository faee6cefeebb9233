package tension

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// farrBenchSeries is 1,000 realistic series: five years of weekly counts (260
// weeks) with means from about 0.2 to 50 cases a week, seasonal or not, Poisson
// or overdispersed, some zero-inflated, some with a trend or outbreaks.
func farrBenchSeries() [][]float64 {
	var specs []farrSpec
	for _, s := range farrSpecs() {
		if s.pattern == nil { // not the hand-made edge cases
			specs = append(specs, s)
		}
	}
	out := make([][]float64, 1000)
	for i := range out {
		s := specs[i%len(specs)]
		s.seed = uint64(1000 + i)
		s.base *= 0.75 + 0.5*float64(i%7)/6
		if s.emptyTill > 0 {
			s.emptyTill = 230
		}
		for j := range s.outbreaks {
			s.outbreaks[j].start = s.outbreaks[j].start * 260 / farrSeriesLen
		}
		out[i] = s.generate(260)
	}
	return out
}

// BenchmarkFarrington evaluates the last week of each of 1,000 series of five
// years with the Noufaily parameter set and reports series per second.
func BenchmarkFarrington(b *testing.B) {
	series := farrBenchSeries()
	o := FarringtonNoufaily()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, c := range series {
			if _, err := Farrington(c, len(c)-1, o); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "series/s")
}

// BenchmarkFarringtonVersusR times surveillance::farringtonFlexible (through
// scripts/reference/farrington.R --bench, R's own clock, start-up excluded) on the
// same 1,000 series, one week each with the Noufaily parameter set, and reports
// how many times faster Go is; the budget is 20. Skipped without Rscript and the
// surveillance package.
func BenchmarkFarringtonVersusR(b *testing.B) {
	if _, err := exec.LookPath("Rscript"); err != nil {
		b.Skip("Rscript is not installed")
	}
	if err := exec.Command("Rscript", "-e", "library(surveillance)").Run(); err != nil {
		b.Skip("the R package surveillance is not installed")
	}
	series := farrBenchSeries()
	var in bytes.Buffer
	for _, c := range series {
		parts := make([]string, len(c))
		for i, v := range c {
			parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		in.WriteString(strings.Join(parts, ",") + "\n")
	}
	file := filepath.Join(b.TempDir(), "series.csv")
	if err := os.WriteFile(file, in.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("Rscript", "scripts/reference/farrington.R", "--bench", file)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("Rscript: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`series=(\d+) elapsed=([0-9.]+) alarms=(\d+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("no timing from R:\n%s", out)
	}
	rSeconds, _ := strconv.ParseFloat(string(m[2]), 64)
	rAlarms, _ := strconv.Atoi(string(m[3]))

	o := FarringtonNoufaily()
	alarms, runs := 0, 0
	start := time.Now()
	for b.Loop() {
		alarms = 0
		for _, c := range series {
			r, err := Farrington(c, len(c)-1, o)
			if err != nil {
				b.Fatal(err)
			}
			if r.Alarm {
				alarms++
			}
		}
		runs++
	}
	goSeconds := time.Since(start).Seconds() / float64(runs)
	if alarms != rAlarms {
		b.Errorf("alarms: Go %d, R %d", alarms, rAlarms)
	}
	ratio := rSeconds / goSeconds
	b.ReportMetric(float64(len(series))/goSeconds, "series/s")
	b.ReportMetric(float64(len(series))/rSeconds, "R-series/s")
	b.ReportMetric(ratio, "x-faster-than-R")
	b.Logf("%d series, one week each (Noufaily): Go %.3f s (%.0f series/s), R %.3f s (%.0f series/s): Go is %.0fx faster; %d alarms in both",
		len(series), goSeconds, float64(len(series))/goSeconds, rSeconds, float64(len(series))/rSeconds, ratio, alarms)
	if ratio < 20 || math.IsNaN(ratio) {
		// A report, not a failure: a shared machine's noise is no regression.
		b.Logf("budget NOT met: Go is only %.1fx faster than R, the budget is 20x", ratio)
	}
}
