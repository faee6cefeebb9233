package tension

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkScan is the design's budget: 999 replicates over 10,000 cells and a year of
// days (40,000 cases, disks of up to 3 rings, windows of up to 7 days) in under a minute
// on 2 cores. Run it once: go test ./tension -run '^$' -bench BenchmarkScan -benchtime 1x -cpu 2.
// It reports the whole scan (s/op), the set-up without replicates and the time per
// replicate (wall clock on all workers, so the cost of one replicate on one core is
// that times the number of workers).
func BenchmarkScan(b *testing.B) {
	cells := scanTestRegion(58)[:10000]
	rng := rand.New(rand.NewPCG(2026, 1))
	cases := scanTestNull(rng, cells, 365, 40000)
	o := ScanOptions{MaxRadius: 3, MaxDays: 7, Replicates: 0, Seed: 1, MaxSecondary: 10}
	start := time.Now()
	if _, err := Scan(cases, 364, o); err != nil {
		b.Fatal(err)
	}
	setup := time.Since(start)
	o.Replicates = 999
	b.ResetTimer()
	var r ScanResult
	for b.Loop() {
		var err error
		if r, err = Scan(cases, 364, o); err != nil {
			b.Fatal(err)
		}
	}
	total := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(setup.Seconds(), "setup-s")
	b.ReportMetric(float64((total-setup).Microseconds())/1000/float64(o.Replicates), "ms/replicate")
	b.ReportMetric(float64(r.Zones), "zones")
	b.ReportMetric(float64(r.Recent), "recent-cases")
}
