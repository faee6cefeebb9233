package postgis

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// twoSquares is a multipolygon of two squares, the first with a hole.
var twoSquares = orb.MultiPolygon{
	{{{-0.8, 52}, {-0.7, 52}, {-0.7, 52.1}, {-0.8, 52.1}, {-0.8, 52}}, {{-0.76, 52.04}, {-0.74, 52.04}, {-0.74, 52.06}, {-0.76, 52.04}}},
	{{{-0.6, 52}, {-0.5, 52}, {-0.5, 52.1}, {-0.6, 52}}},
}

func TestEWKBRoundTripCarriesSRID(t *testing.T) {
	for _, g := range []orb.Geometry{twoSquares, twoSquares[0], orb.Point{-0.75, 52.05}} {
		b, err := marshalEWKB(g)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := ewkb.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if decoded.SRID() != SRID {
			t.Errorf("%s: SRID %d written, want %d", g.GeoJSONType(), decoded.SRID(), SRID)
		}
		back, err := unmarshalEWKB(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, g) {
			t.Errorf("%s: read back %v, want %v", g.GeoJSONType(), back, g)
		}
	}
}

func TestEWKBRejectsOtherSRIDAndTypes(t *testing.T) {
	p, _ := geom.NewPolygon(geom.XY).SetCoords(polygonCoords(twoSquares[1]))
	b, err := ewkb.Marshal(p.SetSRID(27700), binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unmarshalEWKB(b); err == nil || !strings.Contains(err.Error(), "SRID 27700") {
		t.Errorf("British National Grid accepted as WGS 84: %v", err)
	}
	ls, _ := geom.NewLineString(geom.XY).SetCoords([]geom.Coord{{0, 0}, {1, 1}})
	b, _ = ewkb.Marshal(ls, binary.LittleEndian)
	if _, err := unmarshalEWKB(b); err == nil || !strings.Contains(err.Error(), "LineString") {
		t.Errorf("a line read as an area: %v", err)
	}
	if _, err := marshalEWKB(orb.LineString{{0, 0}, {1, 1}}); err == nil {
		t.Error("a line written as an area")
	}
	// Plain WKB (no SRID) from an older database still reads.
	plain, _ := wkb.Marshal(twoSquares)
	if g, err := unmarshalEWKB(plain); err != nil || !reflect.DeepEqual(g, twoSquares) {
		t.Errorf("plain WKB: %v, %v", g, err)
	}
}

func FuzzUnmarshalEWKB(f *testing.F) {
	for _, g := range []orb.Geometry{twoSquares, twoSquares[0], orb.Point{1, 2}} {
		b, _ := marshalEWKB(g)
		f.Add(b)
	}
	f.Add([]byte{1, 3, 0, 0, 0x20, 0xe6, 0x10, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := unmarshalEWKB(b)
		if err != nil {
			return
		}
		// Whatever reads writes back and reads the same.
		again, err := marshalEWKB(g)
		if err != nil {
			t.Fatalf("%v read but not written: %v", g, err)
		}
		g2, err := unmarshalEWKB(again)
		if err != nil || !reflect.DeepEqual(g, g2) {
			t.Fatalf("%v written and read back as %v (%v)", g, g2, err)
		}
	})
}

// BenchmarkDecodeAreas compares reading a boundary-sized multipolygon (2,000
// vertices) as EWKB through go-geom with plain WKB through orb, in one process.
func BenchmarkDecodeAreas(b *testing.B) {
	ring := make(orb.Ring, 0, 2001)
	for i := range 2000 {
		ring = append(ring, orb.Point{-0.8 + float64(i)*1e-5, 52 + float64(i%7)*1e-5})
	}
	ring = append(ring, ring[0])
	mp := orb.MultiPolygon{{ring}}
	e, _ := marshalEWKB(mp)
	w, _ := wkb.Marshal(mp)
	b.Run("go-geom-ewkb", func(b *testing.B) {
		for b.Loop() {
			if _, err := unmarshalEWKB(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("orb-wkb", func(b *testing.B) {
		for b.Loop() {
			if _, err := wkb.Unmarshal(w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
