package tiles

import (
	"bytes"
	"cmp"
	"github.com/klauspost/compress/gzip"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
)

// Extent is the tiles' coordinate extent, MapLibre's default.
const Extent = 4096

// Buffer is how far, in tile units, geometry reaches past a tile's edge, as
// PostGIS's ST_AsMVTGeom default: enough for outlines to join across tiles.
const Buffer = 64

var clipBox = orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}}

// Bound is the WGS84 bound of a tile with its buffer: the features to draw in it
// are those that meet it.
func Bound(t maptile.Tile) orb.Bound { return t.Bound(float64(Buffer) / Extent) }

// clipGeometry clips a feature's geometry in tile coordinates to the tile and its
// buffer; nil when nothing is left. Most features lie wholly inside and are kept as
// they are.
func clipGeometry(g orb.Geometry) orb.Geometry {
	if b := g.Bound(); !(b.Min[0] >= clipBox.Min[0] && b.Min[1] >= clipBox.Min[1] && b.Max[0] <= clipBox.Max[0] && b.Max[1] <= clipBox.Max[1]) {
		return clip.Geometry(clipBox, g)
	}
	return g
}

// Feature is one feature of a layer, in WGS84, with the id MapLibre's promoteId
// and feature-state use.
type Feature struct {
	ID         uint64
	Geometry   orb.Geometry
	Properties map[string]any
	// Props, when not nil, are the properties, typed and in key order, written in
	// place of Properties: no map and no interface value a feature.
	Props []Prop
	// hex, when not nil, is the feature's geometry already drawn in the tile, written
	// in place of Geometry.
	hex *TileHexagon
}

// Prop is one property of a feature: a string, an integer or a float64 value,
// encoded as the same value in Properties would be.
type Prop struct {
	Key  string
	kind propKind
	s    string
	i    int64
	f    float64
}

type propKind uint8

const (
	propString propKind = iota + 1
	propInt
	propFloat
)

// StringProp is a property of a string value.
func StringProp(key, v string) Prop { return Prop{Key: key, kind: propString, s: v} }

// IntProp is a property of an integer value.
func IntProp(key string, v int) Prop { return Prop{Key: key, kind: propInt, i: int64(v)} }

// FloatProp is a property of a float64 value.
func FloatProp(key string, v float64) Prop { return Prop{Key: key, kind: propFloat, f: v} }

// Value returns the property's value as Properties would hold it.
func (p Prop) Value() any {
	switch p.kind {
	case propString:
		return p.s
	case propInt:
		return int(p.i)
	case propFloat:
		return p.f
	}
	return nil
}

// Layer is a named set of features.
type Layer struct {
	Name     string
	Features []Feature
	// Simplify, when above 0, simplifies geometries by this many tile units
	// (Douglas-Peucker): area boundaries carry far more vertices than a tile shows.
	Simplify float64
	// release, when not nil, returns the features' buffers once the layer is encoded.
	release func()
}

// Encode renders layers as a Mapbox Vector Tile (version 2.1), not compressed (the
// cache gzips the tiles it keeps, after answering: Cache.CompressInBackground):
// features are projected to the tile, clipped to it with a buffer, simplified where
// the layer asks, and emptied ones dropped. It returns nil when no feature is left.
//
// The protocol buffer is written directly (see mvtWriter): keys and values interned
// per layer, geometry commands from the tile coordinates, no intermediate message.
func Encode(t maptile.Tile, layers []Layer) ([]byte, error) {
	w := mvtWriters.Get().(*mvtWriter)
	defer mvtWriters.Put(w)
	w.start(t)
	for _, l := range layers {
		// Features in id order: the same data always gives the same bytes, and so the
		// same ETag.
		slices.SortFunc(l.Features, func(a, b Feature) int { return cmp.Compare(a.ID, b.ID) })
		if err := w.layer(l); err != nil {
			return nil, err
		}
	}
	if len(w.out) == 0 {
		return nil, nil
	}
	return bytes.Clone(w.out), nil
}

// gzipWriters are reused: a gzip writer holds about a megabyte of compressor
// state, more than a tile's whole encoding costs to allocate afresh.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

func gzipBytes(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// orient winds polygons as MVT 2.1 says, in tile coordinates (y down): an exterior
// ring has a positive area by the surveyor's formula, a hole a negative one. A
// GeoJSON or H3 polygon (exterior anticlockwise in longitude and latitude) comes out
// of projection the other way round, and decoders that follow the specification
// would read its holes as islands.
func orient(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Polygon:
		orientPolygon(g)
	case orb.MultiPolygon:
		for _, p := range g {
			orientPolygon(p)
		}
	}
}

func orientPolygon(p orb.Polygon) {
	for i, r := range p {
		want := orb.CW // orb's CW: a negative area in the coordinates as given
		if i == 0 {
			want = orb.CCW
		}
		if o := r.Orientation(); o != 0 && o != want {
			r.Reverse()
		}
	}
}
