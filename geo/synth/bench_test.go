package synth

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// BenchmarkIncidents streams 1M and 10M records and reports rows per second.
// Run the 10M case alone with: go test -run X -bench 'Incidents/10M' -benchtime 1x ./geo/synth/
func BenchmarkIncidents(b *testing.B) {
	for _, rows := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("%dM", rows/1_000_000), func(b *testing.B) {
			g := newGen(b, 1, rows, 5)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := 0
				if err := g.Incidents(func(*geo.RawIncident) error { n++; return nil }); err != nil || n != rows {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkWriteIncidents writes 1M records as gzipped CSV, as WriteDir does.
func BenchmarkWriteIncidents(b *testing.B) {
	const rows = 1_000_000
	g := newGen(b, 1, rows, 5)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := WriteIncidents(io.Discard, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestMemoryFlat reads 2M records and checks that the live heap after them is
// about what it was after 200k: the stream's state does not grow with rows (only the
// spikes' references, 8 bytes an injected record, do).
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2M records")
	}
	const rows = 2_000_000
	g := newGen(t, 9, rows, 2)
	rd := g.Reader()
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	read := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := rd.Next(); err != nil {
				t.Fatal(err)
			}
		}
	}
	t0 := time.Now()
	read(200_000)
	h1 := heap()
	read(rows - 200_000)
	h2 := heap()
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("after %d rows: %v", rows, err)
	}
	injected := 0
	for _, sp := range g.plan.spikes {
		injected += sp.Injected
	}
	t.Logf("heap in use after 200k rows %.2f MB, after 2M %.2f MB (%d injected refs, %.2f MB); %v", float64(h1)/1e6, float64(h2)/1e6, injected, float64(8*injected)/1e6, time.Since(t0))
	if h2 > h1+h1/4+1<<20 {
		t.Errorf("heap grew from %d to %d bytes between 200k and 2M rows", h1, h2)
	}
}
