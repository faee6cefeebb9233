package web

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tiles"
	"golang.org/x/sync/singleflight"
)

// Tile layers.
const (
	layerHotspots   = "hotspots"
	layerAreas      = "areas"
	layerAlerts     = "alerts"
	layerIncidents  = "incidents"
	layerNearRepeat = "near_repeat"
)

// maxFeatures caps the features of one tile: beyond it the smallest counts go.
const maxFeatures = 20000

// memo keeps a few derived values (counts of a filter, area geometries) keyed by
// everything they depend on, computing each once however many tiles ask at once.
type memo struct {
	mu    sync.Mutex
	max   int
	order []string
	vals  map[string]any
	group singleflight.Group
}

func newMemo(max int) *memo { return &memo{max: max, vals: map[string]any{}} }

func (m *memo) get(key string, compute func() (any, error)) (any, error) {
	m.mu.Lock()
	if v, ok := m.vals[key]; ok {
		m.mu.Unlock()
		return v, nil
	}
	m.mu.Unlock()
	v, err, _ := m.group.Do(key, func() (any, error) {
		v, err := compute()
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.vals[key]; !ok {
			m.order = append(m.order, key)
			if len(m.order) > m.max {
				delete(m.vals, m.order[0])
				m.order = m.order[1:]
			}
		}
		m.vals[key] = v
		return v, nil
	})
	return v, err
}

// tileState is the server's tile machinery: the rendered-tile cache, the hexagon
// cache, derived values and the data version, polled so that a cached tile is
// served without a database round trip.
type tileState struct {
	cache   *tiles.Cache
	hexes   *tiles.Hexagons
	derived *memo

	mu      sync.Mutex
	version string
	checked time.Time
}

func newTileState(maxBytes int64) *tileState {
	return &tileState{cache: tiles.NewCache(maxBytes), hexes: tiles.NewHexagons(1 << 20), derived: newMemo(64)}
}

// versionTTL is how long the data version is trusted before the database is asked
// again; an intake through this server refreshes it at once.
const versionTTL = 2 * time.Second

// dataVersion returns "data.analysis.areas", which changes on ingest, area import
// and engine run.
func (s *Server) dataVersion(ctx context.Context) (string, error) {
	ts := s.tiles
	ts.mu.Lock()
	if time.Since(ts.checked) < versionTTL && ts.version != "" {
		v := ts.version
		ts.mu.Unlock()
		return v, nil
	}
	ts.mu.Unlock()
	d, err := s.store.DataVersion(ctx)
	if err != nil {
		return "", err
	}
	a, err := s.store.AnalysisVersion(ctx)
	if err != nil {
		return "", err
	}
	ar, err := s.store.AreasVersion(ctx)
	if err != nil {
		return "", err
	}
	v := fmt.Sprintf("%d.%d.%s", d, a, ar)
	ts.mu.Lock()
	ts.version, ts.checked = v, time.Now()
	ts.mu.Unlock()
	return v, nil
}

// areasVersion and analysisVersion are the parts of a data version that area
// geometries and the engine's results depend on: they outlive an ingest.
func areasVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	return parts[len(parts)-1]
}

func analysisVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 3 {
		return v
	}
	return parts[1] + "." + parts[2]
}

// forgetVersion makes the next tile ask the database for the version: new data arrived.
func (s *Server) forgetVersion() {
	s.tiles.mu.Lock()
	s.tiles.checked = time.Time{}
	s.tiles.mu.Unlock()
}

// tileRequest is a parsed tile request.
type tileRequest struct {
	layer   string
	tile    maptile.Tile
	filter  geo.Filter
	level   string
	metric  string // when set, the one measure the tile carries
	status  []string
	who     *access.Principal
	disc    disclosure
	version string
}

