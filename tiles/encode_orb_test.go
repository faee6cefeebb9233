package tiles

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/uber/h3-go/v4"
)

// encodeGzip is Encode gzipped as the cache keeps a tile, beside encodeOrb's output.
func encodeGzip(t maptile.Tile, layers []Layer) ([]byte, error) {
	raw, err := Encode(t, layers)
	if err != nil || raw == nil {
		return nil, err
	}
	return gzipBytes(raw)
}

// encodeOrb is the encoding through orb's mvt package that Encode replaced, kept as
// the reference its output is compared with: geojson features, mvt.NewLayer,
// projection, orientation, clipping, simplification, mvt.Marshal, then gzip.
func encodeOrb(t maptile.Tile, layers []Layer) ([]byte, error) {
	var ls mvt.Layers
	for _, l := range layers {
		slices.SortFunc(l.Features, func(a, b Feature) int { return cmp.Compare(a.ID, b.ID) })
		fc := geojson.NewFeatureCollection()
		fc.Features = make([]*geojson.Feature, 0, len(l.Features))
		for _, f := range l.Features {
			gf := geojson.NewFeature(orb.Clone(f.Geometry))
			gf.ID = f.ID
			gf.Properties = f.Properties
			fc.Features = append(fc.Features, gf)
		}
		layer := mvt.NewLayer(l.Name, fc)
		layer.Version = 2
		layer.Extent = Extent
		layer.ProjectToTile(t)
		for _, f := range layer.Features {
			orient(f.Geometry)
		}
		orbClipLayer(layer)
		if l.Simplify > 0 {
			layer.Simplify(simplify.DouglasPeucker(l.Simplify))
		}
		layer.RemoveEmpty(1, 1)
		if len(layer.Features) > 0 {
			ls = append(ls, layer)
		}
	}
	if len(ls) == 0 {
		return nil, nil
	}
	raw, err := mvt.Marshal(ls)
	if err != nil {
		return nil, err
	}
	return stdGzip(raw)
}

// stdGzip is the reference's gzip: the standard library's at BestSpeed, a pooled
// writer.
var stdGzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

