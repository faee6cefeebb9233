package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// tileAt returns the tile at zoom z holding a point, and its path for a layer.
func tileAt(layer string, lon, lat float64, z int) (maptile.Tile, string) {
	t := maptile.At(orb.Point{lon, lat}, maptile.Zoom(z))
	return t, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, t.Z, t.X, t.Y)
}

// decodeTile decodes an answer's vector tile into WGS84 features of one layer;
// nil for a 204.
func decodeTile(t *testing.T, r *resp, tile maptile.Tile, layer string) []*geojson.Feature {
	t.Helper()
	if r.status == 204 {
		return nil
	}
	if r.status != 200 {
		t.Fatalf("tile %v: %s", tile, r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		t.Errorf("tile %v: Content-Type %q", tile, ct)
	}
	body := r.body
	if r.header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("tile %v: not a vector tile: %v", tile, err)
	}
	for _, l := range layers {
		if l.Version != 2 || l.Extent != 4096 {
			t.Errorf("tile %v: layer %s version %d extent %d; want 2 and 4096", tile, l.Name, l.Version, l.Extent)
		}
	}
	layers.ProjectToWGS84(tile)
	// orb decodes ids as float64, which cannot hold an H3 index: read them exactly.
	var vt vectortile.Tile
	if err := vt.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		if l.Name == layer {
			if len(vt.Layers[i].Features) != len(l.Features) {
				t.Fatalf("tile %v: %d features decoded, %d in the protocol buffer", tile, len(l.Features), len(vt.Layers[i].Features))
			}
			for j, f := range l.Features {
				f.ID = vt.Layers[i].Features[j].GetId()
			}
			return l.Features
		}
	}
	t.Fatalf("tile %v has no layer %q (%d layers)", tile, layer, len(layers))
	return nil
}

func num(f *geojson.Feature, key string) (int, bool) {
	v, ok := f.Properties[key]
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int64:
		return int(n), true
	case uint64:
		return int(n), true
	}
	return 0, false
}

func featureID(t *testing.T, f *geojson.Feature) uint64 {
	t.Helper()
	switch id := f.ID.(type) {
	case uint64:
		return id
	case float64:
		return uint64(id)
	}
	t.Fatalf("feature id %v (%T)", f.ID, f.ID)
	return 0
}

// TestHotspotTiles: each hexagon of a tile carries the roll-ups' count of its cell
// for the filter, at the resolution the zoom asks for, with the cell as its id;
// every cell inside the tile is there.
func TestHotspotTiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police := e.as(access.Police)
	for _, tc := range []struct {
		z, res int
		query  string
		filter geo.Filter
	}{
		{10, 7, "", geo.Filter{}},
		{12, 8, "?strand=religion", geo.Filter{Strands: []string{"religion"}}},
		{13, 9, "?kind=incident&from=2026-01-01&to=2026-06-30", geo.Filter{Kinds: []geo.Kind{geo.KindIncident}, From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: testEnd}},
		{14, 10, "?source=police&strand=race&strand=disability", geo.Filter{Sources: []string{"police"}, Strands: []string{"race", "disability"}}},
	} {
		tile, path := tileAt("hotspots", -0.76, 52.04, tc.z)
		feats := decodeTile(t, e.get(police, path+tc.query), tile, "hotspots")
		want, err := e.db.CellCounts(e.ctx, tc.res, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		byCell := map[uint64]geo.CellCount{}
		for _, c := range want {
			byCell[c.Cell] = c
		}
		seen := map[uint64]bool{}
		for _, f := range feats {
			cell := featureID(t, f)
			seen[cell] = true
			if got := h3.Cell(cell).Resolution(); got != tc.res {
				t.Errorf("z%d: cell %x is at resolution %d; want %d", tc.z, cell, got, tc.res)
			}
			if s, _ := f.Properties["cell"].(string); s != geo.CellString(cell) {
				t.Errorf("z%d: feature %x has cell %q", tc.z, cell, s)
			}
			n, _ := num(f, "count")
			if c := byCell[cell]; n != c.Count || n == 0 {
				t.Errorf("z%d%s: cell %x count %d; the roll-ups hold %d", tc.z, tc.query, cell, n, c.Count)
			}
			if _, ok := f.Properties["suppressed"]; ok {
				t.Errorf("z%d: police tile has a suppressed count", tc.z)
			}
			// The hexagon drawn is the cell's: its centre is inside the polygon.
			ll := h3.Cell(cell).LatLng()
			if poly, ok := f.Geometry.(orb.Polygon); ok && tile.Bound().Contains(orb.Point{ll.Lng, ll.Lat}) {
				if !planar.PolygonContains(poly, orb.Point{ll.Lng, ll.Lat}) {
					t.Errorf("z%d: the hexagon of %x does not hold its centre", tc.z, cell)
				}
			}
		}
		inside := 0
		for cell := range byCell {
			ll := h3.Cell(cell).LatLng()
			if tile.Bound().Contains(orb.Point{ll.Lng, ll.Lat}) {
				inside++
				if !seen[cell] {
					t.Errorf("z%d%s: cell %x (count %d) is inside the tile but not drawn", tc.z, tc.query, cell, byCell[cell].Count)
				}
			}
		}
		if inside < 3 {
			t.Errorf("z%d%s: only %d cells inside the tile; the test shows little", tc.z, tc.query, inside)
		}
	}
}

