package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tiles"
)

// The tile layers, built by package tiles; web keeps the handlers.
const (
	layerHotspots   = tiles.LayerHotspots
	layerAreas      = tiles.LayerAreas
	layerAlerts     = tiles.LayerAlerts
	layerIncidents  = tiles.LayerIncidents
	layerNearRepeat = tiles.LayerNearRepeat
)

// layerMetrics are the measures a layer's metric parameter may ask for.
var layerMetrics = tiles.LayerMetrics

// openStatuses are the statuses of an alert still being dealt with.
var openStatuses = tiles.OpenStatuses

func newTileService(store Store, opts Options, log *slog.Logger) *tiles.Service {
	var src tiles.Source = store
	if opts.Reads != nil {
		src = opts.Reads
	}
	return tiles.NewService(src, tiles.Options{CacheBytes: opts.TileCacheBytes, TensionScale: tension.Scale(opts.TensionScale), Now: opts.Now,
		Wait: opts.TileWait, VersionTTL: opts.VersionTTL, Log: log})
}

// tileDisclosure is a caller's disclosure as the tile layers ask it.
type tileDisclosure struct {
	s *Server
	d disclosure
}

func (t tileDisclosure) Exact() bool                              { return t.d.exact }
func (t tileDisclosure) Count(n int, item ...string) *int         { return t.d.count(n, item...) }
func (t tileDisclosure) Rate(shown *int, population int) *float64 { return t.d.rate(shown, population) }
func (t tileDisclosure) Hotspots(ctx context.Context, res int, from, to time.Time, hs []tension.Hotspot) ([]tension.Hotspot, error) {
	return t.s.hotspots(ctx, t.d, res, from, to, hs)
}

// dataVersion returns "data.analysis.areas", which changes on ingest, area import
// and engine run.
func (s *Server) dataVersion(ctx context.Context) (string, error) { return s.tiles.Version(ctx) }

// DataChanged tells the server that the database changed what tiles show (another
// server's intake, an engine run, an area import): the next tile asks for the data
// version again.
func (s *Server) DataChanged() { s.tiles.Forget() }

// forgetVersion makes the next tile ask the database for the version: new data arrived.
func (s *Server) forgetVersion() { s.tiles.Forget() }

func areasVersion(v string) string { return tiles.AreasVersion(v) }

func sortedCopy(s []string) []string { return tiles.SortedCopy(s) }

func kindStrings(ks []geo.Kind) []string { return tiles.KindStrings(ks) }

func filterKey(f geo.Filter) string { return tiles.FilterKey(f) }

func finestLevel(areas []geo.Area) string { return tiles.FinestLevel(areas) }

func round3(v float64) float64 { return tiles.Round3(v) }

func (s *Server) resolutions(ctx context.Context) ([]int, error) { return s.tiles.Resolutions(ctx) }

func (s *Server) cellPopulation(ctx context.Context, res int, version string) (map[uint64]float64, error) {
	return s.tiles.CellPopulation(ctx, res, version)
}

func (s *Server) hotspotIndex(ctx context.Context, d disclosure, res int, version string) (map[uint64]tension.Hotspot, error) {
	return s.tiles.HotspotIndex(ctx, tileDisclosure{s, d}, res, version)
}

func (s *Server) areasOf(ctx context.Context, version string) ([]geo.Area, error) {
	return s.tiles.Areas(ctx, version)
}

func (s *Server) areasOutline(ctx context.Context, version string) (orb.MultiPolygon, error) {
	return s.tiles.AreasOutline(ctx, version)
}