func stdGzip(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := stdGzipWriters.Get().(*gzip.Writer)
	defer stdGzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func orbClipLayer(l *mvt.Layer) {
	at := 0
	for _, f := range l.Features {
		g := f.Geometry
		if b := g.Bound(); !(b.Min[0] >= clipBox.Min[0] && b.Min[1] >= clipBox.Min[1] && b.Max[0] <= clipBox.Max[0] && b.Max[1] <= clipBox.Max[1]) {
			g = clip.Geometry(clipBox, g)
		}
		if g != nil {
			f.Geometry = g
			l.Features[at] = f
			at++
		}
	}
	l.Features = l.Features[:at]
}

// townLayers builds the five layers over the synthetic town as their providers
// build them: hexagons of real H3 cells at the resolution for the zoom with the
// hotspot properties, area boundaries with the areas' properties, alerts as
// multipolygons of cells and of areas, near-repeat zones and incident points.
func townLayers(tb testing.TB, areas []geo.Area, bound orb.Bound, z int, rng *rand.Rand) []Layer {
	tb.Helper()
	res := ResForZoom(z, []int{7, 8, 9, 10})
	hexes := NewHexagons(1 << 16)
	poly := make([]h3.LatLng, 0, 5)
	for _, p := range []orb.Point{bound.Min, {bound.Max[0], bound.Min[1]}, bound.Max, {bound.Min[0], bound.Max[1]}} {
		poly = append(poly, h3.NewLatLng(p[1], p[0]))
	}
	cells := h3.PolygonToCells(h3.GeoPolygon{GeoLoop: poly}, res)
	var hot, near []Feature
	for i, c := range cells {
		cell := uint64(c)
		props := map[string]any{"cell": geo.CellString(cell)}
		switch {
		case i%7 == 3:
			props["suppressed"] = 1
		default:
			props["count"] = 1 + rng.IntN(200)
			if i%3 != 0 {
				props["rate"] = Round3(rng.Float64() * 40)
			}
		}
		if i%5 == 0 {
			props["z"] = Round3(rng.NormFloat64() * 3)
			props["confidence"] = []int{90, 95, 99}[i%3]
			props["category"] = []string{"hot", "cold", "new", "persistent"}[i%4]
		}
		if i%11 == 0 {
			props["tension"] = []string{"elevated", "high", "critical"}[i%3]
		}
		hot = append(hot, Feature{ID: cell, Geometry: hexes.Get(cell).Polygon, Properties: props})
		if i%9 == 0 {
			near = append(near, Feature{ID: cell, Geometry: hexes.Get(cell).Polygon, Properties: map[string]any{
				"cell": geo.CellString(cell), "until": time.Unix(int64(20400+i%30)*86400, 0).UTC().Format(time.DateOnly), "incidents": 2 + i%5}})
		}
	}
	var area, alerts []Feature
	for i, a := range areas {
		props := map[string]any{"code": a.Code, "name": a.Name, "level": a.Level}
		if a.Population > 0 {
			props["population"] = a.Population
		}
		if i%6 == 0 {
			props["suppressed"] = 1
		} else {
			props["count"] = rng.IntN(90)
			props["rate"] = Round3(rng.Float64() * 10)
		}
		area = append(area, Feature{ID: uint64(a.ID), Geometry: a.Geometry, Properties: props})
	}
	for i := 0; i < 12; i++ {
		var mp orb.MultiPolygon
		scope := "cells"
		if i%3 == 0 && len(areas) > 0 {
			scope = "areas"
			mp = append(mp, areas[rng.IntN(len(areas))].Geometry...)
		} else {
			for j := 0; j < 1+rng.IntN(8) && len(cells) > 0; j++ {
				mp = append(mp, hexes.Get(uint64(cells[rng.IntN(len(cells))])).Polygon)
			}
		}
		props := map[string]any{"id": int64(100 + i), "method": []string{"scan", "hotspot", "widespread"}[i%3], "tension_level": 1 + i%4,
			"status": "open", "scope": scope}
		if i%2 == 0 {
			props["observed"] = 5 + i
		}
		alerts = append(alerts, Feature{ID: uint64(100 + i), Geometry: mp, Properties: props})
	}
	var pts []Feature
	for i := 0; i < 400; i++ {
		p := orb.Point{bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0]), bound.Min[1] + rng.Float64()*(bound.Max[1]-bound.Min[1])}
		pts = append(pts, Feature{ID: uint64(5000 + i), Geometry: p, Properties: map[string]any{
			"id": int64(5000 + i), "kind": []string{"crime", "incident"}[i%2], "strands": []string{"race", "religion,race", "disability"}[i%3], "day": "2026-06-01"}})
	}
	return []Layer{{Name: LayerHotspots, Features: hot}, {Name: LayerAreas, Features: area, Simplify: 1},
		{Name: LayerAlerts, Features: alerts}, {Name: LayerNearRepeat, Features: near}, {Name: LayerIncidents, Features: pts}}
}

// inTile keeps the features of a layer that meet a tile's bound, as the providers
// keep them.
func inTile(l Layer, t maptile.Tile) Layer {
	b := Bound(t)
	out := Layer{Name: l.Name, Simplify: l.Simplify}
	for _, f := range l.Features {
		if Intersects(f.Geometry.Bound(), b) {
			out.Features = append(out.Features, f)
		}
	}
	return out
}

