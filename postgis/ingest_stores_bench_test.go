package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// BenchmarkIngestStores loads the same 100,000 demo reports through the whole
// pipeline with one batch stored at a time (two writers preparing, as the command
// line does) and with two batches stored at once, in alternation on an emptied
// database, and reports the time of two at once over the time of one (above 1: one
// at a time is faster).
func BenchmarkIngestStores(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	g := demo(b, 100_000)
	importDemoAreas(b, db, g)
	p := newPipeline(b, db, geo.Defaults{})
	var one, two time.Duration
	for b.Loop() {
		for _, stores := range []int{1, 2} {
			if err := db.Truncate(ctx); err != nil {
				b.Fatal(err)
			}
			p.stores, p.writers = stores, 2
			start := time.Now()
			sum, err := p.ingest(ctx, b, g.Reader(), 0)
			if err != nil || sum.Inserted != 100_000 {
				b.Fatalf("%s %v", sum, err)
			}
			if stores == 1 {
				one += time.Since(start)
			} else {
				two += time.Since(start)
			}
		}
	}
	b.ReportMetric(one.Seconds()/float64(b.N), "s/load-one-store")
	b.ReportMetric(two.Seconds()/float64(b.N), "s/load-two-stores")
	b.ReportMetric(two.Seconds()/one.Seconds(), "two/one")
}
