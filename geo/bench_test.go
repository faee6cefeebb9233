package geo_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
)

// benchCSV is a synthetic town's incidents in the project's CSV layout.
func benchCSV(b testing.TB, rows int) ([]byte, []geo.Area) {
	b.Helper()
	g, err := synth.New(synth.Options{Seed: 3, Rows: rows, Years: 3, End: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := geo.NewCSVWriter(&buf)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Incidents(func(r *geo.RawIncident) error { return w.Write(r) }); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	areas := g.GeoAreas()
	for i := range areas {
		areas[i].ID = int32(i + 1)
	}
	return buf.Bytes(), areas
}

type discard struct{}

func (discard) WriteBatch(_ context.Context, b []*geo.Incident) (int, error) { return len(b), nil }

// BenchmarkPipeline times the ingest without the database: read the CSV, validate,
// pseudonymise, bin into H3 and attribute to areas. It reports records a second.
func BenchmarkPipeline(b *testing.B) {
	data, areas := benchCSV(b, 100_000)
	v, _ := geo.NewValidator(geo.ValidatorOptions{Key: []byte("benchmark key of thirty-two bytes!")})
	binner, _ := geo.NewBinner(nil, nil)
	ix := geo.NewAreaIndex(areas)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		r, err := geo.NewReader(bytes.NewReader(data), geo.ReaderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := geo.Ingest(context.Background(), r, discard{}, geo.IngestOptions{Validator: v, Binner: binner, Areas: ix})
		if err != nil || sum.Inserted != 100_000 {
			b.Fatalf("%s %v", sum, err)
		}
	}
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkStages times each stage on its own, per record.
func BenchmarkStages(b *testing.B) {
	data, areas := benchCSV(b, 20_000)
	var raws []*geo.RawIncident
	r, _ := geo.NewReader(bytes.NewReader(data), geo.ReaderOptions{})
	for {
		raw, err := r.Next()
		if err != nil {
			break
		}
		raws = append(raws, raw)
	}
	v, _ := geo.NewValidator(geo.ValidatorOptions{Key: []byte("benchmark key of thirty-two bytes!")})
	binner, _ := geo.NewBinner(nil, nil)
	ix := geo.NewAreaIndex(areas)
	var incidents []*geo.Incident
	for _, raw := range raws {
		if in, err := v.Validate(raw); err == nil {
			incidents = append(incidents, in)
		}
	}
	b.Run("read CSV", func(b *testing.B) {
		for i := 0; i < b.N; {
			r, _ := geo.NewReader(bytes.NewReader(data), geo.ReaderOptions{Format: geo.FormatCSV})
			for ; i < b.N; i++ {
				if _, err := r.Next(); err != nil {
					break
				}
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		for i := range b.N {
			v.Validate(raws[i%len(raws)])
		}
	})
	b.Run("H3 cell", func(b *testing.B) {
		for i := range b.N {
			binner.Cell(incidents[i%len(incidents)])
		}
	})
	places := map[geo.LatLon]bool{}
	for _, in := range incidents {
		places[in.Location] = true
	}
	b.Logf("%d incidents at %d places", len(incidents), len(places))
	// All the cells of an incident (its cell and roll-up cells), with a cache of
	// places as the ingest keeps one, and without.
	b.Run("H3 cells, cached", func(b *testing.B) {
		var cache geo.CellCache
		for i := range b.N {
			in := *incidents[i%len(incidents)]
			binner.Bin(&cache, &in)
		}
	})
	b.Run("H3 cells, uncached", func(b *testing.B) {
		for i := range b.N {
			in := *incidents[i%len(incidents)]
			binner.Bin(nil, &in)
		}
	})
	b.Run("areas", func(b *testing.B) {
		var dst []int32
		for i := range b.N {
			dst = ix.Containing(dst[:0], incidents[i%len(incidents)].Location)
		}
	})
	b.Run("BNG", func(b *testing.B) {
		for i := range b.N {
			geo.BNGToWGS84(485000+float64(i%1000), 238000)
		}
	})
}
