package web

import (
	"bytes"
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tiles"
)

// The basemap: vector tiles of a local PMTiles archive (Options.Basemap) served on
// the service's own origin, so that a closed network needs nothing outside. The map
// draws them with its own bundled style (web/ui/src/style.js).

// noBasemap tells an administrator how to add one.
const noBasemap = "no basemap archive is configured: set TENSIONMAP_BASEMAP_PMTILES (or serve --basemap-pmtiles) to a PMTiles file (see the README)"

// osmAttribution is the credit a Protomaps build (OpenStreetMap data) needs.
const osmAttribution = `Basemap <a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>`

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// basemapAttribution returns the credit to show for the archive: its own
// attribution as plain text (the archive is not trusted to write HTML into the
// page), or OpenStreetMap's when it names OpenStreetMap or names nothing.
func basemapAttribution(meta map[string]any) string {
	s, _ := meta["attribution"].(string)
	s = strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(s, " ")))
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || strings.Contains(strings.ToLower(s), "openstreetmap") {
		return osmAttribution
	}
	return "Basemap " + html.EscapeString(truncate(s, 200))
}

// handleBasemapJSON serves the basemap's TileJSON 3.0.0.
func (s *Server) handleBasemapJSON(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	a := s.opts.Basemap
	if a == nil {
		return geo.Errorf(geo.ENOTFOUND, noBasemap)
	}
	info := a.Info()
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	tj := map[string]any{
		"tilejson": "3.0.0", "name": "basemap", "scheme": "xyz",
		"tiles":   []string{scheme + "://" + r.Host + "/basemap/{z}/{x}/{y}.mvt"},
		"minzoom": info.MinZoom, "maxzoom": info.MaxZoom,
		"bounds":      []float64{info.Bounds.Min[0], info.Bounds.Min[1], info.Bounds.Max[0], info.Bounds.Max[1]},
		"center":      []float64{info.Center[0], info.Center[1], float64(info.CenterZoom)},
		"attribution": basemapAttribution(info.Metadata),
	}
	if vl, ok := info.Metadata["vector_layers"].([]any); ok {
		tj["vector_layers"] = vl
	} else {
		tj["vector_layers"] = []any{}
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	writeJSON(w, http.StatusOK, tj)
	return nil
}

// handleBasemapTile serves one tile of the archive: 204 where the archive has none
// (the sea beyond an extract, an empty tile), 404 beyond its zooms, 304 when the
// client holds it. Tiles are stored gzipped and sent so to clients that take gzip.
func (s *Server) handleBasemapTile(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	a := s.opts.Basemap
	if a == nil {
		return geo.Errorf(geo.ENOTFOUND, noBasemap)
	}
	file := chi.URLParam(r, "file")
	if !strings.HasSuffix(file, ".mvt") {
		return geo.Errorf(geo.ENOTFOUND, "basemap tiles end in .mvt")
	}
	t, err := tiles.Tile(chi.URLParam(r, "z"), chi.URLParam(r, "x"), file)
	if err != nil {
		return err
	}
	info := a.Info()
	if int(t.Z) < info.MinZoom || int(t.Z) > info.MaxZoom {
		return geo.Errorf(geo.ENOTFOUND, "the basemap has zooms %d to %d, not %d", info.MinZoom, info.MaxZoom, t.Z)
	}
	tile, err := a.Tile(uint8(t.Z), t.X, t.Y)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Vary", "Accept-Encoding, Cookie, Authorization")
	// The archive does not change while the service runs; a new one changes the ETag.
	h.Set("Cache-Control", "private, max-age=86400")
	if tile == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("ETag", tile.ETag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, tile.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if !info.Gzip || strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if info.Gzip {
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(tile.Data)))
		w.Write(tile.Data)
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(tile.Data))
	if err != nil {
		return err
	}
	_, err = io.Copy(w, io.LimitReader(zr, 16*tiles.MaxArchiveTile))
	if err != nil {
		s.log.Warn("basemap tile", "tile", t, "error", err)
	}
	return nil
}
