package postgis_test

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// oneReader passes on one record.
type oneReader struct {
	raw  *geo.RawIncident
	done bool
}

func (o *oneReader) Next() (*geo.RawIncident, error) {
	if o.done {
		return nil, io.EOF
	}
	o.done = true
	return o.raw, nil
}

// BenchmarkSingleReport times one report stored as the intake stores it, as a run
// of its own (writer, batch, merge of its roll-up rows), on a town of 20,000
// reports. It reports the median and the 90th percentile, and the median of the
// merge alone.
func BenchmarkSingleReport(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	g := demo(b, 20000)
	areas := importDemoAreas(b, db, g)
	var raws []geo.RawIncident
	r := g.Reader()
	for {
		raw, err := r.Next()
		if err != nil {
			break
		}
		raws = append(raws, *raw)
	}
	p := newPipeline(b, db, geo.Defaults{})
	if _, err := p.ingest(ctx, b, &sliceReader{rows: raws[:19000]}, 0); err != nil {
		b.Fatal(err)
	}
	ix := geo.NewAreaIndex(areas)
	var ds, merges []time.Duration
	b.ResetTimer()
	for i := range b.N {
		raw := raws[19000+i%1000]
		raw.SourceRef += "-" + time.Now().Format("150405.000000000")
		start := time.Now()
		w, err := db.NewIncidentWriter(ctx, p.vocab, p.binner)
		if err != nil {
			b.Fatal(err)
		}
		sum, err := geo.Ingest(ctx, &oneReader{raw: &raw}, w, geo.IngestOptions{Validator: p.validator, Binner: p.binner, Areas: ix})
		if err == nil {
			m := time.Now()
			err = w.Compact(ctx)
			merges = append(merges, time.Since(m))
		}
		w.Close()
		ds = append(ds, time.Since(start))
		if err != nil || sum.Inserted+sum.Rejected != 1 {
			b.Fatalf("%+v %v", sum, err)
		}
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(ds[len(ds)*9/10].Microseconds())/1000, "p90-ms")
	if len(merges) > 0 {
		slices.Sort(merges)
		b.ReportMetric(float64(merges[len(merges)/2].Microseconds())/1000, "merge-median-ms")
	}
}