// key is everything the tile depends on.
func (t *tileRequest) key() string {
	f := t.filter
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%d/%d/%d|v%s|", t.layer, t.tile.Z, t.tile.X, t.tile.Y, t.version)
	if !f.From.IsZero() {
		b.WriteString(f.From.Format(time.DateOnly))
	}
	b.WriteString("..")
	if !f.To.IsZero() {
		b.WriteString(f.To.Format(time.DateOnly))
	}
	for _, part := range [][]string{sortedCopy(f.Strands), sortedCopy(kindStrings(f.Kinds)), sortedCopy(f.Sources), sortedCopy(t.status)} {
		b.WriteString("|" + strings.Join(part, ","))
	}
	fmt.Fprintf(&b, "|%s|%s|exact=%v", t.level, t.metric, t.disc.exact)
	if t.layer == layerIncidents && t.who.Scoped() {
		b.WriteString("|scope=" + strings.Join(sortedCopy(t.who.Areas), ","))
	}
	return b.String()
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func kindStrings(ks []geo.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// handleTile serves GET /tiles/{layer}/{z}/{x}/{y}.mvt for one layer.
func (s *Server) handleTile(layer string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
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
		q := newQuery(r.URL.Query(), params...)
		t, err := tiles.Tile(chi.URLParam(r, "z"), chi.URLParam(r, "x"), chi.URLParam(r, "file"))
		if err != nil {
			return err
		}
		if !strings.HasSuffix(chi.URLParam(r, "file"), ".mvt") {
			return geo.Errorf(geo.ENOTFOUND, "tiles end in .mvt")
		}
		who := access.PrincipalFrom(r.Context())
		req := &tileRequest{layer: layer, tile: t, who: who, disc: s.disclosureFor(who)}
		if len(params) > 0 && params[0] == "from" {
			req.filter = q.filter(s.opts.Strands, s.opts.Sources)
		}
		req.level = q.single("level")
		req.metric = q.single("metric")
		if req.metric != "" && !slices.Contains(layerMetrics[layer], req.metric) {
			q.fail("metric", "%q is not one of %s", req.metric, strings.Join(layerMetrics[layer], ", "))
		}
		req.status = q.list("status")
		for _, st := range req.status {
			if !slices.Contains([]string{tension.StatusNew, tension.StatusAcknowledged, tension.StatusAssessmentOpened, tension.StatusDismissed}, st) {
				q.fail("status", "%q is not new, acknowledged, assessment_opened or dismissed", st)
			}
		}
		if err := q.err(); err != nil {
			return err
		}
		if layer == layerIncidents {
			if err := s.boundIncidentPeriod(&req.filter); err != nil {
				return err
			}
		}
		if layer == layerHotspots || layer == layerAreas {
			what := "cell"
			if layer == layerAreas {
				what = "area"
			}
			if req.disc, _, err = s.restrict(r.Context(), req.disc, &req.filter, what); err != nil {
				return err
			}
			setPeriodHeader(w, req.filter) // the period counted, published or as asked
		}
		ctx, cancel := context.WithTimeout(r.Context(), tiles.RenderTimeout)
		defer cancel()
		if req.version, err = s.dataVersion(ctx); err != nil {
			return err
		}
		var rows int
		entry, hit, err := s.tiles.cache.Get(ctx, req.key(), func(ctx context.Context) ([]byte, error) {
			var n int
			gz, err := s.renderTile(ctx, req, &n)
			rows = n
			return gz, err
		})
		if err != nil {
			return err
		}
		if layer == layerIncidents {
			// Incident points are incident-level data: every read is audited, cached or not.
			if err := s.auditErr(r, "incidents.tile", map[string]any{"tile": fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y),
				"filter": filterJSON(req.filter), "cached": hit}, int64(rows)); err != nil {
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
	h.Set("ETag", e.ETag)
	h.Set("Vary", "Accept-Encoding, Cookie, Authorization")
	// Tiles are private to the signed-in caller; incident points are never kept.
	if layer == layerIncidents {
		h.Set("Cache-Control", "private, no-store")
	} else if who.Role == access.Strategic {
		h.Set("Cache-Control", "private, max-age=300")
	} else {
		h.Set("Cache-Control", "private, max-age=60")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, e.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if e.Empty() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(e.Gzip)))
		w.Write(e.Gzip)
		return
	}
	zr, err := gzip.NewReader(strings.NewReader(string(e.Gzip)))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	io.Copy(w, zr)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		if p := strings.TrimSpace(part); p == etag || p == "*" {
			return true
		}
	}
	return false
}