func testTown(tb testing.TB) ([]geo.Area, orb.Bound) {
	tb.Helper()
	g, err := synth.New(synth.Options{Seed: 1, Rows: 100, Years: 1, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	areas := g.GeoAreas()
	b, ok := geo.AreasBound(areas)
	if !ok {
		tb.Fatal("the town has no areas")
	}
	return areas, b
}

// decodeBoth decodes a gzipped tile with orb's mvt.Unmarshal, its ids read exactly
// from the protocol buffer.
func decodeLayers(tb testing.TB, gz []byte) map[string][]decodedFeature {
	tb.Helper()
	out := map[string][]decodedFeature{}
	if gz == nil {
		return out
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		tb.Fatal(err)
	}
	var vt vectortile.Tile
	if err := vt.Unmarshal(raw); err != nil {
		tb.Fatal(err)
	}
	for i, l := range layers {
		if l.Version != 2 || l.Extent != Extent {
			tb.Errorf("layer %s: version %d extent %d", l.Name, l.Version, l.Extent)
		}
		if _, dup := out[l.Name]; dup {
			tb.Errorf("layer %s twice", l.Name)
		}
		out[l.Name] = []decodedFeature{}
		for j, f := range l.Features {
			out[l.Name] = append(out[l.Name], decodedFeature{ID: vt.Layers[i].Features[j].GetId(), Type: f.Geometry.GeoJSONType(), Geom: f.Geometry, Props: f.Properties})
		}
	}
	return out
}

// TestEncodeMatchesOrb renders every layer over the town at zooms 10 to 15, each
// tile through Encode and through the orb reference, and compares the decoded
// tiles: the same layers, features in the same order with the same ids, types,
// geometry and properties.
func TestEncodeMatchesOrb(t *testing.T) {
	areas, town := testTown(t)
	rng := rand.New(rand.NewPCG(1, 2))
	tilesSeen, features := 0, map[string]int{}
	for z := 10; z <= 15; z++ {
		all := townLayers(t, areas, town, z, rng)
		min, max := maptile.At(orb.Point{town.Min[0], town.Max[1]}, maptile.Zoom(z)), maptile.At(orb.Point{town.Max[0], town.Min[1]}, maptile.Zoom(z))
		step := uint32(1 + (max.X-min.X)/6)
		for x := min.X - 1; x <= max.X+1; x += step {
			for y := min.Y - 1; y <= max.Y+1; y += step {
				tile := maptile.New(x, y, maptile.Zoom(z))
				var ls, ref []Layer
				for _, l := range all {
					l = inTile(l, tile)
					ls = append(ls, l)
					ref = append(ref, Layer{Name: l.Name, Simplify: l.Simplify, Features: slices.Clone(l.Features)})
				}
				// Each layer alone, as the service renders it, and all together.
				for i := -1; i < len(ls); i++ {
					a, b := ls, ref
					if i >= 0 {
						a, b = ls[i:i+1], ref[i:i+1]
					}
					got, err := encodeGzip(tile, a)
					if err != nil {
						t.Fatal(err)
					}
					want, err := encodeOrb(tile, b)
					if err != nil {
						t.Fatal(err)
					}
					if (got == nil) != (want == nil) {
						t.Fatalf("tile %v layer %d: %d bytes; orb %d", tile, i, len(got), len(want))
					}
					g, w := decodeLayers(t, got), decodeLayers(t, want)
					if !reflect.DeepEqual(g, w) {
						for name := range w {
							if !reflect.DeepEqual(g[name], w[name]) {
								t.Fatalf("tile %v layer %s differs:\n got %+v\nwant %+v", tile, name, g[name], w[name])
							}
						}
						t.Fatalf("tile %v: layers %v; orb %v", tile, keysOf(g), keysOf(w))
					}
					if i < 0 && got != nil {
						tilesSeen++
						for name, fs := range g {
							features[name] += len(fs)
						}
					}
				}
			}
		}
	}
	// The comparison covered every layer, clipped and whole features alike.
	for _, name := range []string{LayerHotspots, LayerAreas, LayerAlerts, LayerNearRepeat, LayerIncidents} {
		if features[name] < 10 {
			t.Errorf("%s: %d features compared; want at least 10", name, features[name])
		}
	}
	if tilesSeen < 30 {
		t.Errorf("%d tiles with features compared; want at least 30", tilesSeen)
	}
	t.Logf("%d tiles compared: %v features", tilesSeen, features)
}

func keysOf(m map[string][]decodedFeature) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// FuzzEncodeMatchesOrb: any polygon, line or point near a tile, with any of the
// property types the layers use, decodes the same from Encode as from the orb
// reference.
func FuzzEncodeMatchesOrb(f *testing.F) {
	f.Add(int64(1), uint8(3), 0.5, 0.5, 0.2, uint8(6), 3.25, "hot", true)
	f.Add(int64(7), uint8(1), 1.5, -0.4, 2.0, uint8(40), -1.0, "", false)
	f.Add(int64(9), uint8(0), 0.0, 0.0, 0.0, uint8(0), math.Inf(1), "E01000001", true)
	f.Fuzz(func(t *testing.T, seed int64, kind uint8, cx, cy, r float64, n uint8, fv float64, s string, b bool) {
		if math.IsNaN(cx+cy+r) || math.Abs(cx) > 4 || math.Abs(cy) > 4 || math.Abs(r) > 4 {
			return
		}
		tile := maptile.New(8000, 5300, 14)
		tb := tile.Bound()
		at := func(u, v float64) orb.Point {
			return orb.Point{tb.Min[0] + u*(tb.Max[0]-tb.Min[0]), tb.Max[1] - v*(tb.Max[1]-tb.Min[1])}
		}
		rng := rand.New(rand.NewPCG(uint64(seed), 3))
		var ring orb.Ring
		for i := 0; i < int(n%64)+3; i++ {
			a := float64(i) / float64(int(n%64)+3) * 2 * math.Pi
			rr := r * (0.5 + rng.Float64())
			ring = append(ring, at(cx+rr*math.Cos(a), cy+rr*math.Sin(a)))
		}
		ring = append(ring, ring[0])
		var g orb.Geometry
		switch kind % 5 {
		case 0:
			g = at(cx, cy)
		case 1:
			g = orb.LineString(ring[:len(ring)-1])
		case 2:
			g = orb.Polygon{ring}
		case 3:
			g = orb.MultiPolygon{{ring}, {orb.Ring{at(cx, cy), at(cx+0.01, cy), at(cx, cy+0.01), at(cx, cy)}}}
		case 4:
			g = orb.MultiPoint{at(cx, cy), at(cy, cx)}
		}
		props := map[string]any{"s": s, "f": fv, "i": int(seed), "u": uint64(n), "b": b, "f32": float32(fv), "list": []string{s}}
		mk := func() []Layer {
			return []Layer{{Name: "a", Simplify: float64(kind % 3), Features: []Feature{{ID: uint64(seed), Geometry: orb.Clone(g), Properties: props},
				{ID: 1, Geometry: at(0.5, 0.5), Properties: map[string]any{"s": s, "f": fv}}}}}
		}
		got, err := encodeGzip(tile, mk())
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeOrb(tile, mk())
		if err != nil {
			t.Fatal(err)
		}
		gd, wd := decodeLayers(t, got), decodeLayers(t, want)
		if fmt.Sprintf("%#v", gd) != fmt.Sprintf("%#v", wd) {
			t.Fatalf("got %#v\nwant %#v", gd, wd)
		}
	})
}

// BenchmarkEncode renders the hotspot tiles of the town at zoom 14 through Encode
// and through the orb reference, in the same run: compare their ns/op.
func BenchmarkEncode(b *testing.B) {
	areas, town := testTown(b)
	all := townLayers(b, areas, town, 14, rand.New(rand.NewPCG(1, 2)))
	centre := maptile.At(town.Center(), 14)
	var tileSet []maptile.Tile
	var layers [][]Layer
	for dx := uint32(0); dx < 3; dx++ {
		for dy := uint32(0); dy < 3; dy++ {
			tile := maptile.New(centre.X+dx-1, centre.Y+dy-1, 14)
			if l := inTile(all[0], tile); len(l.Features) > 0 {
				tileSet = append(tileSet, tile)
				layers = append(layers, []Layer{l})
			}
		}
	}
	if len(tileSet) == 0 {
		b.Fatal("no hotspot tile")
	}
	for _, c := range []struct {
		name string
		enc  func(maptile.Tile, []Layer) ([]byte, error)
	}{{"orb", encodeOrb}, {"direct", encodeGzip}} {
		b.Run(c.name, func(b *testing.B) {
			feats, size := 0, 0
			for i := 0; b.Loop(); i++ {
				k := i % len(tileSet)
				gz, err := c.enc(tileSet[k], layers[k])
				if err != nil {
					b.Fatal(err)
				}
				feats += len(layers[k][0].Features)
				size += len(gz)
			}
			b.ReportMetric(float64(feats)/float64(b.N), "features/op")
			b.ReportMetric(float64(size)/float64(b.N), "gzip-bytes/op")
		})
	}
}
