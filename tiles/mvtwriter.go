package tiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
	"github.com/paulmach/orb/simplify"
)

// The Mapbox Vector Tile 2.1 protocol buffer, as vector_tile.proto numbers it.
const (
	pbVarint  = 0
	pbFixed64 = 1
	pbBytes   = 2
	pbFixed32 = 5

	tileLayers = 3

	layerName     = 1
	layerFeatures = 2
	layerKeys     = 3
	layerValues   = 4
	layerExtent   = 5
	layerVersion  = 15

	featureID       = 1
	featureTags     = 2
	featureType     = 3
	featureGeometry = 4

	geomPoint      = 1
	geomLineString = 2
	geomPolygon    = 3

	valueString = 1
	valueFloat  = 2
	valueDouble = 3
	valueUint   = 5
	valueSint   = 6
	valueBool   = 7

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// mvtWriter writes a vector tile's protocol buffer straight from the layers: each
// feature's geometry is projected into reused point buffers, oriented, clipped and
// simplified as the specification and the layer ask, and written as commands; keys
// and values are interned per layer. One writer renders one tile at a time; they are
// pooled.
type mvtWriter struct {
	// The projection to tile coordinates (orb's for a power-of-two extent).
	z          uint32
	minx, miny float64

	out  []byte // the tile so far
	lay  []byte // the layer being written: its name and features
	feat []byte // the feature being written
	// fields is the type and geometry fields of the feature being written
	fields []byte
	vals   []byte // the layer's values, each an encoded field

	keys   map[string]uint32
	keyN   []string
	strs   map[string]uint32
	sints  map[int64]uint32
	uints  map[uint64]uint32
	dbls   map[float64]uint32
	flts   map[float32]uint32
	bools  map[bool]uint32
	nvals  uint32
	sorted []string

	tags []uint32
	geom []uint32
	pts  []orb.Point
	rngs []orb.Ring
	plys []orb.Polygon
}

var mvtWriters = sync.Pool{New: func() any {
	return &mvtWriter{keys: map[string]uint32{}, strs: map[string]uint32{}, sints: map[int64]uint32{}, uints: map[uint64]uint32{},
		dbls: map[float64]uint32{}, flts: map[float32]uint32{}, bools: map[bool]uint32{}}
}}

// start readies the writer for a tile.
func (w *mvtWriter) start(t maptile.Tile) {
	n := uint32(bits.TrailingZeros32(Extent))
	w.z = uint32(t.Z) + n
	w.minx, w.miny = float64(uint64(t.X)<<n), float64(uint64(t.Y)<<n)
	w.out = w.out[:0]
}

// toTile projects a WGS84 point to tile coordinates exactly as orb's mvt package
// does: Web Mercator at the tile's zoom plus the extent's bits, floored.
func (w *mvtWriter) toTile(p orb.Point) orb.Point {
	maxtiles := float64(uint64(1 << w.z))
	x := (p[0]/360.0 + 0.5) * maxtiles
	var y float64
	siny := math.Sin(p[1] * math.Pi / 180.0)
	if siny > 0.9999 {
		y = 0
	} else if siny < -0.9999 {
		y = maxtiles - 1
	} else {
		y = (0.5 + 0.5*math.Log((1.0+siny)/(1.0-siny))/(-2*math.Pi)) * maxtiles
	}
	return orb.Point{math.Floor(x - w.minx), math.Floor(y - w.miny)}
}

// ring projects a ring into the point buffer; the result's capacity ends with it, so
// that clipping or simplifying one ring never writes over the next.
func (w *mvtWriter) ring(r orb.Ring) orb.Ring {
	at := len(w.pts)
	for _, p := range r {
		w.pts = append(w.pts, w.toTile(p))
	}
	return orb.Ring(w.pts[at:len(w.pts):len(w.pts)])
}

func (w *mvtWriter) polygon(p orb.Polygon) orb.Polygon {
	at := len(w.rngs)
	for _, r := range p {
		w.rngs = append(w.rngs, w.ring(r))
	}
	return orb.Polygon(w.rngs[at:len(w.rngs):len(w.rngs)])
}

// project returns a feature's geometry in tile coordinates, built in the writer's
// buffers (the caller's geometry is left as it is).
func (w *mvtWriter) project(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		return w.toTile(g)
	case orb.Polygon:
		return w.polygon(g)
	case orb.MultiPolygon:
		at := len(w.plys)
		for _, p := range g {
			w.plys = append(w.plys, w.polygon(p))
		}
		return orb.MultiPolygon(w.plys[at:len(w.plys):len(w.plys)])
	case nil:
		return nil
	}
	return project.Geometry(orb.Clone(g), w.toTile)
}