// TestTileCaching: a strong ETag answered with 304, the first answer as encoded and
// the later ones gzipped as stored, 204 for a tile with nothing in it, the cache
// shared by callers who may see the same, and a new tile once an intake adds an
// incident to it.
func TestTileCaching(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police, council := e.as(access.Police), e.as(access.Council)
	tile, path := tileAt("hotspots", -0.76, 52.04, 12)

	// The render's own answer does not wait for the compression, even to a client
	// that accepts gzip.
	first := e.get(police, path, "Accept-Encoding", "gzip")
	if ce, cl := first.header.Get("Content-Encoding"), first.header.Get("Content-Length"); ce != "" || cl != strconv.Itoa(len(first.body)) {
		t.Errorf("first: Content-Encoding %q, Content-Length %q of %d bytes; want the tile as encoded, with its length", ce, cl, len(first.body))
	}
	etag := first.header.Get("ETag")
	if first.status != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("first: %s, ETag %q; want 200 with a strong ETag", first, etag)
	}
	if cc := first.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("Cache-Control %q; want private", cc)
	}
	if r := e.get(police, path, "If-None-Match", etag); r.status != 304 || len(r.body) != 0 {
		t.Errorf("If-None-Match: %s; want 304 and no body", r)
	}
	if r := e.get(police, path, "If-None-Match", `"something else"`); r.status != 200 {
		t.Errorf("another ETag: %s; want 200", r)
	}
	// Compressed in the background, then answered gzipped under the same ETag; a
	// client that does not accept gzip is given it decompressed.
	var gz *resp
	waitFor(t, "the held tile gzipped", func() bool {
		gz = e.get(police, path, "Accept-Encoding", "gzip")
		return gz.header.Get("Content-Encoding") == "gzip"
	})
	if gz.header.Get("ETag") != etag || gz.header.Get("Content-Length") != strconv.Itoa(len(gz.body)) || len(gz.body) >= len(first.body) {
		t.Errorf("gzip: ETag %q (first %q), Content-Length %q, %d bytes (first %d)", gz.header.Get("ETag"), etag,
			gz.header.Get("Content-Length"), len(gz.body), len(first.body))
	}
	if plain := e.get(police, path); plain.header.Get("Content-Encoding") != "" || !bytes.Equal(plain.body, first.body) {
		t.Errorf("without gzip: Content-Encoding %q, %d bytes; want the %d bytes of the first answer", plain.header.Get("Content-Encoding"), len(plain.body), len(first.body))
	}
	if a, b := decodeTile(t, gz, tile, "hotspots"), decodeTile(t, first, tile, "hotspots"); len(a) != len(b) || len(a) == 0 {
		t.Errorf("gzip tile has %d features, plain %d", len(a), len(b))
	}
	// Council sees exact counts as police do: the same tile.
	if r := e.get(council, path); r.header.Get("ETag") != etag {
		t.Errorf("council ETag %q; police %q", r.header.Get("ETag"), etag)
	}
	// Nowhere near the town: nothing to draw.
	if _, far := tileAt("hotspots", -4.2, 57.5, 12); true {
		r := e.get(police, far)
		if r.status != 204 || len(r.body) != 0 || r.header.Get("ETag") == "" {
			t.Errorf("empty tile: %s, ETag %q; want 204 with an ETag", r, r.header.Get("ETag"))
		}
	}

	// An intake adds one incident at the centre of a drawn cell: the next request
	// renders afresh and counts it.
	cellOf := func(feats []*geojson.Feature) map[uint64]int {
		m := map[uint64]int{}
		for _, f := range feats {
			n, _ := num(f, "count")
			m[featureID(t, f)] = n
		}
		return m
	}
	before := cellOf(decodeTile(t, first, tile, "hotspots"))
	target := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 8)
	ll := target.LatLng()
	partner, _ := e.token(access.Partner, "third_party")
	rec := intakeRecord("tile-cache-1", "precision", "exact")
	rec["lat"], rec["lon"] = ll.Lat, ll.Lng
	var ans intakeAnswer
	r := e.send(partner, "POST", "/api/v1/incidents", []map[string]any{rec})
	r.json(t, &ans)
	if r.status != 200 || ans.Inserted != 1 {
		t.Fatalf("intake: %s", r)
	}
	after := e.get(police, path)
	if after.header.Get("ETag") == etag {
		t.Fatalf("the tile kept its ETag after an intake added to it")
	}
	if r := e.get(police, path, "If-None-Match", etag); r.status != 200 {
		t.Errorf("the old ETag after an intake: %s; want 200", r)
	}
	now := cellOf(decodeTile(t, after, tile, "hotspots"))
	if now[uint64(target)] != before[uint64(target)]+1 {
		t.Errorf("cell %s: %d before the intake, %d after; want one more", target, before[uint64(target)], now[uint64(target)])
	}
}

