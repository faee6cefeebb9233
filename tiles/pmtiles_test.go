package tiles

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// The tile ids the PMTiles reference implementation (go-pmtiles' tile_id_test.go)
// gives.
func TestPMTileID(t *testing.T) {
	for _, c := range []struct {
		z    uint8
		x, y uint32
		want uint64
	}{
		{0, 0, 0, 0}, {1, 0, 0, 1}, {1, 0, 1, 2}, {1, 1, 1, 3}, {1, 1, 0, 4}, {2, 0, 0, 5}, {12, 3423, 1763, 19078479},
	} {
		if got := PMTileID(c.z, c.x, c.y); got != c.want {
			t.Errorf("PMTileID(%d, %d, %d) = %d, want %d", c.z, c.x, c.y, got, c.want)
		}
	}
	// Each zoom's tiles take the ids after the zoom before, once each.
	next := uint64(0)
	for z := uint8(0); z <= 6; z++ {
		n := uint32(1) << z
		seen := map[uint64]bool{}
		for x := uint32(0); x < n; x++ {
			for y := uint32(0); y < n; y++ {
				id := PMTileID(z, x, y)
				if id < next || id >= next+uint64(n)*uint64(n) || seen[id] {
					t.Fatalf("zoom %d: tile %d/%d has id %d, outside %d to %d or taken twice", z, x, y, id, next, next+uint64(n*n)-1)
				}
				seen[id] = true
			}
		}
		next += uint64(n) * uint64(n)
	}
}

