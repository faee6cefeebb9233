package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tiles"
	"github.com/tensionmap/tensionmap/web"
)

// basemapMaxZoom is the deepest zoom of the test basemap; the map draws deeper
// zooms from it (overzoom).
const basemapMaxZoom = 13

// basemapTile draws a tile in Protomaps' layers: land over the whole tile, a lake
// in its middle, a park, and a main road and a minor road across it.
func basemapTile(t testing.TB, tl maptile.Tile) []byte {
	t.Helper()
	b := tl.Bound()
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + fx*w, b.Min[1] + fy*h} }
	rect := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)}}
	}
	feature := func(g orb.Geometry, kind string) *geojson.Feature {
		f := geojson.NewFeature(g)
		f.Properties["kind"] = kind
		return f
	}
	fc := func(fs ...*geojson.Feature) *geojson.FeatureCollection {
		return &geojson.FeatureCollection{Features: fs}
	}
	layers := mvt.NewLayers(map[string]*geojson.FeatureCollection{
		"earth":   fc(feature(rect(0, 0, 1, 1), "earth")),
		"water":   fc(feature(rect(0.3, 0.3, 0.7, 0.7), "lake")),
		"landuse": fc(feature(rect(0.05, 0.05, 0.25, 0.25), "park")),
		"roads": fc(feature(orb.LineString{at(0, 0.85), at(1, 0.85)}, "major_road"),
			feature(orb.LineString{at(0.85, 0), at(0.85, 1)}, "minor_road")),
	})
	layers.ProjectToTile(tl)
	layers.Clip(mvt.MapboxGLDefaultExtentBound)
	raw, err := mvt.Marshal(layers)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// writeBasemap writes a PMTiles archive of basemapTile over bound, zooms 8 to
// basemapMaxZoom, into a file and opens it as the service does.
func writeBasemap(t testing.TB, bound orb.Bound) (string, *tiles.Archive) {
	t.Helper()
	ts := map[maptile.Tile][]byte{}
	for z := maptile.Zoom(8); z <= basemapMaxZoom; z++ {
		lo := maptile.At(orb.Point{bound.Min[0], bound.Max[1]}, z)
		hi := maptile.At(orb.Point{bound.Max[0], bound.Min[1]}, z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tl := maptile.New(x, y, z)
				ts[tl] = basemapTile(t, tl)
			}
		}
	}
	var buf bytes.Buffer
	err := tiles.WriteArchive(&buf, tiles.ArchiveSpec{Tiles: ts, LeafSize: 16, Bounds: bound, Metadata: map[string]any{
		"name":          "test basemap",
		"attribution":   `<a href="https://github.com/protomaps/basemaps">Protomaps</a> © <a href="https://openstreetmap.org">OpenStreetMap</a>`,
		"vector_layers": []map[string]any{{"id": "earth"}, {"id": "water"}, {"id": "landuse"}, {"id": "roads"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "basemap.pmtiles")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := tiles.OpenArchiveFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return path, a
}

// withServer returns a copy of e whose requests go to another server of the same
// database with options o.
func (e *env) withServer(o web.Options) *env {
	e.t.Helper()
	ts := httptest.NewServer(web.New(o, e.db, nil, slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn})), prometheus.NewRegistry()))
	e.t.Cleanup(ts.Close)
	c := *e
	c.ts, c.opts = ts, o
	return &c
}

