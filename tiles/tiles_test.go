package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

var update = flag.Bool("update", false, "rewrite the golden tiles in testdata/tiles")

func TestResForZoom(t *testing.T) {
	all := []int{6, 7, 8, 9, 10}
	for z, want := range map[int]int{0: 6, 8: 6, 10: 7, 11: 8, 12: 8, 13: 9, 14: 10, 16: 10, 22: 10} {
		if got := ResForZoom(z, all); got != want {
			t.Errorf("zoom %d: resolution %d; want %d", z, got, want)
		}
	}
	// Only some resolutions kept: the nearest, the coarser on a tie.
	if got := ResForZoom(13, []int{8, 10}); got != 8 {
		t.Errorf("zoom 13 of 8 and 10: %d; want 8", got)
	}
	if got := ResForZoom(14, []int{7}); got != 7 {
		t.Errorf("zoom 14 of 7: %d", got)
	}
}

func TestTileParse(t *testing.T) {
	if tl, err := Tile("12", "2039", "1360.mvt"); err != nil || tl != maptile.New(2039, 1360, 12) {
		t.Errorf("%v %v", tl, err)
	}
	for _, bad := range [][3]string{{"12", "4096", "0"}, {"-1", "0", "0"}, {"23", "0", "0"}, {"a", "0", "0"}, {"3", "1", "x.mvt"}, {"3", "-1", "0"}, {"3", "1", "8"}} {
		if _, err := Tile(bad[0], bad[1], bad[2]); geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("%v: %v; want invalid", bad, err)
		}
	}
}

// sampleLayers is a tile's worth of each kind of geometry the server draws: the
// hexagons of a cell and its two rings, an area polygon with many vertices and a
// hole, and points.
func sampleLayers(tile maptile.Tile) []Layer {
	centre := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 8)
	disk := centre.GridDisk(2)
	hexes := NewHexagons(100)
	var hex []Feature
	for i, c := range disk {
		props := map[string]any{"cell": geo.CellString(uint64(c)), "res": 8, "count": i * 3, "rate": float64(i) / 7}
		if i%5 == 1 {
			props = map[string]any{"cell": geo.CellString(uint64(c)), "res": 8, "suppressed": 1}
		}
		if i%4 == 0 {
			props["category"] = "new"
			props["z"] = 2.5 + float64(i)/10
		}
		hex = append(hex, Feature{ID: uint64(c), Geometry: hexes.Get(uint64(c)).Polygon, Properties: props})
	}
	// A wavy ring around the centre with a hole: simplification has work to do.
	var outer, hole orb.Ring
	for i := 0; i <= 720; i++ {
		a := float64(i) / 720 * 2 * math.Pi
		r := 0.02 + 0.0005*float64(i%7)
		outer = append(outer, orb.Point{-0.76 + r*1.6*math.Cos(a), 52.04 + r*math.Sin(a)})
	}
	outer[len(outer)-1] = outer[0]
	for i := 0; i <= 8; i++ {
		a := -float64(i) / 8 * 2 * math.Pi
		hole = append(hole, orb.Point{-0.76 + 0.004*math.Cos(a), 52.04 + 0.0025*math.Sin(a)})
	}
	hole[len(hole)-1] = hole[0]
	area := []Feature{{ID: 17, Geometry: orb.MultiPolygon{{outer, hole}}, Properties: map[string]any{"code": "E01000001", "name": "Test area", "count": 40, "rate": 2.5}}}
	var pts []Feature
	for i := 0; i < 25; i++ {
		pts = append(pts, Feature{ID: uint64(1000 + i), Geometry: orb.Point{-0.77 + float64(i)*0.0008, 52.035 + float64(i%5)*0.002},
			Properties: map[string]any{"id": 1000 + i, "kind": []string{"crime", "incident"}[i%2], "day": "2026-06-01"}})
	}
	// And one feature far outside the tile, which must not appear.
	pts = append(pts, Feature{ID: 9, Geometry: orb.Point{2.35, 48.85}, Properties: map[string]any{"id": 9}})
	return []Layer{{Name: "hotspots", Features: hex}, {Name: "areas", Features: area, Simplify: 1}, {Name: "incidents", Features: pts}}
}

// decoded is a tile as its protocol buffer says, features by layer with exact ids,
// tile-coordinate geometry and properties.
type decoded map[string][]decodedFeature

type decodedFeature struct {
	ID    uint64
	Type  string
	Geom  orb.Geometry
	Props map[string]any
}