// TestTileFilters: parameters are typed and allow-listed, each error naming the
// parameter; the layer a role may not read is refused.
func TestTileFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police := e.as(access.Police)
	_, path := tileAt("hotspots", -0.76, 52.04, 12)
	for q, field := range map[string]string{
		"?colour=red":                       "colour",
		"?strand=astrology":                 "strand",
		"?kind=banana":                      "kind",
		"?source=nobody":                    "source",
		"?from=2026-13-01":                  "from",
		"?from=2026-06-01&to=2026-05-01":    "to",
		"?strand=race&strand=race&bbox=1,2": "bbox",
		"?metric=colour":                    "metric",
		"?metric=z&metric=rate":             "metric",
	} {
		r := e.get(police, path+q)
		if r.status != 400 || !strings.Contains(r.message(t), field) {
			t.Errorf("%s: %s; want 400 naming %s", q, r, field)
		}
	}
	for _, p := range []string{"/tiles/hotspots/12/1/2.png", "/tiles/hotspots/3/9/1.mvt", "/tiles/hotspots/x/1/1.mvt", "/tiles/hotspots/40/1/1.mvt"} {
		if r := e.get(police, p); r.status != 400 && r.status != 404 {
			t.Errorf("%s: %s; want 400 or 404", p, r)
		}
	}
	if r := e.get(police, "/tiles/nothing/12/1/1.mvt"); r.status != 404 {
		t.Errorf("unknown layer: %s", r)
	}
	partner, _ := e.token(access.Partner, "third_party")
	for _, l := range []string{"hotspots", "areas", "alerts", "incidents", "near_repeat"} {
		_, p := tileAt(l, -0.76, 52.04, 12)
		if r := e.get(partner, p); r.status != 403 {
			t.Errorf("partner %s: %s; want 403", p, r)
		}
		if r := e.get(e.as(access.Partner), p); r.status != 403 {
			t.Errorf("partner session %s: %s; want 403", p, r)
		}
	}
	if _, p := tileAt("incidents", -0.76, 52.04, 14); true {
		for _, r := range []access.Role{access.Council, access.Strategic} {
			if got := e.get(e.as(r), p); got.status != 403 {
				t.Errorf("%s incident points: %s; want 403", r, got)
			}
		}
	}
}

