package tiles

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// roundingDisclosure shows counts as a restricted role sees them in shape: counts
// below k withheld, the rest rounded to a multiple of 5, rates from the shown count.
type roundingDisclosure struct{ k int }

func (d roundingDisclosure) Exact() bool { return d.k == 0 }
func (d roundingDisclosure) Count(n int, item ...string) *int {
	if d.k == 0 {
		return &n
	}
	if n < d.k {
		return nil
	}
	r := int(math.Round(float64(n)/5)) * 5
	return &r
}
func (d roundingDisclosure) Rate(shown *int, population int) *float64 {
	if shown == nil || population <= 0 {
		return nil
	}
	r := math.Round(float64(*shown)/float64(population)*1000*100) / 100
	return &r
}
func (d roundingDisclosure) Hotspots(_ context.Context, _ int, _, _ time.Time, hs []tension.Hotspot) ([]tension.Hotspot, error) {
	return hs, nil
}

// tilesOver returns the tiles at zoom z that meet b.
func tilesOver(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	lo, hi := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z), maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	var out []maptile.Tile
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}

// TestHotspotTileHexagonsMatchIndexed: a hotspot tile built from its hexagons drawn
// once (TileHexagons, typed properties) is byte for byte the tile built through the
// index of the cells with counts, projecting each hexagon and encoding a map of
// properties a feature, at every zoom over the town, for exact and rounded counts
// and for each measure asked alone; and asking the same tile again reuses its
// hexagons.
func TestHotspotTileHexagonsMatchIndexed(t *testing.T) {
	_, town := testTown(t)
	s := NewService(nil, Options{})
	rng := rand.New(rand.NewPCG(3, 4))
	compared, features := 0, 0
	for z := maptile.Zoom(10); z <= 14; z++ {
		res := ResForZoom(int(z), []int{7, 8, 9, 10})
		// Counts on most cells of the town, none on some; populations, hot spots and
		// tension levels on some.
		all := geo.PolygonCells(orb.MultiPolygon{town.ToPolygon()}, res)
		counts := map[uint64]*geo.CellCount{}
		pop := map[uint64]float64{}
		gi := map[uint64]tension.Hotspot{}
		tensions := map[uint64]string{}
		var with []uint64
		for i, c := range all {
			if i%4 == 1 {
				continue
			}
			counts[c] = &geo.CellCount{Cell: c, Count: 1 + rng.IntN(40)}
			with = append(with, c)
			if i%3 != 0 {
				pop[c] = 20 + rng.Float64()*800
			}
			if i%5 == 0 {
				gi[c] = tension.Hotspot{Cell: c, Z: rng.NormFloat64() * 3, Confidence: []int{90, 95, 99}[i%3],
					Category: []tension.Category{"new", "persistent", "intensifying"}[i%3]}
			}
			if i%11 == 0 {
				tensions[c] = []string{"elevated", "high", "critical"}[i%3]
			}
		}
		cs := &CellSet{Counts: counts, Index: NewCellIndex(with, s.hexes)}
		for _, tile := range tilesOver(town, z) {
			th := s.TileHexagons(tile, res)
			if th == nil {
				t.Fatalf("tile %v: no hexagons at resolution %d", tile, res)
			}
			if again := s.TileHexagons(tile, res); again != th {
				t.Fatalf("tile %v: hexagons drawn again", tile)
			}
			for _, d := range []Disclosure{roundingDisclosure{}, roundingDisclosure{k: 10}} {
				for _, metric := range []string{"", "count", "rate", "z", "category"} {
					req := &Request{Layer: LayerHotspots, Tile: tile, Metric: metric, Disclosure: d}
					fast := hotspotFeatures(&featureBuf{}, th, counts, pop, gi, tensions, d, metric)
					n := len(fast)
					got, err := encodeGzip(tile, []Layer{{Name: LayerHotspots, Features: fast}})
					if err != nil {
						t.Fatal(err)
					}
					want, err := encodeGzip(tile, []Layer{{Name: LayerHotspots, Features: hotspotFeaturesIndexed(s, req, cs, pop, gi, tensions, d)}})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("tile %v, exact %v, metric %q: %d bytes from the tile's hexagons; %d through the index\n got %+v\nwant %+v",
							tile, d.Exact(), metric, len(got), len(want), decodeLayers(t, got), decodeLayers(t, want))
					}
					if got != nil {
						compared++
						features += n
					}
				}
			}
		}
	}
	if compared < 100 || features < 2000 {
		t.Errorf("%d tiles with %d features compared; want at least 100 and 2000", compared, features)
	}
	if s.TileHexagonCells() == 0 {
		t.Error("no hexagons held")
	}
	t.Logf("%d tiles compared, %d features; %d cells held", compared, features, s.TileHexagonCells())
}

// TestTileHexagonsBounded: the tile hexagon cache forgets tiles rather than grow past
// its bound.
func TestTileHexagonsBounded(t *testing.T) {
	_, town := testTown(t)
	s := NewService(nil, Options{})
	s.tileHexes = newTileHexCache(2000)
	n := 0
	for _, tile := range tilesOver(town, 14) {
		if th := s.TileHexagons(tile, 10); th != nil {
			n++
		}
		if held := s.TileHexagonCells(); held > 2000 {
			t.Fatalf("%d cells held; bound 2000", held)
		}
	}
	if n < 20 {
		t.Fatalf("%d tiles drawn", n)
	}
}
