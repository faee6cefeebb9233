package geo

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestAreasBound(t *testing.T) {
	if _, ok := AreasBound(nil); ok {
		t.Error("the bound of no areas is ok")
	}
	sq := func(x0, y0, x1, y1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
	}
	areas := []Area{{Code: "A", Geometry: sq(-0.8, 52.0, -0.7, 52.1)}, {Code: "empty"}, {Code: "B", Geometry: sq(-0.75, 51.9, -0.6, 52.05)}}
	b, ok := AreasBound(areas)
	if want := (orb.Bound{Min: orb.Point{-0.8, 51.9}, Max: orb.Point{-0.6, 52.1}}); !ok || b != want {
		t.Errorf("AreasBound = %v, %v; want %v", b, ok, want)
	}
}