func TestBasemapTiles(t *testing.T) {
	plain := newEnv(t)
	town, ok := geo.AreasBound(plain.gen.GeoAreas())
	if !ok {
		t.Fatal("the synthetic town has no areas")
	}
	_, archive := writeBasemap(t, town)
	o := plain.opts
	o.Basemap = archive
	e := plain.withServer(o)
	police := e.as(access.Police)

	t.Run("TileJSON", func(t *testing.T) {
		var tj struct {
			TileJSON     string    `json:"tilejson"`
			Tiles        []string  `json:"tiles"`
			MinZoom      int       `json:"minzoom"`
			MaxZoom      int       `json:"maxzoom"`
			Bounds       []float64 `json:"bounds"`
			Attribution  string    `json:"attribution"`
			VectorLayers []struct {
				ID string `json:"id"`
			} `json:"vector_layers"`
		}
		e.getJSON(police, "/basemap.json", &tj)
		if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != e.ts.URL+"/basemap/{z}/{x}/{y}.mvt" {
			t.Errorf("tilejson %q, tiles %v; want 3.0.0 and %s/basemap/{z}/{x}/{y}.mvt", tj.TileJSON, tj.Tiles, e.ts.URL)
		}
		if tj.MinZoom != 8 || tj.MaxZoom != basemapMaxZoom {
			t.Errorf("zooms %d to %d, want 8 to %d", tj.MinZoom, tj.MaxZoom, basemapMaxZoom)
		}
		if len(tj.Bounds) != 4 || tj.Bounds[0] > town.Min[0]+1e-6 || tj.Bounds[3] < town.Max[1]-1e-6 {
			t.Errorf("bounds %v do not cover the town %v", tj.Bounds, town)
		}
		if !strings.Contains(tj.Attribution, "© OpenStreetMap contributors") || strings.Contains(tj.Attribution, "github.com") {
			t.Errorf("attribution %q: want OpenStreetMap's credit, and no link the archive wrote", tj.Attribution)
		}
		if len(tj.VectorLayers) != 4 || tj.VectorLayers[1].ID != "water" {
			t.Errorf("vector_layers %+v, want the archive's four", tj.VectorLayers)
		}
	})

	mid := town.Center()
	tl := maptile.At(mid, 12)
	path := "/basemap/12/" + itoa(tl.X) + "/" + itoa(tl.Y) + ".mvt"
	want, err := archive.Tile(12, tl.X, tl.Y)
	if err != nil || want == nil {
		t.Fatalf("the archive has no tile %v: %v", tl, err)
	}

	t.Run("tile", func(t *testing.T) {
		r := e.get(police, path, "Accept-Encoding", "gzip")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %s", path, r)
		}
		if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
			t.Errorf("headers %v: want gzip and the vector tile type", r.header)
		}
		if !bytes.Equal(r.body, want.Data) {
			t.Errorf("the tile's bytes differ from the archive's (%d and %d bytes)", len(r.body), len(want.Data))
		}
		layers, err := mvt.UnmarshalGzipped(r.body)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]int{}
		for _, l := range layers {
			names[l.Name] = len(l.Features)
		}
		if names["water"] != 1 || names["roads"] != 2 || names["earth"] != 1 {
			t.Errorf("layers %v; want earth 1, water 1, roads 2", names)
		}
		etag := r.header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) || !strings.Contains(r.header.Get("Cache-Control"), "private") {
			t.Errorf("ETag %q, Cache-Control %q: want a strong ETag and private caching", etag, r.header.Get("Cache-Control"))
		}
		if r := e.get(police, path, "If-None-Match", etag); r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("If-None-Match the ETag: %s, want 304", r)
		}
		// A client that takes no gzip gets the tile decompressed.
		r = e.get(police, path, "Accept-Encoding", "identity")
		zr, _ := gzip.NewReader(bytes.NewReader(want.Data))
		plainBytes, _ := io.ReadAll(zr)
		if r.status != http.StatusOK || r.header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, plainBytes) {
			t.Errorf("without gzip: %d, encoding %q, %d bytes; want 200 and the %d bytes of the tile", r.status, r.header.Get("Content-Encoding"), len(r.body), len(plainBytes))
		}
	})

	t.Run("missing", func(t *testing.T) {
		// Far from the town, within the zooms: no tile there, an empty answer.
		far := maptile.At(orb.Point{100, -30}, 10)
		for _, c := range []struct {
			path string
			want int
		}{
			{"/basemap/10/" + itoa(far.X) + "/" + itoa(far.Y) + ".mvt", http.StatusNoContent},
			{"/basemap/14/0/0.mvt", http.StatusNotFound},      // beyond the archive's zooms
			{"/basemap/3/0/0.mvt", http.StatusNotFound},       // before them
			{"/basemap/12/0/0.png", http.StatusNotFound},      // not a vector tile
			{"/basemap/12/9999/0.mvt", http.StatusBadRequest}, // outside the world
			{"/basemap/x/0/0.mvt", http.StatusBadRequest},
		} {
			if r := e.get(police, c.path); r.status != c.want {
				t.Errorf("GET %s: %s, want %d", c.path, r, c.want)
			}
		}
	})

	t.Run("roles", func(t *testing.T) {
		for _, role := range access.Roles {
			r := e.get(e.as(role), path, "Accept-Encoding", "gzip")
			wantOK := role != access.Partner
			if (r.status == http.StatusOK) != wantOK {
				t.Errorf("%s: %s; want allowed %v", role, r, wantOK)
			}
		}
		if r := e.get(nobody, path); r.status != http.StatusUnauthorized {
			t.Errorf("no session: %s, want 401", r)
		}
		if r := e.get(nobody, "/basemap.json"); r.status != http.StatusUnauthorized {
			t.Errorf("no session, TileJSON: %s, want 401", r)
		}
		partner, _ := e.token(access.Partner, "third_party")
		if r := e.get(partner, "/basemap.json"); r.status != http.StatusForbidden {
			t.Errorf("a partner's token, TileJSON: %s, want 403", r)
		}
	})

	t.Run("map page", func(t *testing.T) {
		r := e.get(police, "/map")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"basemap":true`) {
			t.Errorf("the map page with an archive: %d, its settings lack basemap true", r.status)
		}
		r = plain.get(plain.as(access.Police), "/map")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"basemap":false`) {
			t.Errorf("the map page without an archive: %d, its settings lack basemap false", r.status)
		}
	})

	t.Run("no archive", func(t *testing.T) {
		for _, p := range []string{"/basemap.json", path} {
			r := plain.get(plain.as(access.Police), p)
			if r.status != http.StatusNotFound || !strings.Contains(r.message(t), "TENSIONMAP_BASEMAP_PMTILES") {
				t.Errorf("GET %s without an archive: %s; want 404 saying how to add one", p, r)
			}
		}
	})

	t.Run("corrupt entry", func(t *testing.T) {
		// The same archive claiming tile data of 10 bytes: every tile entry now
		// points beyond it, and is refused, not read from elsewhere in the file.
		raw, err := os.ReadFile(writeBasemapPath(t, town))
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint64(raw[64:], 10)
		cut := filepath.Join(t.TempDir(), "cut.pmtiles")
		if err := os.WriteFile(cut, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := tiles.OpenArchiveFile(cut)
		if err != nil {
			t.Fatalf("the root holds only leaves, so the archive opens: %v", err)
		}
		defer a.Close()
		o := plain.opts
		o.Basemap = a
		c := plain.withServer(o)
		r := c.get(c.as(access.Police), path, "Accept-Encoding", "gzip")
		if r.status != http.StatusInternalServerError || strings.Contains(string(r.body), "pmtiles") {
			t.Errorf("a tile beyond the tile data: %s; want 500 with no detail", r)
		}
	})
}