// TestStrategicTilesNeverCarrySmallCounts asks for every layer with counts over
// zooms 10 to 14 and a range of filter combinations as a strategic user: no count
// from 1 to k-1 appears, every count shown is rounded, and each hexagon police see
// with a small count is there marked suppressed.
func TestStrategicTilesNeverCarrySmallCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runEngine()
	strategic, police := e.as(access.Strategic), e.as(access.Police)
	k := 3
	filters := []string{"", "?strand=race", "?strand=religion", "?strand=sexual_orientation&strand=transgender", "?strand=disability",
		"?kind=crime", "?kind=incident", "?source=police", "?source=council", "?source=third_party",
		"?from=2026-06-24&to=2026-06-30", "?from=2026-06-03&to=2026-06-30", "?from=2026-06-03&to=2026-06-30&strand=race&kind=incident",
		"?from=2025-07-01&to=2026-06-30&source=council&strand=disability", "?to=2025-12-31&kind=crime&strand=religion"}
	small, checked := 0, 0
	for z := 10; z <= 14; z++ {
		centre := maptile.At(orb.Point{-0.76, 52.04}, maptile.Zoom(z))
		for dx := -1; dx <= 1; dx++ {
			for _, layer := range []string{"hotspots", "areas", "alerts"} {
				tile := maptile.New(uint32(int(centre.X)+dx), centre.Y, centre.Z)
				path := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, tile.Z, tile.X, tile.Y)
				qs := filters
				if layer == "alerts" {
					qs = []string{"", "?status=new"}
				}
				for _, q := range qs {
					got := decodeTile(t, e.get(strategic, path+q), tile, layer)
					for _, f := range got {
						checked++
						for _, key := range []string{"count", "crimes", "incidents", "observed"} {
							if n, ok := num(f, key); ok && (n > 0 && n < k || n%5 != 0) {
								t.Errorf("strategic %s%s: feature %v has %s %d", path, q, f.ID, key, n)
							}
						}
					}
					if layer != "hotspots" {
						continue
					}
					// Where police see 1 or 2, strategic users see no hexagon, one marked
					// suppressed, or (the noise having lifted it) a rounded count: never
					// the count (docs/privacy.md).
					shown := map[uint64]*geojson.Feature{}
					for _, f := range got {
						shown[featureID(t, f)] = f
					}
					for _, f := range decodeTile(t, e.get(police, path+q), tile, layer) {
						if n, _ := num(f, "count"); n > 0 && n < k {
							small++
							s := shown[featureID(t, f)]
							if s == nil {
								continue
							}
							if m, ok := num(s, "count"); ok && (m < k || m%5 != 0) {
								t.Errorf("%s%s: hexagon %v shows %d where police see %d", path, q, f.ID, m, n)
							} else if _, sup := s.Properties["suppressed"]; !ok && !sup {
								t.Errorf("%s%s: hexagon %v neither counted nor marked suppressed", path, q, f.ID)
							}
						}
					}
				}
			}
		}
	}
	if small < 50 || checked < 500 {
		t.Errorf("%d small counts seen by police, %d strategic features checked: the test shows little", small, checked)
	}
}