// layer writes a layer, or nothing when none of its features is left in the tile.
func (w *mvtWriter) layer(l Layer) error {
	w.lay = appendString(w.lay[:0], layerName, l.Name)
	w.vals = w.vals[:0]
	clear(w.keys)
	clear(w.strs)
	clear(w.sints)
	clear(w.uints)
	clear(w.dbls)
	clear(w.flts)
	clear(w.bools)
	w.keyN, w.nvals = w.keyN[:0], 0
	var simp orb.Simplifier
	if l.Simplify > 0 {
		simp = simplify.DouglasPeucker(l.Simplify)
	}
	n := 0
	for i := range l.Features {
		f := &l.Features[i]
		if f.hex != nil {
			// Drawn in this tile once, for every tile of its cells.
			if f.hex.geom == nil {
				continue
			}
			if err := w.feature(f, f.hex.geom); err != nil {
				return err
			}
			n++
			continue
		}
		geom, typ, ok, err := w.draw(f.Geometry, simp)
		if err != nil {
			return err
		} else if !ok {
			continue
		}
		w.fields = appendVarintField(w.fields[:0], featureType, uint64(typ))
		w.fields = appendPacked(w.fields, featureGeometry, geom)
		if err := w.feature(f, w.fields); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return nil
	}
	for _, k := range w.keyN {
		w.lay = appendString(w.lay, layerKeys, k)
	}
	w.lay = append(w.lay, w.vals...)
	w.lay = appendVarintField(w.lay, layerExtent, Extent)
	w.lay = appendVarintField(w.lay, layerVersion, 2)
	w.out = appendBytes(w.out, tileLayers, w.lay)
	return nil
}

// draw writes a feature's geometry as commands in w.geom, returned with its type:
// projected to the tile, oriented, clipped to the tile and its buffer, simplified
// with simp when not nil; ok is false when nothing of it is left.
func (w *mvtWriter) draw(g orb.Geometry, simp orb.Simplifier) (geom []uint32, typ int, ok bool, err error) {
	w.pts, w.rngs, w.plys = w.pts[:0], w.rngs[:0], w.plys[:0]
	if g == nil {
		return nil, 0, false, nil
	}
	g = w.project(g)
	orient(g)
	if g = clipGeometry(g); g == nil {
		return nil, 0, false, nil
	}
	if simp != nil {
		if g = simp.Simplify(g); g == nil {
			return nil, 0, false, nil
		}
	}
	if !kept(g) {
		return nil, 0, false, nil
	}
	if c, ok := g.(orb.Collection); ok {
		// As orb writes a collection: its first geometry alone.
		if len(c) == 0 {
			return nil, 0, false, errors.New("geometry collections are not supported")
		}
		g = c[0]
	}
	if typ, err = w.geometry(g); err != nil {
		return nil, 0, false, err
	}
	return w.geom, typ, true, nil
}

// kept says whether a feature survives dropping the empty ones: a line shorter than
// one tile unit or an area smaller than one square unit is left out.
func kept(g orb.Geometry) bool {
	switch g.Dimensions() {
	case 0:
		return true
	case 1:
		return planar.Length(g) >= 1
	case 2:
		return planar.Area(g) >= 1
	}
	return false
}

