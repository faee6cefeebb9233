package chart

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// BenchmarkMap draws 2,977 hexagons of resolution 9 (31 rings around Bletchley)
// in six classes and withheld, with two area outlines, and reports the SVG's
// size, plain and gzipped.
func BenchmarkMap(b *testing.B) {
	m := bigMap(31)
	var n int
	for b.Loop() {
		n = len(m.SVG())
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte(m.SVG()))
	w.Close()
	b.ReportMetric(float64(n), "svg-bytes")
	b.ReportMetric(float64(z.Len()), "gzip-bytes")
	b.ReportMetric(float64(len(m.Layers[0].Features)), "hexagons")
}

func BenchmarkLineChart(b *testing.B) {
	c := strandsLine()
	for b.Loop() {
		c.SVG()
	}
}

func BenchmarkObservedExpected(b *testing.B) {
	c := upliftObserved()
	for b.Loop() {
		c.SVG()
	}
}
