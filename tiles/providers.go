package tiles

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// LayerMetrics are the measures a layer's metric parameter may ask for.
var LayerMetrics = map[string][]string{LayerHotspots: {"count", "rate", "z", "category"}, LayerAreas: {"count", "rate"}}

// metricProps are the properties that belong to each measure.
var metricProps = map[string][]string{"count": {"count"}, "rate": {"rate"}, "z": {"z", "confidence"}, "category": {"category"}}

// keepMetric drops from each feature the properties of every measure but the one
// asked for, so that a map showing one measure fetches smaller tiles; nothing when
// none is asked for. Identity, suppression and tension stay.
func keepMetric(feats []Feature, metric string) {
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

// Round3 rounds to three decimals, half away from zero.
func Round3(v float64) float64 { return float64(int64(v*1000+0.5*sign(v))) / 1000 }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// hotspotLayer draws H3 hexagons: counts, rates, the hot spot analysis and the
// tension level of open alerts.
type hotspotLayer struct{ s *Service }

func (p hotspotLayer) Layer(ctx context.Context, req *Request) (Layer, error) {
	s := p.s
	l := Layer{Name: req.Layer}
	rs, err := s.Resolutions(ctx)
	if err != nil || len(rs) == 0 {
		return l, err
	}
	res := ResForZoom(int(req.Tile.Z), rs)
	cs, pop, err := s.cellsFor(ctx, req.Tile, res, req.Filter, req.Version)
	if err != nil {
		return l, err
	}
	counts := cs.Counts
	d := req.Disclosure
	gi, err := s.HotspotIndex(ctx, d, res, req.Version)
	if err != nil {
		return l, err
	}
	tensions, err := s.TensionIndex(ctx, res, req.Version)
	if err != nil {
		return l, err
	}
	var feats []Feature
	if th := s.TileHexagons(req.Tile, res); th != nil {
		buf := featureBufs.Get().(*featureBuf)
		feats = hotspotFeatures(buf, th, counts, pop, gi, tensions, d, req.Metric)
		l.release = func() { buf.release() }
	} else {
		feats = hotspotFeaturesIndexed(s, req, cs, pop, gi, tensions, d)
	}
	if len(feats) > MaxFeatures {
		sort.Slice(feats, func(i, j int) bool { return counts[feats[i].ID].Count > counts[feats[j].ID].Count })
		feats = feats[:MaxFeatures]
	}
	l.Features = feats
	return l, nil
}

// hotspotFeatures builds the features of a hotspot tile from its hexagons drawn
// once, in cell order, with typed properties in key order: the same tile as
// hotspotFeaturesIndexed draws, without a map or a projection a feature.
func hotspotFeatures(buf *featureBuf, th *TileHexagons, counts map[uint64]*geo.CellCount, pop map[uint64]float64, gi map[uint64]tension.Hotspot,
	tensions map[uint64]string, d Disclosure, metric string) []Feature {
	exact := d.Exact()
	keep := func(key string) bool { return metric == "" || metricOf[key] == "" || metricOf[key] == metric }
	feats, props, count := buf.feats[:0], buf.props[:0], new(int)
	if cap(props) < 4*len(th.Hexagons) {
		props = make([]Prop, 0, 8*len(th.Hexagons))
	}
	defer func() { buf.feats, buf.props = feats, props }()
	for i := range th.Hexagons {
		hex := &th.Hexagons[i]
		c, ok := counts[hex.Cell]
		if !ok {
			continue
		}
		// Counts shown as they are need no asking (Exact); the one shown is kept in a
		// single int for the tile, read by Rate and not kept.
		var shown *int
		if exact {
			*count = c.Count
			shown = count
		} else if shown = d.Count(c.Count, hex.ID, "total"); shown != nil {
			*count = *shown
			shown = count
		}
		h, hot := gi[hex.Cell]
		if shown == nil && !hot && !exact {
			// Withheld and no hot spot class: left out like an empty cell.
			continue
		}
		at := len(props)
		// In key order: category, cell, confidence, count, rate, suppressed, tension, z.
		if hot && keep("category") {
			props = append(props, StringProp("category", string(h.Category)))
		}
		props = append(props, StringProp("cell", hex.ID))
		if hot && keep("confidence") {
			props = append(props, IntProp("confidence", h.Confidence))
		}
		if shown != nil {
			if keep("count") {
				props = append(props, IntProp("count", *shown))
			}
			if p := pop[hex.Cell]; p >= 50 && keep("rate") {
				if rate := d.Rate(shown, int(p+0.5)); rate != nil {
					props = append(props, FloatProp("rate", *rate))
				}
			}
		} else {
			props = append(props, IntProp("suppressed", 1))
		}
		if level, ok := tensions[hex.Cell]; ok {
			props = append(props, StringProp("tension", level))
		}
		if hot && exact && keep("z") {
			props = append(props, FloatProp("z", Round3(h.Z)))
		}
		feats = append(feats, Feature{ID: hex.Cell, Props: props[at:len(props):len(props)], hex: hex})
	}
	return feats
}

// featureBuf holds the features and properties of a tile being built, reused from
// tile to tile: a hotspot tile's features live until it is encoded.
type featureBuf struct {
	feats []Feature
	props []Prop
}

var featureBufs = sync.Pool{New: func() any { return new(featureBuf) }}

// release clears what the features point to and returns the buffer for another tile.
func (b *featureBuf) release() {
	clear(b.feats)
	clear(b.props)
	featureBufs.Put(b)
}

// metricOf names the measure each property belongs to (see metricProps).
var metricOf = func() map[string]string {
	m := map[string]string{}
	for metric, keys := range metricProps {
		for _, k := range keys {
			m[k] = metric
		}
	}
	return m
}()

// hotspotFeaturesIndexed builds the features of a hotspot tile too wide for
// TileHexagons, through the index of the cells with counts.
func hotspotFeaturesIndexed(s *Service, req *Request, cs *CellSet, pop map[uint64]float64, gi map[uint64]tension.Hotspot,
	tensions map[uint64]string, d Disclosure) []Feature {
	counts := cs.Counts
	exact := d.Exact()
	var feats []Feature
	cs.Index.Search(Bound(req.Tile), func(cell uint64) bool {
		c := counts[cell]
		hex := s.hexes.Get(cell)
		props := map[string]any{"cell": geo.CellString(cell)}
		shown := d.Count(c.Count, geo.CellString(cell), "total")
		h, hot := gi[cell]
		if shown == nil && !hot && !exact {
			// Withheld and no hot spot class: left out like an empty cell.
			return true
		}
		if shown == nil {
			props["suppressed"] = 1
		} else {
			props["count"] = *shown
			if p := pop[cell]; p >= 50 {
				if rate := d.Rate(shown, int(p+0.5)); rate != nil {
					props["rate"] = *rate
				}
			}
		}
		if hot {
			if exact {
				props["z"] = Round3(h.Z)
			}
			props["confidence"] = h.Confidence
			props["category"] = string(h.Category)
		}
		if level, ok := tensions[cell]; ok {
			props["tension"] = level
		}
		feats = append(feats, Feature{ID: cell, Geometry: hex.Polygon, Properties: props})
		return true
	})
	keepMetric(feats, req.Metric)
	return feats
}

// areaLayer draws area boundaries with their counts and rates.
type areaLayer struct{ s *Service }

func (p areaLayer) Layer(ctx context.Context, req *Request) (Layer, error) {
	s := p.s
	l := Layer{Name: req.Layer, Simplify: 1}
	areas, err := s.Areas(ctx, req.Version)
	if err != nil {
		return l, err
	}
	level := req.Level
	if level == "" {
		level = FinestLevel(areas)
	}
	counts, err := s.AreaCounts(ctx, level, req.Filter, req.Version)
	if err != nil {
		return l, err
	}
	d := req.Disclosure
	bound := Bound(req.Tile)
	var feats []Feature
	for _, a := range areas {
		if a.Level != level || !Intersects(a.Geometry.Bound(), bound) {
			continue
		}
		c := counts[a.Code]
		props := map[string]any{"code": a.Code, "name": a.Name, "level": a.Level}
		if a.Population > 0 {
			props["population"] = a.Population
		}
		if shown := d.Count(c.Count, a.Code, "total"); shown == nil {
			props["suppressed"] = 1
		} else {
			props["count"] = *shown
			if rate := d.Rate(shown, a.Population); rate != nil {
				props["rate"] = *rate
			}
		}
		feats = append(feats, Feature{ID: uint64(a.ID), Geometry: a.Geometry, Properties: props})
	}
	keepMetric(feats, req.Metric)
	l.Features = feats
	return l, nil
}

// alertLayer draws the tension engine's alerts: their cells, their areas, or the
// outline of every area for a citywide one.
type alertLayer struct{ s *Service }

func (p alertLayer) Layer(ctx context.Context, req *Request) (Layer, error) {
	s := p.s
	l := Layer{Name: req.Layer}
	status := req.Status
	if len(status) == 0 {
		status = OpenStatuses
	}
	alerts, err := s.Alerts(ctx, status, req.Version)
	if err != nil {
		return l, err
	}
	areas, err := s.Areas(ctx, req.Version)
	if err != nil {
		return l, err
	}
	byCode := map[string]*geo.Area{}
	for i := range areas {
		byCode[areas[i].Code] = &areas[i]
	}
	bound := Bound(req.Tile)
	var feats []Feature
	for _, a := range alerts {
		var mp orb.MultiPolygon
		for _, c := range a.Cells {
			mp = append(mp, s.hexes.Get(c).Polygon)
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
			outline, err := s.AreasOutline(ctx, req.Version)
			if err != nil {
				return l, err
			}
			mp = outline
		}
		if len(mp) == 0 || !Intersects(mp.Bound(), bound) {
			continue
		}
		props := map[string]any{"id": a.ID, "method": a.Method, "tension_level": a.TensionLevel, "status": a.Status, "scope": scope}
		if shown := req.Disclosure.Count(int(a.Observed + 0.5)); shown != nil {
			props["observed"] = *shown
		}
		feats = append(feats, Feature{ID: uint64(a.ID), Geometry: mp, Properties: props})
	}
	l.Features = feats
	return l, nil
}

// nearRepeatLayer draws today's near-repeat risk zones.
type nearRepeatLayer struct{ s *Service }

func (p nearRepeatLayer) Layer(ctx context.Context, req *Request) (Layer, error) {
	s := p.s
	l := Layer{Name: req.Layer}
	nr, err := s.NearRepeat(ctx, req.Version)
	if err != nil {
		return l, err
	}
	bound := Bound(req.Tile)
	for _, z := range nr.Zones {
		hex := s.hexes.Get(z.Cell)
		if !Intersects(hex.Bound, bound) {
			continue
		}
		l.Features = append(l.Features, Feature{ID: z.Cell, Geometry: hex.Polygon, Properties: map[string]any{
			"cell": geo.CellString(z.Cell), "until": time.Unix(int64(z.Until)*86400, 0).UTC().Format(time.DateOnly), "incidents": z.Incidents}})
	}
	return l, nil
}

// incidentLayer draws incident points, read for the tile's bound alone.
type incidentLayer struct{ s *Service }

func (p incidentLayer) Layer(ctx context.Context, req *Request) (Layer, error) {
	l := Layer{Name: req.Layer}
	b := Bound(req.Tile)
	q := geo.IncidentQuery{Filter: req.Filter, BBox: &geo.Bound{West: b.Min[0], South: b.Min[1], East: b.Max[0], North: b.Max[1]}, Limit: MaxFeatures}
	if len(req.Scope) > 0 {
		q.Scope = req.Scope
	}
	rows, err := p.s.src.Incidents(ctx, q)
	if err != nil {
		return l, err
	}
	l.Features = make([]Feature, 0, len(rows))
	for _, in := range rows {
		if !in.Precision.Located() {
			continue
		}
		l.Features = append(l.Features, Feature{ID: uint64(in.ID), Geometry: orb.Point{in.Location.Lon, in.Location.Lat}, Properties: map[string]any{
			"id": in.ID, "kind": string(in.Kind), "strands": strings.Join(in.Strands, ","), "day": in.OccurredFrom.Format(time.DateOnly)}})
	}
	return l, nil
}