// feature writes one feature: its id, its tags and fields, the encoded type and
// geometry fields.
func (w *mvtWriter) feature(f *Feature, fields []byte) error {
	w.tags = w.tags[:0]
	if f.Props != nil {
		for i := range f.Props {
			p := &f.Props[i]
			var vi uint32
			switch p.kind {
			case propString:
				vi = w.str(p.s)
			case propInt:
				vi = w.sint(p.i)
			case propFloat:
				vi = w.dbl(p.f)
			}
			w.tags = append(w.tags, w.key(p.Key), vi)
		}
	} else {
		w.sorted = w.sorted[:0]
		for k := range f.Properties {
			w.sorted = append(w.sorted, k)
		}
		slices.Sort(w.sorted)
		for _, k := range w.sorted {
			vi, err := w.value(f.Properties[k])
			if err != nil {
				return fmt.Errorf("error encoding geometry: %v : property %s: %v", f.Geometry, k, err)
			}
			w.tags = append(w.tags, w.key(k), vi)
		}
	}
	w.feat = appendVarintField(w.feat[:0], featureID, f.ID)
	w.feat = appendPacked(w.feat, featureTags, w.tags)
	w.feat = append(w.feat, fields...)
	w.lay = appendBytes(w.lay, layerFeatures, w.feat)
	return nil
}

func (w *mvtWriter) key(k string) uint32 {
	if i, ok := w.keys[k]; ok {
		return i
	}
	i := uint32(len(w.keyN))
	w.keyN = append(w.keyN, k)
	w.keys[k] = i
	return i
}

// value interns a property value and returns its index, typed as orb's encoder
// types it: strings (and Stringers, and JSON for what is not comparable), signed
// integers as sint, unsigned as uint, float32 as float, float64 as double, bools.
func (w *mvtWriter) value(v any) (uint32, error) {
	if v == nil || !reflect.TypeOf(v).Comparable() {
		data, err := json.Marshal(v)
		if err != nil {
			return 0, fmt.Errorf("uncomparable: %T", v)
		}
		v = string(data)
	}
	switch t := v.(type) {
	case string:
		return w.str(t), nil
	case fmt.Stringer:
		return w.str(t.String()), nil
	case int:
		return w.sint(int64(t)), nil
	case int8:
		return w.sint(int64(t)), nil
	case int16:
		return w.sint(int64(t)), nil
	case int32:
		return w.sint(int64(t)), nil
	case int64:
		return w.sint(t), nil
	case uint:
		return w.uint(uint64(t)), nil
	case uint8:
		return w.uint(uint64(t)), nil
	case uint16:
		return w.uint(uint64(t)), nil
	case uint32:
		return w.uint(uint64(t)), nil
	case uint64:
		return w.uint(t), nil
	case float32:
		if i, ok := w.flts[t]; ok {
			return i, nil
		}
		w.flts[t] = w.nvals
		var b [4]byte
		b[0], b[1], b[2], b[3] = byte(math.Float32bits(t)), byte(math.Float32bits(t)>>8), byte(math.Float32bits(t)>>16), byte(math.Float32bits(t)>>24)
		return w.addValue(append(appendTag(nil, valueFloat, pbFixed32), b[:]...)), nil
	case float64:
		return w.dbl(t), nil
	case bool:
		if i, ok := w.bools[t]; ok {
			return i, nil
		}
		w.bools[t] = w.nvals
		var u uint64
		if t {
			u = 1
		}
		return w.addValue(appendVarintField(nil, valueBool, u)), nil
	}
	return 0, fmt.Errorf("unable to encode value of type %T: %v", v, v)
}

func (w *mvtWriter) str(s string) uint32 {
	if i, ok := w.strs[s]; ok {
		return i
	}
	w.strs[s] = w.nvals
	w.vals = appendTag(w.vals, layerValues, pbBytes)
	w.vals = appendVarint(w.vals, uint64(1+varintLen(uint64(len(s)))+len(s)))
	w.vals = appendString(w.vals, valueString, s)
	w.nvals++
	return w.nvals - 1
}

func (w *mvtWriter) sint(v int64) uint32 {
	if i, ok := w.sints[v]; ok {
		return i
	}
	w.sints[v] = w.nvals
	var b [11]byte
	return w.addValue(appendVarintField(b[:0], valueSint, uint64(v<<1)^uint64(v>>63)))
}