func decode(t *testing.T, gz []byte) decoded {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var vt vectortile.Tile
	if err := vt.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	out := decoded{}
	for i, l := range layers {
		if l.Version != 2 || l.Extent != Extent {
			t.Errorf("layer %s: version %d extent %d", l.Name, l.Version, l.Extent)
		}
		for j, f := range l.Features {
			out[l.Name] = append(out[l.Name], decodedFeature{ID: vt.Layers[i].Features[j].GetId(), Type: f.Geometry.GeoJSONType(), Geom: f.Geometry, Props: f.Properties})
		}
	}
	return out
}

// TestEncodeGolden renders the sample layers and compares them, decoded, with the
// golden tile in testdata/tiles (go test ./tiles -update rewrites it).
func TestEncodeGolden(t *testing.T) {
	tile := maptile.At(orb.Point{-0.76, 52.04}, 13)
	gz, err := encodeGzip(tile, sampleLayers(tile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "testdata", "tiles", fmt.Sprintf("sample-%d-%d-%d.mvt.gz", tile.Z, tile.X, tile.Y))
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, gz, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./tiles -update writes it)", err)
	}
	got, exp := decode(t, gz), decode(t, want)
	for _, name := range []string{"hotspots", "areas", "incidents"} {
		g, w := got[name], exp[name]
		if len(g) != len(w) || len(w) == 0 {
			t.Errorf("%s: %d features; golden %d", name, len(g), len(w))
			continue
		}
		for i := range g {
			if !reflect.DeepEqual(g[i], w[i]) {
				t.Errorf("%s feature %d:\n got %+v\nwant %+v", name, i, g[i], w[i])
			}
		}
	}
	// What the golden tile holds, checked on its own terms.
	// Every hexagon of the disk that meets the tile and its buffer, and no other.
	meet := 0
	for _, f := range sampleLayers(tile)[0].Features {
		if Intersects(f.Geometry.Bound(), Bound(tile)) {
			meet++
		}
	}
	if n := len(exp["hotspots"]); n != meet || n < 10 {
		t.Errorf("golden hotspots: %d hexagons; %d of the disk meet the tile", n, meet)
	}
	for _, f := range exp["hotspots"] {
		if f.Type != "Polygon" || h3.Cell(f.ID).Resolution() != 8 || f.Props["cell"] != geo.CellString(f.ID) {
			t.Errorf("golden hexagon %x: %s %v", f.ID, f.Type, f.Props)
		}
		if _, ok := f.Props["suppressed"]; ok {
			if _, ok := f.Props["count"]; ok {
				t.Errorf("hexagon %x is suppressed and has a count", f.ID)
			}
		}
	}
	if a := exp["areas"]; len(a) == 1 {
		p, ok := a[0].Geom.(orb.Polygon)
		if !ok || len(p) != 2 || len(p[0]) >= 721 || len(p[0]) < 20 {
			t.Errorf("area: %T with rings %v; want a simplified polygon with its hole", a[0].Geom, ringsLen(p))
		}
	}
	// MVT 2.1 winding: in tile coordinates an exterior ring's area is positive (orb's
	// CCW with y down), a hole's negative.
	for _, name := range []string{"hotspots", "areas"} {
		for _, f := range got[name] {
			p, _ := f.Geom.(orb.Polygon)
			for i, r := range p {
				if want := map[bool]orb.Orientation{true: orb.CCW, false: orb.CW}[i == 0]; r.Orientation() != want {
					t.Errorf("%s %d ring %d: orientation %v; want %v", name, f.ID, i, r.Orientation(), want)
				}
			}
		}
	}
	if n := len(exp["incidents"]); n != 25 {
		t.Errorf("golden points: %d; want 25 (the one in Paris left out)", n)
	}
}

func ringsLen(p orb.Polygon) []int {
	var out []int
	for _, r := range p {
		out = append(out, len(r))
	}
	return out
}

// TestEncodeIsDeterministic: the same features in any order give the same bytes,
// and so the same ETag.
func TestEncodeIsDeterministic(t *testing.T) {
	tile := maptile.At(orb.Point{-0.76, 52.04}, 13)
	first, err := encodeGzip(tile, sampleLayers(tile))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		ls := sampleLayers(tile)
		for _, l := range ls {
			rand.Shuffle(len(l.Features), func(a, b int) { l.Features[a], l.Features[b] = l.Features[b], l.Features[a] })
		}
		gz, err := encodeGzip(tile, ls)
		if err != nil {
			t.Fatal(err)
		}
		if NewEntry(gz).ETag != NewEntry(first).ETag {
			t.Fatal("shuffled features gave other bytes")
		}
	}
	// Nothing in the tile: nil, answered 204.
	far := maptile.At(orb.Point{2.35, 48.85}, 13)
	far = maptile.New(far.X+3, far.Y, far.Z)
	if gz, err := encodeGzip(far, sampleLayers(far)); err != nil || gz != nil {
		t.Errorf("an empty tile: %d bytes, %v", len(gz), err)
	}
}