// handleTile serves GET /tiles/{layer}/{z}/{x}/{y}.mvt for one layer.
func (s *Server) handleTile(layer string) handlerFunc {
	// The parameters each layer takes, made once.
	params := filterParams
	switch layer {
	case layerHotspots:
		params = append(slices.Clone(filterParams), "metric")
	case layerAreas:
		params = append(slices.Clone(filterParams), "level", "metric")
	case layerAlerts:
		params = []string{"status"}
	case layerNearRepeat:
		params = nil
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r.URL.Query(), params...)
		t, err := tiles.Tile(chi.URLParam(r, "z"), chi.URLParam(r, "x"), chi.URLParam(r, "file"))
		if err != nil {
			return err
		}
		if !strings.HasSuffix(chi.URLParam(r, "file"), ".mvt") {
			return geo.Errorf(geo.ENOTFOUND, "tiles end in .mvt")
		}
		who := access.PrincipalFrom(r.Context())
		disc := s.disclosureFor(who)
		req := &tiles.Request{Layer: layer, Tile: t}
		if layer == layerIncidents && who.Scoped() {
			req.Scope = who.Areas
		}
		if len(params) > 0 && params[0] == "from" {
			req.Filter = q.filter(s.opts.Strands, s.opts.Sources)
		}
		req.Level = q.single("level")
		req.Metric = q.single("metric")
		if req.Metric != "" && !slices.Contains(layerMetrics[layer], req.Metric) {
			q.fail("metric", "%q is not one of %s", req.Metric, strings.Join(layerMetrics[layer], ", "))
		}
		req.Status = q.list("status")
		for _, st := range req.Status {
			if !slices.Contains([]string{tension.StatusNew, tension.StatusAcknowledged, tension.StatusAssessmentOpened, tension.StatusDismissed}, st) {
				q.fail("status", "%q is not new, acknowledged, assessment_opened or dismissed", st)
			}
		}
		if err := q.err(); err != nil {
			return err
		}
		if layer == layerIncidents {
			if err := s.boundIncidentPeriod(&req.Filter); err != nil {
				return err
			}
		}
		if layer == layerHotspots || layer == layerAreas {
			what := "cell"
			if layer == layerAreas {
				what = "area"
			}
			if disc, _, err = s.restrict(r.Context(), disc, &req.Filter, what); err != nil {
				return err
			}
			setPeriodHeader(w, req.Filter) // the period counted, published or as asked
		}
		// No deadline of its own: a tile from the cache needs none, the wait for a render
		// is bounded by the tile wait and the render by tiles.RenderTimeout, and a
		// version read by the statement timeout.
		ctx := r.Context()
		req.Disclosure = tileDisclosure{s, disc}
		if req.Version, err = s.dataVersion(ctx); err != nil {
			return err
		}
		entry, state, rows, err := s.tiles.Render(ctx, req)
		if errors.Is(err, tiles.ErrSlow) {
			// Better a prompt "come back" than a wait the map gives up on: the render goes
			// on, and the tile is there when it asks again.
			w.Header().Set("Retry-After", "2")
			return geo.Errorf(geo.EUNAVAILABLE, "the tile is still being drawn; try again shortly")
		}
		if err != nil {
			return err
		}
		hit := state == tiles.Hit
		if hit {
			quietLog(r.Context())
		}
		if state == tiles.Stale {
			w.Header()["Tensionmap-Stale"] = staleTrue
		}
		if layer == layerIncidents {
			// Incident points are incident-level data: every read is audited, cached or not.
			if err := s.auditErr(r, "incidents.tile", map[string]any{"tile": fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y),
				"filter": filterJSON(req.Filter), "cached": hit}, int64(rows)); err != nil {
				return err
			}
		}
		s.writeTile(w, r, entry, layer, who)
		return nil
	}
}

// boundIncidentPeriod fills and bounds the period of incident points: the last 28
// days by default, at most 92, so that a tile reads a bounded slice of incidents.
func (s *Server) boundIncidentPeriod(f *geo.Filter) error {
	if f.To.IsZero() {
		f.To = s.opts.Now().UTC().Truncate(24 * time.Hour)
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(0, 0, -27)
	}
	if f.To.Sub(f.From) > 92*24*time.Hour {
		return geo.Errorf(geo.EINVALID, "from, to: incident points cover at most 92 days")
	}
	return nil
}