func (w *mvtWriter) dbl(v float64) uint32 {
	if i, ok := w.dbls[v]; ok {
		return i
	}
	w.dbls[v] = w.nvals
	u := math.Float64bits(v)
	var b [10]byte
	m := appendTag(b[:0], valueDouble, pbFixed64)
	for s := 0; s < 64; s += 8 {
		m = append(m, byte(u>>s))
	}
	return w.addValue(m)
}

func (w *mvtWriter) uint(v uint64) uint32 {
	if i, ok := w.uints[v]; ok {
		return i
	}
	w.uints[v] = w.nvals
	var b [11]byte
	return w.addValue(appendVarintField(b[:0], valueUint, v))
}

// addValue appends an encoded Value message to the layer's values.
func (w *mvtWriter) addValue(msg []byte) uint32 {
	w.vals = appendBytes(w.vals, layerValues, msg)
	w.nvals++
	return w.nvals - 1
}

// geometry writes g's commands into w.geom and returns its type.
func (w *mvtWriter) geometry(g orb.Geometry) (int, error) {
	w.geom = w.geom[:0]
	var x, y int32
	points := func(ps []orb.Point) {
		for _, p := range ps {
			px, py := int32(p[0]), int32(p[1])
			dx, dy := px-x, py-y
			x, y = px, py
			w.geom = append(w.geom, uint32((dx<<1)^(dx>>31)), uint32((dy<<1)^(dy>>31)))
		}
	}
	ring := func(r orb.Ring) {
		w.geom = append(w.geom, 1<<3|cmdMoveTo)
		points(r[:1])
		rest := r[1:]
		if r.Closed() {
			rest = r[1 : len(r)-1]
		}
		w.geom = append(w.geom, uint32(len(rest))<<3|cmdLineTo)
		points(rest)
		w.geom = append(w.geom, 1<<3|cmdClosePath)
	}
	line := func(l orb.LineString) {
		w.geom = append(w.geom, 1<<3|cmdMoveTo)
		points(l[:1])
		w.geom = append(w.geom, uint32(len(l)-1)<<3|cmdLineTo)
		points(l[1:])
	}
	switch g := g.(type) {
	case orb.Point:
		w.geom = append(w.geom, 1<<3|cmdMoveTo)
		points([]orb.Point{g})
		return geomPoint, nil
	case orb.MultiPoint:
		w.geom = append(w.geom, uint32(len(g))<<3|cmdMoveTo)
		points(g)
		return geomPoint, nil
	case orb.LineString:
		line(g)
		return geomLineString, nil
	case orb.MultiLineString:
		for _, l := range g {
			line(l)
		}
		return geomLineString, nil
	case orb.Ring:
		ring(g)
		return geomPolygon, nil
	case orb.Polygon:
		for _, r := range g {
			ring(r)
		}
		return geomPolygon, nil
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				ring(r)
			}
		}
		return geomPolygon, nil
	case orb.Bound:
		return w.geometry(g.ToPolygon())
	}
	return 0, fmt.Errorf("geometry type not supported: %T", g)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func varintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func appendTag(b []byte, field, wire int) []byte { return appendVarint(b, uint64(field<<3|wire)) }

func appendVarintField(b []byte, field int, v uint64) []byte {
	return appendVarint(appendTag(b, field, pbVarint), v)
}

func appendString(b []byte, field int, s string) []byte {
	b = appendVarint(appendTag(b, field, pbBytes), uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, field int, msg []byte) []byte {
	b = appendVarint(appendTag(b, field, pbBytes), uint64(len(msg)))
	return append(b, msg...)
}

// appendPacked writes a packed repeated uint32 field; nothing when it is empty.
func appendPacked(b []byte, field int, vs []uint32) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += varintLen(uint64(v))
	}
	b = appendVarint(appendTag(b, field, pbBytes), uint64(n))
	for _, v := range vs {
		b = appendVarint(b, uint64(v))
	}
	return b
}