func TestCellIndex(t *testing.T) {
	centre := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 9)
	disk := centre.GridDisk(30)
	cells := make([]uint64, len(disk))
	for i, c := range disk {
		cells[i] = uint64(c)
	}
	hexes := NewHexagons(1 << 16)
	ix := NewCellIndex(cells, hexes)
	for z := 11; z <= 15; z++ {
		tile := maptile.At(orb.Point{-0.75, 52.045}, maptile.Zoom(z))
		b := tile.Bound(0.05)
		found := map[uint64]bool{}
		ix.Search(b, func(c uint64) bool { found[c] = true; return true })
		for _, c := range cells {
			if Intersects(hexes.Get(c).Bound, b) != found[c] {
				t.Errorf("z%d: cell %x: index %v, brute force %v", z, c, found[c], !found[c])
			}
		}
		if len(found) == 0 {
			t.Errorf("z%d: no cell found", z)
		}
	}
}

func TestCache(t *testing.T) {
	c := NewCache(10_000)
	var renders atomic.Int32
	release := make(chan struct{})
	render := func(context.Context) ([]byte, error) {
		renders.Add(1)
		<-release
		return bytes.Repeat([]byte{1}, 1000), nil
	}
	// Fifty requests for one missing tile: one render, all get it.
	var wg sync.WaitGroup
	etags := make([]string, 50)
	for i := range etags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _, err := c.Get(context.Background(), "a", render)
			if err != nil {
				t.Error(err)
				return
			}
			etags[i] = e.ETag
		}()
	}
	for renders.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Errorf("%d renders for fifty waiting requests; want 1", n)
	}
	for _, e := range etags {
		if e != etags[0] || e == "" {
			t.Fatalf("ETags differ: %q %q", e, etags[0])
		}
	}
	if _, hit, _ := c.Get(context.Background(), "a", render); !hit {
		t.Error("a rendered tile is not served from the cache")
	}
	// Bounded by bytes: the least recently used go first.
	for i := 0; i < 20; i++ {
		c.Get(context.Background(), fmt.Sprint("k", i), func(context.Context) ([]byte, error) { return make([]byte, 1000), nil })
		c.Get(context.Background(), "k0", nil) // keep k0 in use
	}
	size, n, _, _ := c.Stats()
	if size > 10_000 || n > 10 {
		t.Errorf("%d bytes in %d tiles; the limit is 10,000 bytes", size, n)
	}
	if _, hit, _ := c.Get(context.Background(), "k0", nil); !hit {
		t.Error("the most recently used tile was evicted")
	}
	if _, hit, _ := c.Get(context.Background(), "k1", func(context.Context) ([]byte, error) { return nil, nil }); hit {
		t.Error("an old tile outlived the limit")
	}
	// A failed render is not kept.
	boom := errors.New("boom")
	if _, _, err := c.Get(context.Background(), "bad", func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("render error: %v", err)
	}
	if e, hit, err := c.Get(context.Background(), "bad", func(context.Context) ([]byte, error) { return []byte{2}, nil }); hit || err != nil || e.Empty() {
		t.Errorf("after a failed render: hit %v, %v", hit, err)
	}
	// An empty tile is kept too, as empty.
	if e, _, _ := c.Get(context.Background(), "empty", func(context.Context) ([]byte, error) { return nil, nil }); !e.Empty() || e.ETag == "" {
		t.Errorf("empty tile: %+v", e)
	}
}

// FuzzTile: any path parts give a tile that exists or an invalid error, never a panic.
func FuzzTile(f *testing.F) {
	for _, s := range [][3]string{{"12", "2039", "1360.mvt"}, {"0", "0", "0"}, {"22", "4194303", "4194303.mvt"}, {"3", "-1", "x"}, {"99999999999", "1", "1"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, z, x, y string) {
		tl, err := Tile(z, x, y)
		if err != nil {
			if geo.ErrorCode(err) != geo.EINVALID {
				t.Fatalf("%q/%q/%q: %v", z, x, y, err)
			}
			return
		}
		if !tl.Valid() || tl.Z > 22 {
			t.Fatalf("%q/%q/%q gave %v", z, x, y, tl)
		}
		_ = Bound(tl)
	})
}
