package tiles

import (
	"bytes"
	"math/rand/v2"
	"testing"

	stdgzip "compress/gzip"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkGzipLevels compresses the raw hotspot tiles of the town at zoom 13 at
// each gzip level a tile could be written with: compare ns/op and bytes/op.
func BenchmarkGzipLevels(b *testing.B) {
	areas, town := testTown(b)
	all := townLayers(b, areas, town, 13, rand.New(rand.NewPCG(1, 2)))
	var raws [][]byte
	for _, tile := range tilesOver(town, 13) {
		w := mvtWriters.Get().(*mvtWriter)
		w.start(tile)
		if err := w.layer(inTile(all[0], tile)); err != nil {
			b.Fatal(err)
		}
		if len(w.out) > 0 {
			raws = append(raws, bytes.Clone(w.out))
		}
		mvtWriters.Put(w)
	}
	for _, lv := range []struct {
		name  string
		level int
	}{{"best-speed", gzip.BestSpeed}, {"level-2", 2}, {"huffman-only", gzip.HuffmanOnly}, {"stateless", gzip.StatelessCompression}} {
		b.Run(lv.name, func(b *testing.B) {
			zw, _ := gzip.NewWriterLevel(nil, lv.level)
			raw, gz := 0, 0
			for i := 0; b.Loop(); i++ {
				r := raws[i%len(raws)]
				var buf bytes.Buffer
				zw.Reset(&buf)
				zw.Write(r)
				zw.Close()
				raw += len(r)
				gz += buf.Len()
			}
			b.ReportMetric(float64(raw)/float64(b.N), "raw-bytes/op")
			b.ReportMetric(float64(gz)/float64(b.N), "gzip-bytes/op")
		})
	}
	b.Run("standard-library-best-speed", func(b *testing.B) {
		zw, _ := stdgzip.NewWriterLevel(nil, stdgzip.BestSpeed)
		gz := 0
		for i := 0; b.Loop(); i++ {
			var buf bytes.Buffer
			zw.Reset(&buf)
			zw.Write(raws[i%len(raws)])
			zw.Close()
			gz += buf.Len()
		}
		b.ReportMetric(float64(gz)/float64(b.N), "gzip-bytes/op")
	})
}