// A small archive written by tippecanoe (go-pmtiles' test fixture) opens, and its
// one tile decodes as a vector tile.
func TestArchiveFromTippecanoe(t *testing.T) {
	a, err := OpenArchiveFile(filepath.Join("..", "testdata", "pmtiles", "tippecanoe.pmtiles"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	info := a.Info()
	if !info.Gzip || info.MinZoom != 0 || info.MaxZoom != 0 {
		t.Errorf("info: gzip %v, zooms %d to %d; want gzip, zooms 0 to 0", info.Gzip, info.MinZoom, info.MaxZoom)
	}
	if g := info.Metadata["generator"]; g != "tippecanoe v2.5.0" {
		t.Errorf("metadata generator %v, want tippecanoe v2.5.0", g)
	}
	tile, err := a.Tile(0, 0, 0)
	if err != nil || tile == nil {
		t.Fatalf("tile 0/0/0: %v, %v", tile, err)
	}
	layers, err := mvt.UnmarshalGzipped(tile.Data)
	if err != nil {
		t.Fatalf("tile 0/0/0 is not a gzipped vector tile: %v", err)
	}
	if len(layers) == 0 || len(layers[0].Features) == 0 {
		t.Errorf("tile 0/0/0 has no feature: %v", layers)
	}
	if got, _ := a.Tile(1, 0, 0); got != nil {
		t.Errorf("tile 1/0/0 outside the archive's zooms: got %d bytes, want none", len(got.Data))
	}
}

// testBasemapTile encodes a vector tile with a water polygon over the whole tile
// and a road across it, tagged like Protomaps' layers.
func testBasemapTile(t testing.TB, tile maptile.Tile, road string) []byte {
	t.Helper()
	b := tile.Bound()
	water := geojson.NewFeature(b.ToPolygon())
	water.Properties["kind"] = "water"
	line := geojson.NewFeature(orb.LineString{{b.Min[0], b.Center()[1]}, {b.Max[0], b.Center()[1]}})
	line.Properties["kind"] = road
	layers := mvt.NewLayers(map[string]*geojson.FeatureCollection{
		"water": {Features: []*geojson.Feature{water}},
		"roads": {Features: []*geojson.Feature{line}},
	})
	layers.ProjectToTile(tile)
	raw, err := mvt.Marshal(layers)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func writeTestArchive(t testing.TB, spec ArchiveSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteArchive(&buf, spec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Archives written here read back tile for tile, with their directories in the root
// or in leaves, identical tiles stored once and runs of them as one entry.
func TestArchiveRoundTrip(t *testing.T) {
	tilesAt := map[maptile.Tile][]byte{}
	same := []byte(nil)
	for z := maptile.Zoom(0); z <= 6; z++ {
		n := uint32(1) << z
		for x := uint32(0); x < n; x += max(1, n/8) {
			for y := uint32(0); y < n; y += max(1, n/8) {
				tl := maptile.New(x, y, z)
				if z == 6 && x >= 32 {
					// Many equal tiles: stored once.
					if same == nil {
						same = testBasemapTile(t, tl, "path")
					}
					tilesAt[tl] = same
					continue
				}
				tilesAt[tl] = testBasemapTile(t, tl, "minor_road")
			}
		}
	}
	for _, leaf := range []int{0, 1, 7} {
		raw := writeTestArchive(t, ArchiveSpec{Tiles: tilesAt, LeafSize: leaf, Metadata: map[string]any{"name": "round trip"}})
		a, err := OpenArchive(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatalf("leaf size %d: %v", leaf, err)
		}
		if a.Info().Metadata["name"] != "round trip" || a.Info().MaxZoom != 6 {
			t.Errorf("leaf size %d: info %+v", leaf, a.Info())
		}
		for tl, want := range tilesAt {
			got, err := a.Tile(uint8(tl.Z), tl.X, tl.Y)
			if err != nil || got == nil {
				t.Fatalf("leaf size %d: tile %v: %v, %v", leaf, tl, got, err)
			}
			layers, err := mvt.UnmarshalGzipped(got.Data)
			if err != nil {
				t.Fatalf("leaf size %d: tile %v: %v", leaf, tl, err)
			}
			again, _ := mvt.Marshal(layers)
			if !bytes.Equal(again, want) {
				t.Fatalf("leaf size %d: tile %v reads back different bytes", leaf, tl)
			}
		}
		// A tile between the written ones is absent, not an error.
		if got, err := a.Tile(6, 1, 1); got != nil || err != nil {
			t.Errorf("leaf size %d: tile 6/1/1 was not written: got %v, %v", leaf, got, err)
		}
		if got, err := a.Tile(3, 9, 0); got != nil || err != nil {
			t.Errorf("leaf size %d: 3/9/0 is not a tile: got %v, %v", leaf, got, err)
		}
	}
}

// A corrupt or truncated archive is refused at open with a clear error, never a
// panic; a tile whose entry is corrupt gets an error too.
func TestArchiveCorrupt(t *testing.T) {
	tl := maptile.New(2, 1, 2)
	good := writeTestArchive(t, ArchiveSpec{Tiles: map[maptile.Tile][]byte{tl: testBasemapTile(t, tl, "path")}})
	h, _ := parsePMHeader(good)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "fewer than the 127 of a PMTiles header"},
		{"not pmtiles", []byte(strings.Repeat("<html>", 40)), "not a PMTiles archive"},
		{"version 2", mod(func(b []byte) []byte { b[7] = 2; return b }), "only version 3"},
		{"cut short", good[:len(good)-10], "beyond the end of the file"},
		{"header only", good[:pmHeaderLen], "beyond the end of the file"},
		{"raster", mod(func(b []byte) []byte { b[99] = 2; return b }), "not vector tiles"},
		{"brotli tiles", mod(func(b []byte) []byte { b[98] = 3; return b }), "compressed with brotli"},
		{"zooms reversed", mod(func(b []byte) []byte { b[100], b[101] = 9, 3; return b }), "not a range"},
		{"root garbled", mod(func(b []byte) []byte {
			for i := h.rootOffset + 10; i < h.rootOffset+h.rootLength; i++ {
				b[i] ^= 0x5a
			}
			return b
		}), "root directory"},
		{"metadata not JSON", mod(func(b []byte) []byte { b[11+h.metadataOffset] ^= 0xff; return b }), "metadata"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenArchive(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
			if !errors.Is(err, ErrArchive) {
				t.Errorf("%v does not wrap ErrArchive", err)
			}
		})
	}

	// A directory entry that points past the tile data, found when the tile is read.
	many := map[maptile.Tile][]byte{}
	for x := uint32(0); x < 4; x++ {
		t1 := maptile.New(x, 0, 2)
		many[t1] = testBasemapTile(t, t1, "path")
	}
	raw := writeTestArchive(t, ArchiveSpec{Tiles: many, LeafSize: 2})
	cut := bytes.Clone(raw)
	// Claim a leaf section of 1 byte: leaves beyond it are refused when read.
	cut = append(cut[:48], append(make([]byte, 8), cut[56:]...)...)
	cut[48] = 1
	if a, err := OpenArchive(bytes.NewReader(cut), int64(len(cut))); err == nil {
		if _, err := a.Tile(2, 3, 0); err == nil || !errors.Is(err, ErrArchive) {
			t.Errorf("a leaf beyond its section: got %v, want an archive error", err)
		}
	} else if !errors.Is(err, ErrArchive) {
		t.Errorf("a leaf beyond its section: %v", err)
	}

	if _, err := OpenArchiveFile(filepath.Join(t.TempDir(), "missing.pmtiles")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: got %v, want not exist", err)
	}
}

// FuzzOpenArchive: whatever the bytes, opening and reading tiles returns or errs,
// never panics nor allocates what the file claims.
func FuzzOpenArchive(f *testing.F) {
	tl := maptile.New(2, 1, 2)
	f.Add(writeTestArchive(f, ArchiveSpec{Tiles: map[maptile.Tile][]byte{tl: testBasemapTile(f, tl, "path")}}))
	many := map[maptile.Tile][]byte{}
	for x := uint32(0); x < 4; x++ {
		t1 := maptile.New(x, 1, 2)
		many[t1] = testBasemapTile(f, t1, "path")
	}
	f.Add(writeTestArchive(f, ArchiveSpec{Tiles: many, LeafSize: 1}))
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "pmtiles", "tippecanoe.pmtiles")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := OpenArchive(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for z := uint8(0); z <= 3; z++ {
			for x := uint32(0); x < 1<<z; x++ {
				for y := uint32(0); y < 1<<z; y++ {
					a.Tile(z, x, y)
				}
			}
		}
	})
}