// renderTile builds and encodes a tile's layer; n receives the number of features.
func (s *Server) renderTile(ctx context.Context, req *tileRequest, n *int) ([]byte, error) {
	var feats []tiles.Feature
	var err error
	simplify := 0.0
	switch req.layer {
	case layerHotspots:
		feats, err = s.hotspotFeatures(ctx, req)
	case layerAreas:
		feats, err = s.areaFeatures(ctx, req)
		simplify = 1
	case layerAlerts:
		feats, err = s.alertFeatures(ctx, req)
	case layerIncidents:
		feats, err = s.incidentFeatures(ctx, req)
	case layerNearRepeat:
		feats, err = s.nearRepeatFeatures(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	*n = len(feats)
	return tiles.Encode(req.tile, []tiles.Layer{{Name: req.layer, Features: feats, Simplify: simplify}})
}

// tileBound is the tile's bound with its buffer, so that features straddling its
// edge are drawn whole across neighbouring tiles.
func tileBound(t maptile.Tile) orb.Bound { return tiles.Bound(t) }

func (s *Server) resolutions(ctx context.Context) ([]int, error) {
	v, err := s.tiles.derived.get("resolutions", func() (any, error) { return s.store.Resolutions(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]int), nil
}

// cellSet is the counts of every cell at a resolution for a filter, indexed by
// place.
type cellSet struct {
	counts map[uint64]*geo.CellCount
	index  *tiles.CellIndex
}

// cellCounts are the counts of every cell at a resolution for a filter, computed
// once per filter and data version and shared by every tile and panel that asks.
func (s *Server) cellCounts(ctx context.Context, res int, f geo.Filter, version string) (*cellSet, error) {
	key := fmt.Sprintf("cells|%d|%s|%s", res, filterKey(f), version)
	v, err := s.tiles.derived.get(key, func() (any, error) {
		counts, err := s.store.CellCounts(ctx, res, f)
		if err != nil {
			return nil, err
		}
		cs := &cellSet{counts: make(map[uint64]*geo.CellCount, len(counts))}
		cells := make([]uint64, len(counts))
		for i := range counts {
			cs.counts[counts[i].Cell] = &counts[i]
			cells[i] = counts[i].Cell
		}
		cs.index = tiles.NewCellIndex(cells, s.tiles.hexes)
		return cs, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cellSet), nil
}

func filterKey(f geo.Filter) string {
	t := tileRequest{filter: f}
	return t.key()
}

// hotspotIndex is the latest hot spot analysis by cell, at its resolution.
// A role that may not see small counts gets it as disclosure.hotspots gives it.
func (s *Server) hotspotIndex(ctx context.Context, d disclosure, res int, version string) (map[uint64]tension.Hotspot, error) {
	// A restricted role's analysis is made from published counts, which change with
	// the data as well as with the engine's runs.
	key := fmt.Sprintf("hotspots|%d|%s|exact=%v", res, analysisVersion(version), d.exact)
	if !d.exact {
		key = fmt.Sprintf("hotspots|%d|%s|exact=false", res, version)
	}
	v, err := s.tiles.derived.get(key, func() (any, error) {
		from, to, _, hs, err := s.store.Hotspots(ctx, res)
		if err != nil {
			return nil, err
		}
		if hs, err = s.hotspots(ctx, d, res, from, to, hs); err != nil {
			return nil, err
		}
		m := make(map[uint64]tension.Hotspot, len(hs))
		for _, h := range hs {
			m[h.Cell] = h
		}
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[uint64]tension.Hotspot), nil
}

// areasOf returns the stored areas with their geometry.
func (s *Server) areasOf(ctx context.Context, version string) ([]geo.Area, error) {
	v, err := s.tiles.derived.get("areas|"+areasVersion(version), func() (any, error) { return s.store.LoadAreas(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]geo.Area), nil
}

// areasOutline is the outline of every area together, the place of a citywide alert.
func (s *Server) areasOutline(ctx context.Context, version string) (orb.MultiPolygon, error) {
	v, err := s.tiles.derived.get("outline|"+areasVersion(version), func() (any, error) { return s.store.AreasOutline(ctx) })
	if err != nil {
		return nil, err
	}
	return v.(orb.MultiPolygon), nil
}

// cellPopulation spreads the finest populated level's populations over the cells at
// res, each area's people evenly over the cells of its polygon (a dasymetric guess:
// the rate of a hexagon that straddles areas borrows from each).
func (s *Server) cellPopulation(ctx context.Context, res int, version string) (map[uint64]float64, error) {
	v, err := s.tiles.derived.get(fmt.Sprintf("population|%d|%s", res, areasVersion(version)), func() (any, error) {
		areas, err := s.areasOf(ctx, version)
		if err != nil {
			return nil, err
		}
		return geo.CellPopulation(areas, res), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[uint64]float64), nil
}

func (s *Server) hotspotFeatures(ctx context.Context, req *tileRequest) ([]tiles.Feature, error) {
	rs, err := s.resolutions(ctx)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	res := tiles.ResForZoom(int(req.tile.Z), rs)
	cs, err := s.cellCounts(ctx, res, req.filter, req.version)
	if err != nil {
		return nil, err
	}
	counts := cs.counts
	gi, err := s.hotspotIndex(ctx, req.disc, res, req.version)
	if err != nil {
		return nil, err
	}
	pop, err := s.cellPopulation(ctx, res, req.version)
	if err != nil {
		return nil, err
	}
	tensions, err := s.tensionIndex(ctx, res, req.version)
	if err != nil {
		return nil, err
	}
	var feats []tiles.Feature
	cs.index.Search(tileBound(req.tile), func(cell uint64) bool {
		c := counts[cell]
		hex := s.tiles.hexes.Get(cell)
		props := map[string]any{"cell": geo.CellString(cell)}
		shown := req.disc.count(c.Count, geo.CellString(cell), "total")
		h, hot := gi[cell]
		if shown == nil && !hot && !req.disc.exact {
			// Withheld and no hot spot class: left out like an empty cell.
			return true
		}
		if shown == nil {
			props["suppressed"] = 1
		} else {
			props["count"] = *shown
			if p := pop[cell]; p >= 50 {
				if rate := req.disc.rate(shown, int(p+0.5)); rate != nil {
					props["rate"] = *rate
				}
			}
		}
		if hot {
			if req.disc.exact {
				props["z"] = round3(h.Z)
			}
			props["confidence"] = h.Confidence
			props["category"] = string(h.Category)
		}
		if level, ok := tensions[cell]; ok {
			props["tension"] = level
		}
		feats = append(feats, tiles.Feature{ID: cell, Geometry: hex.Polygon, Properties: props})
		return true
	})
	keepMetric(feats, req.metric)
	if len(feats) > maxFeatures {
		sort.Slice(feats, func(i, j int) bool { return counts[feats[i].ID].Count > counts[feats[j].ID].Count })
		feats = feats[:maxFeatures]
	}
	return feats, nil
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5*sign(v))) / 1000 }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func (s *Server) areaFeatures(ctx context.Context, req *tileRequest) ([]tiles.Feature, error) {
	areas, err := s.areasOf(ctx, req.version)
	if err != nil {
		return nil, err
	}
	level := req.level
	if level == "" {
		level = finestLevel(areas)
	}
	v, err := s.tiles.derived.get(fmt.Sprintf("areacounts|%s|%s|%s", level, filterKey(req.filter), req.version), func() (any, error) {
		counts, err := s.store.AreaCounts(ctx, level, req.filter)
		if err != nil {
			return nil, err
		}
		m := map[string]geo.AreaCount{}
		for _, c := range counts {
			m[c.Area.Code] = c
		}
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	counts := v.(map[string]geo.AreaCount)
	bound := tileBound(req.tile)
	var feats []tiles.Feature
	for _, a := range areas {
		if a.Level != level || !tiles.Intersects(a.Geometry.Bound(), bound) {
			continue
		}
		c := counts[a.Code]
		props := map[string]any{"code": a.Code, "name": a.Name, "level": a.Level}
		if a.Population > 0 {
			props["population"] = a.Population
		}
		if shown := req.disc.count(c.Count, a.Code, "total"); shown == nil {
			props["suppressed"] = 1
		} else {
			props["count"] = *shown
			if rate := req.disc.rate(shown, a.Population); rate != nil {
				props["rate"] = *rate
			}
		}
		feats = append(feats, tiles.Feature{ID: uint64(a.ID), Geometry: a.Geometry, Properties: props})
	}
	keepMetric(feats, req.metric)
	return feats, nil
}

// layerMetrics are the measures a layer's metric parameter may ask for.
var layerMetrics = map[string][]string{layerHotspots: {"count", "rate", "z", "category"}, layerAreas: {"count", "rate"}}

// metricProps are the properties that belong to each measure.
var metricProps = map[string][]string{"count": {"count"}, "rate": {"rate"}, "z": {"z", "confidence"}, "category": {"category"}}

// keepMetric drops from each feature the properties of every measure but the one
// asked for, so that a map showing one measure fetches smaller tiles; nothing when
// none is asked for. Identity, suppression and tension stay.
func keepMetric(feats []tiles.Feature, metric string) {
	if metric == "" {
		return
	}
	for _, f := range feats {
		for m, keys := range metricProps {
			if m == metric {
				continue
			}
			for _, k := range keys {
				delete(f.Properties, k)
			}
		}
	}
}

// finestLevel is the level with the most areas.
func finestLevel(areas []geo.Area) string {
	n := map[string]int{}
	best := ""
	for _, a := range areas {
		n[a.Level]++
		if best == "" || n[a.Level] > n[best] {
			best = a.Level
		}
	}
	return best
}

// openStatuses are the statuses of an alert still being dealt with.
var openStatuses = []string{tension.StatusNew, tension.StatusAcknowledged, tension.StatusAssessmentOpened}

// alertsOf returns the alerts of the last 90 days with the statuses given.
func (s *Server) alertsOf(ctx context.Context, status []string, version string) ([]tension.StoredAlert, error) {
	v, err := s.tiles.derived.get(fmt.Sprintf("alerts|%s|%s", strings.Join(sortedCopy(status), ","), analysisVersion(version)), func() (any, error) {
		return s.store.Alerts(ctx, tension.AlertFilter{Status: status, Since: s.opts.Now().AddDate(0, 0, -90), Limit: 1000})
	})
	if err != nil {
		return nil, err
	}
	return v.([]tension.StoredAlert), nil
}

// tensionIndex is the highest tension level of the open alerts over each cell at
// res: the cells of a cluster, or those whose centres lie in an alert's areas.
func (s *Server) tensionIndex(ctx context.Context, res int, version string) (map[uint64]string, error) {
	v, err := s.tiles.derived.get(fmt.Sprintf("tension|%d|%s", res, analysisVersion(version)), func() (any, error) {
		alerts, err := s.alertsOf(ctx, openStatuses, version)
		if err != nil {
			return nil, err
		}
		areas, err := s.areasOf(ctx, version)
		if err != nil {
			return nil, err
		}
		byCode := map[string]*geo.Area{}
		for i := range areas {
			byCode[areas[i].Code] = &areas[i]
		}
		scale := tension.Scale(s.opts.TensionScale)
		out := map[uint64]string{}
		mark := func(cell uint64, level string) {
			if prev, ok := out[cell]; !ok || scale.Rank(level) > scale.Rank(prev) {
				out[cell] = level
			}
		}
		for _, a := range alerts {
			if scale.Rank(a.TensionLevel) < 0 {
				continue
			}
			for _, c := range a.Cells {
				for _, x := range geo.CellsAt(c, res) {
					mark(x, a.TensionLevel)
				}
			}
			if len(a.Cells) == 0 {
				spans := a.Areas
				if len(spans) == 0 { // a citywide alert: every area
					spans = nil
					for i := range areas {
						spans = append(spans, areas[i].Code)
					}
				}
				for _, code := range spans {
					if ar, ok := byCode[code]; ok {
						for _, x := range geo.PolygonCells(ar.Geometry, res) {
							mark(x, a.TensionLevel)
						}
					}
				}
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[uint64]string), nil
}

func (s *Server) alertFeatures(ctx context.Context, req *tileRequest) ([]tiles.Feature, error) {
	status := req.status
	if len(status) == 0 {
		status = openStatuses
	}
	alerts, err := s.alertsOf(ctx, status, req.version)
	if err != nil {
		return nil, err
	}
	areas, err := s.areasOf(ctx, req.version)
	if err != nil {
		return nil, err
	}
	byCode := map[string]*geo.Area{}
	for i := range areas {
		byCode[areas[i].Code] = &areas[i]
	}
	bound := tileBound(req.tile)
	var feats []tiles.Feature
	for _, a := range alerts {
		var mp orb.MultiPolygon
		for _, c := range a.Cells {
			mp = append(mp, s.tiles.hexes.Get(c).Polygon)
		}
		scope := "cells"
		switch {
		case len(mp) == 0 && len(a.Areas) > 0:
			// An alert of areas: every area it names, each outlined.
			scope = "areas"
			for _, code := range a.Areas {
				if ar, ok := byCode[code]; ok {
					mp = append(mp, ar.Geometry...)
				}
			}
		case len(mp) == 0:
			// A citywide alert (a rise after a trigger event, say): the outline of
			// every area together.
			scope = "citywide"
			outline, err := s.areasOutline(ctx, req.version)
			if err != nil {
				return nil, err
			}
			mp = outline
		}
		if len(mp) == 0 || !tiles.Intersects(mp.Bound(), bound) {
			continue
		}
		props := map[string]any{"id": a.ID, "method": a.Method, "tension_level": a.TensionLevel, "status": a.Status, "scope": scope}
		if shown := req.disc.count(int(a.Observed + 0.5)); shown != nil {
			props["observed"] = *shown
		}
		feats = append(feats, tiles.Feature{ID: uint64(a.ID), Geometry: mp, Properties: props})
	}
	return feats, nil
}

func (s *Server) nearRepeatFeatures(ctx context.Context, req *tileRequest) ([]tiles.Feature, error) {
	v, err := s.tiles.derived.get("nearrepeat|"+analysisVersion(req.version), func() (any, error) {
		nr, _, err := s.store.NearRepeat(ctx)
		if geo.ErrorCode(err) == geo.ENOTFOUND {
			return &tension.NearRepeatReport{}, nil
		}
		return nr, err
	})
	if err != nil {
		return nil, err
	}
	nr := v.(*tension.NearRepeatReport)
	bound := tileBound(req.tile)
	var feats []tiles.Feature
	for _, z := range nr.Zones {
		hex := s.tiles.hexes.Get(z.Cell)
		if !tiles.Intersects(hex.Bound, bound) {
			continue
		}
		feats = append(feats, tiles.Feature{ID: z.Cell, Geometry: hex.Polygon, Properties: map[string]any{
			"cell": geo.CellString(z.Cell), "until": time.Unix(int64(z.Until)*86400, 0).UTC().Format(time.DateOnly), "incidents": z.Incidents}})
	}
	return feats, nil
}

func (s *Server) incidentFeatures(ctx context.Context, req *tileRequest) ([]tiles.Feature, error) {
	b := tileBound(req.tile)
	q := geo.IncidentQuery{Filter: req.filter, BBox: &geo.Bound{West: b.Min[0], South: b.Min[1], East: b.Max[0], North: b.Max[1]}, Limit: maxFeatures}
	if req.who.Scoped() {
		q.Scope = req.who.Areas
	}
	rows, err := s.store.Incidents(ctx, q)
	if err != nil {
		return nil, err
	}
	feats := make([]tiles.Feature, 0, len(rows))
	for _, in := range rows {
		if !in.Precision.Located() {
			continue
		}
		feats = append(feats, tiles.Feature{ID: uint64(in.ID), Geometry: orb.Point{in.Location.Lon, in.Location.Lat}, Properties: map[string]any{
			"id": in.ID, "kind": string(in.Kind), "strands": strings.Join(in.Strands, ","), "day": in.OccurredFrom.Format(time.DateOnly)}})
	}
	return feats, nil
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