// TestIncidentTiles: points for police within the period (the last 28 days unless
// asked), audited every time, a scoped user's limited to their areas.
func TestIncidentTiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police := e.as(access.Police)
	tile, path := tileAt("incidents", -0.76, 52.04, 13)
	feats := decodeTile(t, e.get(police, path), tile, "incidents")
	if len(feats) == 0 {
		t.Fatal("no incident points in the town centre over the last 28 days")
	}
	from := testNow.UTC().Truncate(24*time.Hour).AddDate(0, 0, -27).Format(time.DateOnly)
	for _, f := range feats {
		day, _ := f.Properties["day"].(string)
		if day < from {
			t.Errorf("point %v on %s, before %s", f.ID, day, from)
		}
		if _, ok := f.Geometry.(orb.Point); !ok {
			t.Errorf("point %v is a %T", f.ID, f.Geometry)
		}
	}
	want := e.count(`SELECT count(*) FROM incidents WHERE lon BETWEEN $1 AND $2 AND lat BETWEEN $3 AND $4 AND occurred_from >= $5::date`,
		tile.Bound().Min[0], tile.Bound().Max[0], tile.Bound().Min[1], tile.Bound().Max[1], from)
	if int64(len(feats)) < want {
		t.Errorf("%d points; %d incidents lie in the tile", len(feats), want)
	}
	n := len(e.auditEntries("incidents.tile"))
	e.get(police, path)
	if got := len(e.auditEntries("incidents.tile")); got != n+1 || n == 0 {
		t.Errorf("audit entries %d then %d; want each read audited, cached or not", n, got)
	}
	if r := e.get(police, path+"?from=2026-01-01&to=2026-06-30"); r.status != 400 || !strings.Contains(r.message(t), "92 days") {
		t.Errorf("half a year of points: %s; want 400", r)
	}
	if cc := e.get(police, path).header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("incident tile Cache-Control %q; want no-store", cc)
	}
	// A police user scoped to a ward far from the centre gets none of these points.
	u := e.createUser("scoped-tiles", access.Police, "DEMOW01")
	scoped := e.sessionOf(u)
	var inWard int
	for _, f := range decodeTile(t, e.get(scoped, path), tile, "incidents") {
		inWard++
		id, _ := num(f, "id")
		if e.count(`SELECT count(*) FROM incidents i JOIN area_sets s ON s.id = i.area_set JOIN areas a ON a.id = ANY(s.areas)
			WHERE i.id = $1 AND a.code = 'DEMOW01'`, id) != 1 {
			t.Errorf("scoped user got incident %d outside DEMOW01", id)
		}
	}
	t.Logf("%d of %d points in DEMOW01", inWard, len(feats))
}