func writeBasemapPath(t *testing.T, b orb.Bound) string {
	p, _ := writeBasemap(t, b)
	return p
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// TestBasemapInBrowser drives the map in headless Chromium over a server with a
// basemap archive written here and one without: the archive's water, roads and
// parks are drawn under the hexagons from the service's own origin, credited to
// OpenStreetMap; without it the plain background and a note saying how to add
// one. Its prerequisites are installed or built as TestMapInBrowser's are.
func TestBasemapInBrowser(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ui := filepath.Join(root, "web", "ui")
	static := filepath.Join(root, "web", "static")
	ensureChromium(t)
	node := lookPath(t, "node")
	ensureUIBuild(t, ui, filepath.Join(static, "dist"))

	plain := newEnv(t, func(o *web.Options) { o.StaticDir = static })
	town, ok := geo.AreasBound(plain.gen.GeoAreas())
	if !ok {
		t.Fatal("the synthetic town has no areas")
	}
	_, archive := writeBasemap(t, town)
	o := plain.opts
	o.Basemap = archive
	e := plain.withServer(o)

	out := filepath.Join(root, "test-output")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(out, "map-basemap.png")
	os.Remove(shot)
	mid := town.Center()
	runLogged(t, ui, []string{
		"BASE_URL=" + e.ts.URL,
		"TM_PLAIN_URL=" + plain.ts.URL,
		"TM_USER=" + e.users[access.Police].Username,
		"TM_PASSWORD=" + testPassword,
		"TM_FROM=" + testEnd.AddDate(-1, 0, 1).Format(time.DateOnly),
		"TM_TO=" + testEnd.Format(time.DateOnly),
		"TM_LAT=" + strconv.FormatFloat(mid[1], 'f', 5, 64),
		"TM_LON=" + strconv.FormatFloat(mid[0], 'f', 5, 64),
		"TM_OUTPUT=" + out,
		"TM_CHROMIUM=" + chromiumPath,
	}, node, "test/basemap.test.mjs")
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}
}
