package geo_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
)

// recorder is a BatchWriter that keeps every batch's source references.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
}

func (r *recorder) WriteBatch(_ context.Context, b []*geo.Incident) (int, error) {
	refs := make([]string, len(b))
	for i, in := range b {
		refs[i] = in.SourceRef
	}
	r.mu.Lock()
	r.batches = append(r.batches, refs)
	r.mu.Unlock()
	return len(b), nil
}

// TestIngestBatchRamp checks the batches of a large batch size: the first an eighth
// of it, then a quarter, a half and the full size, every record once and in order.
func TestIngestBatchRamp(t *testing.T) {
	const rows = 20_000
	data, areas := benchCSV(t, rows)
	v, err := geo.NewValidator(geo.ValidatorOptions{Key: []byte("test key of thirty-two bytes!!!!")})
	if err != nil {
		t.Fatal(err)
	}
	binner, _ := geo.NewBinner(nil, nil)
	for _, c := range []struct {
		size  int
		sizes []int
	}{
		{8192, []int{1024, 2048, 4096, 8192, 4640}},
		{1000, []int{1000}}, // below the ramp: every batch full
	} {
		r, err := geo.NewReader(bytes.NewReader(data), geo.ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		sum, err := geo.Ingest(context.Background(), r, rec, geo.IngestOptions{Validator: v, Binner: binner,
			Areas: geo.NewAreaIndex(areas), BatchSize: c.size})
		if err != nil || sum.Inserted != rows {
			t.Fatalf("size %d: %s %v", c.size, sum, err)
		}
		var sizes []int
		var refs []string
		for _, b := range rec.batches {
			sizes = append(sizes, len(b))
			refs = append(refs, b...)
		}
		if c.size == 1000 {
			for _, n := range sizes {
				if n != 1000 {
					t.Fatalf("size 1000: batches of %v", sizes)
				}
			}
		} else if !slices.Equal(sizes, c.sizes) {
			t.Errorf("size %d: batches of %v, want %v", c.size, sizes, c.sizes)
		}
		r2, _ := geo.NewReader(bytes.NewReader(data), geo.ReaderOptions{})
		var want []string
		for {
			raw, err := r2.Next()
			if err != nil {
				break
			}
			want = append(want, raw.SourceRef)
		}
		if !slices.Equal(refs, want) {
			t.Errorf("size %d: %d references stored, not the %d read in order", c.size, len(refs), len(want))
		}
	}
}