// TestTileJSON: TileJSON 3.0.0 describing each layer.
func TestTileJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var tj struct {
		TileJSON     string    `json:"tilejson"`
		Tiles        []string  `json:"tiles"`
		MinZoom      int       `json:"minzoom"`
		MaxZoom      int       `json:"maxzoom"`
		Bounds       []float64 `json:"bounds"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
		ZoomResolutions map[string]int `json:"zoom_resolutions"`
	}
	e.getJSON(e.as(access.Strategic), "/tiles/hotspots.json", &tj)
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/tiles/hotspots/{z}/{x}/{y}.mvt") {
		t.Errorf("%+v", tj)
	}
	if u, err := url.Parse(tj.Tiles[0]); err != nil || u.Host == "" {
		t.Errorf("tiles URL %q is not absolute", tj.Tiles[0])
	}
	if len(tj.Bounds) != 4 || tj.Bounds[0] > -0.76 || tj.Bounds[2] < -0.76 || tj.Bounds[1] > 52.04 || tj.Bounds[3] < 52.04 {
		t.Errorf("bounds %v do not hold the town", tj.Bounds)
	}
	if len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != "hotspots" || tj.VectorLayers[0].Fields["count"] != "Number" || tj.VectorLayers[0].Fields["category"] != "String" {
		t.Errorf("vector_layers %+v", tj.VectorLayers)
	}
	if tj.MinZoom > 10 || tj.MaxZoom < 14 || tj.ZoomResolutions["12"] != 8 {
		t.Errorf("zooms %d..%d, resolutions %v", tj.MinZoom, tj.MaxZoom, tj.ZoomResolutions)
	}

	// The credit the areas' licence asks for comes with them: none for the synthetic
	// town, the stored text once there is one, for every layer.
	var credit struct {
		Attribution *string `json:"attribution"`
	}
	e.getJSON(e.as(access.Police), "/tiles/areas.json", &credit)
	if credit.Attribution != nil {
		t.Errorf("the synthetic town credits %q", *credit.Attribution)
	}
	const ogl = "Source: Office for National Statistics licensed under the Open Government Licence v3.0."
	if err := e.db.SetAreasAttribution(e.ctx, ogl); err != nil {
		t.Fatal(err)
	}
	for _, layer := range []string{"hotspots", "areas"} {
		credit.Attribution = nil
		e.getJSON(e.as(access.Strategic), "/tiles/"+layer+".json", &credit)
		if credit.Attribution == nil || *credit.Attribution != ogl {
			t.Errorf("%s.json: attribution %v, want %q", layer, credit.Attribution, ogl)
		}
	}
	if err := e.db.SetAreasAttribution(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := e.db.AreasAttribution(e.ctx); err != nil || got != "" {
		t.Errorf("after removing it: %q, %v", got, err)
	}
}

// TestTilesOpenInGDAL: GDAL's MVT driver, an implementation independent of ours,
// reads a hotspot tile and an area tile with the features and fields we wrote.
func TestTilesOpenInGDAL(t *testing.T) {
	t.Parallel()
	ogrinfo := ensureOgrinfo(t)
	e := newEnv(t)
	dir := t.TempDir()
	for _, layer := range []string{"hotspots", "areas"} {
		tile, path := tileAt(layer, -0.76, 52.04, 12)
		r := e.get(e.as(access.Council), path)
		feats := decodeTile(t, r, tile, layer)
		file := filepath.Join(dir, layer+".mvt")
		if err := os.WriteFile(file, r.body, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(ogrinfo, "-ro", "-al", "-so", "-oo", "Z="+strconv.Itoa(int(tile.Z)),
			"-oo", "X="+strconv.Itoa(int(tile.X)), "-oo", "Y="+strconv.Itoa(int(tile.Y)), file).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", layer, err, out)
		}
		text := string(out)
		if !strings.Contains(text, "Layer name: "+layer) || !strings.Contains(text, fmt.Sprintf("Feature Count: %d", len(feats))) {
			t.Errorf("ogrinfo %s (%d features decoded):\n%s", layer, len(feats), text)
		}
		if !strings.Contains(text, "count: Integer") && !strings.Contains(text, "count: Integer64") && !strings.Contains(text, "count: Real") {
			t.Errorf("ogrinfo %s shows no count field:\n%s", layer, text)
		}
		if !strings.Contains(text, "Polygon") {
			t.Errorf("ogrinfo %s shows no polygons:\n%s", layer, text)
		}
	}
}

type weeklyJSON struct {
	End   string
	Weeks []struct {
		Start, End string
		Observed   *int
		Expected   *float64
	}
}

// TestCellAndAreaPanels: what the map's panel shows for a hexagon and an area: the
// counts by strand of the filter, and weeks of observed beside the mean of the
// twelve weeks before, checked against SQL over the incidents themselves.
func TestCellAndAreaPanels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	police, strategic := e.as(access.Police), e.as(access.Strategic)
	cell := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 8)
	var got struct {
		Cell   string
		Res    int
		Counts struct {
			Count    *int
			ByStrand map[string]*int `json:"by_strand"`
		}
		PopulationEstimate int      `json:"population_estimate"`
		RatePer1000        *float64 `json:"rate_per_1000"`
		Weekly             weeklyJSON
	}
	e.getJSON(police, "/api/v1/cells/"+cell.String()+"?strand=race&strand=religion", &got)
	want, err := e.db.CellCounts(e.ctx, 8, defaultPeriod(geo.Filter{Strands: []string{"race", "religion"}}))
	if err != nil {
		t.Fatal(err)
	}
	var wc geo.CellCount
	for _, c := range want {
		if c.Cell == uint64(cell) {
			wc = c
		}
	}
	if got.Cell != cell.String() || got.Res != 8 || got.Counts.Count == nil || *got.Counts.Count != wc.Count || wc.Count == 0 {
		t.Fatalf("cell %+v; the roll-ups hold %+v", got, wc)
	}
	for s, n := range wc.ByStrand {
		if got.Counts.ByStrand[s] == nil || *got.Counts.ByStrand[s] != n {
			t.Errorf("strand %s: %v; want %d", s, got.Counts.ByStrand[s], n)
		}
	}
	if got.PopulationEstimate < 50 || got.RatePer1000 == nil {
		t.Errorf("the town centre hexagon has population %d, rate %v", got.PopulationEstimate, got.RatePer1000)
	}
	// The weeks, from the incidents table: their cell at resolution 8, race or religion.
	res8 := `$1 = ANY(cells) AND strands & $2 <> 0`
	v, err := e.db.Vocab(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	mask := int64(1)<<v.StrandBit["race"] | int64(1)<<v.StrandBit["religion"]
	checkWeeks(t, e, "cell", got.Weekly, res8, int64(cell), mask)

	// An area: the ward of the first synthetic areas, all strands.
	var area struct {
		Area   struct{ Code string }
		Weekly weeklyJSON
	}
	e.getJSON(police, "/api/v1/areas/DEMOW01", &area)
	id := e.count(`SELECT id FROM areas WHERE code = 'DEMOW01'`)
	checkWeeks(t, e, "DEMOW01", area.Weekly, `$1 = ANY(areas) AND $2 <> 0`, id, int64(1))

	// A strategic user: no week from 1 to 2, and expected only from a rounded total.
	var sg struct{ Weekly weeklyJSON }
	e.getJSON(strategic, "/api/v1/cells/"+cell.String(), &sg)
	if len(sg.Weekly.Weeks) != 26 {
		t.Fatalf("%d weeks", len(sg.Weekly.Weeks))
	}
	for _, w := range sg.Weekly.Weeks {
		if w.Observed != nil && (*w.Observed > 0 && *w.Observed < 3 || *w.Observed%5 != 0) {
			t.Errorf("strategic week %s: %d", w.End, *w.Observed)
		}
		if w.Expected != nil && int(*w.Expected*12+0.5)%5 != 0 {
			t.Errorf("strategic week %s: expected %v is not a rounded total over 12", w.End, *w.Expected)
		}
	}
	if r := e.get(police, "/api/v1/cells/"+h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 12).String()); r.status != 400 || !strings.Contains(r.message(t), "resolution") {
		t.Errorf("a cell at an unkept resolution: %s", r)
	}
	if r := e.get(police, "/api/v1/cells/banana"); r.status != 400 || !strings.Contains(r.message(t), "cell") {
		t.Errorf("not a cell: %s", r)
	}
}

// checkWeeks compares a weekly series with counts straight from the incidents.
func checkWeeks(t *testing.T, e *env, label string, w weeklyJSON, where string, place, mask int64) {
	t.Helper()
	if w.End != testEnd.Format(time.DateOnly) || len(w.Weeks) != 26 {
		t.Fatalf("%s: weekly ends %s with %d weeks; want %s and 26", label, w.End, len(w.Weeks), testEnd.Format(time.DateOnly))
	}
	count := func(from, to time.Time) int {
		return int(e.count(`SELECT count(*) FROM incidents WHERE cell IS NOT NULL AND occurred_from BETWEEN $3 AND $4 AND `+where,
			place, mask, from, to))
	}
	nonzero := 0
	for i, wk := range w.Weeks {
		end := testEnd.AddDate(0, 0, -7*(25-i))
		if wk.End != end.Format(time.DateOnly) || wk.Start != end.AddDate(0, 0, -6).Format(time.DateOnly) {
			t.Fatalf("%s: week %d is %s..%s; want it to end %s", label, i, wk.Start, wk.End, end.Format(time.DateOnly))
		}
		obs := count(end.AddDate(0, 0, -6), end)
		if wk.Observed == nil || *wk.Observed != obs {
			t.Errorf("%s: week to %s observed %v; the incidents give %d", label, wk.End, wk.Observed, obs)
		}
		exp := float64(count(end.AddDate(0, 0, -6-84), end.AddDate(0, 0, -7))) / 12
		if wk.Expected == nil || abs(*wk.Expected-exp) > 0.006 {
			t.Errorf("%s: week to %s expected %v; the 12 weeks before give %.3f", label, wk.End, wk.Expected, exp)
		}
		nonzero += obs
	}
	if nonzero == 0 {
		t.Errorf("%s: every week is empty; the test shows little", label)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestHotspotTilesCarryTheAnalysis: after an engine run, hexagons carry Gi* z and the
// emerging category, and those under an open alert its tension level, which goes
// from the next tile once the alert is dismissed.
func TestHotspotTilesCarryTheAnalysis(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big, _ := e.runEngine()
	police := e.as(access.Police)
	a, err := e.db.Alert(e.ctx, big)
	if err != nil || len(a.Cells) != 1 {
		t.Fatalf("the cluster alert: %+v %v", a, err)
	}
	cell := a.Cells[0]
	ll := h3.Cell(cell).LatLng()
	tile, path := tileAt("hotspots", ll.Lng, ll.Lat, 12) // resolution 8, the alert's
	find := func() *geojson.Feature {
		for _, f := range decodeTile(t, e.get(police, path), tile, "hotspots") {
			if featureID(t, f) == cell {
				return f
			}
		}
		return nil
	}
	f := find()
	if f == nil {
		t.Fatalf("the alert's cell %x is not in its tile", cell)
	}
	if f.Properties["tension"] != "critical" {
		t.Errorf("the alert's cell: tension %v; want critical", f.Properties["tension"])
	}
	withZ := 0
	for _, g := range decodeTile(t, e.get(police, path), tile, "hotspots") {
		if _, ok := g.Properties["z"]; ok {
			withZ++
			if c, _ := g.Properties["category"].(string); c == "" {
				t.Errorf("hexagon %v has z but no category", g.ID)
			}
		}
	}
	if withZ == 0 {
		t.Error("no hexagon carries a Gi* z after the engine ran")
	}
	if r := e.send(police, "POST", fmt.Sprintf("/api/v1/alerts/%d/dismiss", big), map[string]string{"reason": "a test"}); r.status != 200 {
		t.Fatalf("dismissing: %s", r)
	}
	if f := find(); f == nil || f.Properties["tension"] != nil {
		t.Errorf("after dismissing the alert, its cell still carries tension %v", f.Properties["tension"])
	}
}

// ensureOgrinfo returns GDAL's ogrinfo, installing Debian's gdal-bin with apt when it
// is missing (with sudo when not root); the test fails, never skips, without it.
func ensureOgrinfo(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("ogrinfo"); err == nil {
		return p
	}
	t.Log("ogrinfo is missing: installing Debian's gdal-bin")
	for _, args := range [][]string{{"apt-get", "update"}, {"apt-get", "install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600", "gdal-bin"}} {
		if os.Geteuid() != 0 {
			args = append([]string{"sudo", "-n"}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ogrinfo (Debian gdal-bin) is needed and installing it failed: %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	p, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatalf("apt-get installed gdal-bin but ogrinfo is not on the PATH: %v", err)
	}
	return p
}

// TestTileMetric: a metric keeps one measure in the tile and drops the others.
func TestTileMetric(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runEngine()
	police := e.as(access.Police)
	tile, path := tileAt("hotspots", -0.76, 52.04, 12)
	all := decodeTile(t, e.get(police, path), tile, "hotspots")
	for metric, keep := range map[string]string{"count": "count", "rate": "rate", "z": "z", "category": "category"} {
		got := decodeTile(t, e.get(police, path+"?metric="+metric), tile, "hotspots")
		if len(got) != len(all) {
			t.Errorf("metric=%s: %d features; %d without", metric, len(got), len(all))
		}
		seen := 0
		for _, f := range got {
			for _, other := range []string{"count", "rate", "z", "category"} {
				if _, ok := f.Properties[other]; ok && other != keep {
					t.Errorf("metric=%s: feature %v carries %s", metric, f.ID, other)
				}
			}
			if _, ok := f.Properties[keep]; ok {
				seen++
			}
			if f.Properties["cell"] == nil {
				t.Errorf("metric=%s: feature %v lost its cell", metric, f.ID)
			}
		}
		if seen == 0 {
			t.Errorf("metric=%s: no feature carries it", metric)
		}
	}
	area, apath := tileAt("areas", -0.76, 52.04, 12)
	for _, f := range decodeTile(t, e.get(police, apath+"?metric=rate"), area, "areas") {
		if _, ok := f.Properties["count"]; ok {
			t.Errorf("areas metric=rate: feature %v carries count", f.ID)
		}
	}
}