// writeTile answers with a rendered tile: 204 when empty, 304 when the client holds
// it, gzip as rendered when the client takes it.
func (s *Server) writeTile(w http.ResponseWriter, r *http.Request, e *tiles.Entry, layer string, who *access.Principal) {
	h := w.Header()
	// Shared values, never written to (each slice is full: an Add copies it).
	h["Etag"] = e.ETagHeader
	h["Vary"] = tileVary
	// Tiles are private to the signed-in caller; incident points are never kept.
	if layer == layerIncidents {
		h["Cache-Control"] = tileNoStore
	} else if h.Get("Tensionmap-Stale") != "" {
		h["Cache-Control"] = tileNoCache // the current version is on its way
	} else if who.Role == access.Strategic {
		h["Cache-Control"] = tileMaxAge300
	} else {
		h["Cache-Control"] = tileMaxAge60
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, e.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if e.Empty() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h["Content-Type"] = tileContentType
	if e.Gzip == nil {
		// Fresh from the render, not compressed yet (the cache compresses it for the
		// answers after this one): as encoded, whatever the client accepts.
		h["Content-Length"] = e.LengthHeader
		w.Write(e.Raw)
		return
	}
	if acceptsGzip(r.Header["Accept-Encoding"]) {
		h["Content-Encoding"] = tileGzip
		h["Content-Length"] = e.LengthHeader
		w.Write(e.Gzip)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(e.Gzip))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	io.Copy(w, zr)
}

var (
	staleTrue       = []string{"true"}
	tileVary        = []string{"Accept-Encoding, Cookie, Authorization"}
	tileNoStore     = []string{"private, no-store"}
	tileNoCache     = []string{"private, no-cache"}
	tileMaxAge300   = []string{"private, max-age=300"}
	tileMaxAge60    = []string{"private, max-age=60"}
	tileContentType = []string{"application/vnd.mapbox-vector-tile"}
	tileGzip        = []string{"gzip"}
)

// acceptsGzip reports whether Accept-Encoding values name gzip.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		if strings.Contains(v, "gzip") {
			return true
		}
	}
	return false
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		if p := strings.TrimSpace(part); p == etag || p == "*" {
			return true
		}
	}
	return false
}

// tileLayers describes each layer for TileJSON.
var tileLayers = map[string]map[string]string{
	layerHotspots: {"cell": "String", "count": "Number", "suppressed": "Number", "rate": "Number", "z": "Number", "confidence": "Number",
		"category": "String", "tension": "String"},
	layerAreas:      {"code": "String", "name": "String", "level": "String", "population": "Number", "count": "Number", "suppressed": "Number", "rate": "Number"},
	layerAlerts:     {"id": "Number", "method": "String", "tension_level": "String", "status": "String", "scope": "String", "observed": "Number"},
	layerIncidents:  {"id": "Number", "kind": "String", "strands": "String", "day": "String"},
	layerNearRepeat: {"cell": "String", "until": "String", "incidents": "Number"},
}

var tileDescriptions = map[string]string{
	layerHotspots:   "H3 hexagons: incidents in the period, rate per 1,000 population (estimated), Gi* z, emerging hot spot category and the tension level of open alerts",
	layerAreas:      "area boundaries with counts and rates per 1,000 population",
	layerAlerts:     "the tension engine's open alerts",
	layerIncidents:  "incident points (police and admin only; every read audited)",
	layerNearRepeat: "today's near-repeat risk zones",
}

// handleTileJSON serves GET /tiles/{layer}.json, TileJSON 3.0.0.
func (s *Server) handleTileJSON(layer string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := newQuery(r.URL.Query()).err(); err != nil {
			return err
		}
		rs, err := s.resolutions(r.Context())
		if err != nil {
			return err
		}
		version, err := s.dataVersion(r.Context())
		if err != nil {
			return err
		}
		areas, err := s.areasOf(r.Context(), version)
		if err != nil {
			return err
		}
		credit, err := s.store.AreasAttribution(r.Context())
		if err != nil {
			return err
		}
		bounds := []float64{-180, -85.0511, 180, 85.0511}
		if b, ok := geo.AreasBound(areas); ok {
			bounds = []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		}
		scheme := "http"
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			scheme = "https"
		}
		base := scheme + "://" + r.Host
		tj := map[string]any{
			"tilejson": "3.0.0", "name": "tensionmap " + layer, "description": tileDescriptions[layer], "version": s.opts.Version,
			"scheme": "xyz", "tiles": []string{base + "/tiles/" + layer + "/{z}/{x}/{y}.mvt"},
			"minzoom": tiles.MinZoom, "maxzoom": tiles.MaxZoom, "bounds": bounds,
			"center":           []float64{(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 11},
			"vector_layers":    []map[string]any{{"id": layer, "description": tileDescriptions[layer], "minzoom": tiles.MinZoom, "maxzoom": tiles.MaxZoom, "fields": tileLayers[layer]}},
			"zoom_resolutions": tiles.ZoomResolutions(rs),
		}
		if credit != "" {
			tj["attribution"] = credit // plain text: the map escapes it
		}
		writeJSON(w, http.StatusOK, tj)
		return nil
	}
}
