package postgis

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// SRID is the spatial reference of every geometry stored: WGS 84 longitude and
// latitude.
const SRID = 4326

// Geometries cross the database boundary as EWKB, which carries the SRID, read and
// written by go-geom; the rest of the service works in orb, and the conversion
// happens here, at the edge.

// marshalEWKB encodes g as little-endian EWKB with SRID 4326.
func marshalEWKB(g orb.Geometry) ([]byte, error) {
	var t geom.T
	switch g := g.(type) {
	case orb.Point:
		t = geom.NewPointFlat(geom.XY, []float64{g[0], g[1]}).SetSRID(SRID)
	case orb.Polygon:
		p, err := geom.NewPolygon(geom.XY).SetCoords(polygonCoords(g))
		if err != nil {
			return nil, err
		}
		t = p.SetSRID(SRID)
	case orb.MultiPolygon:
		cs := make([][][]geom.Coord, len(g))
		for i, p := range g {
			cs[i] = polygonCoords(p)
		}
		mp, err := geom.NewMultiPolygon(geom.XY).SetCoords(cs)
		if err != nil {
			return nil, err
		}
		t = mp.SetSRID(SRID)
	default:
		return nil, fmt.Errorf("a %s cannot be stored, only points and polygons", g.GeoJSONType())
	}
	return ewkb.Marshal(t, binary.LittleEndian)
}

func polygonCoords(p orb.Polygon) [][]geom.Coord {
	out := make([][]geom.Coord, len(p))
	for i, ring := range p {
		r := make([]geom.Coord, len(ring))
		for j, pt := range ring {
			r[j] = geom.Coord{pt[0], pt[1]}
		}
		out[i] = r
	}
	return out
}

// unmarshalEWKB decodes EWKB into orb: points, polygons and multipolygons in SRID
// 4326 (or none given); any other type or SRID is an error naming it.
func unmarshalEWKB(b []byte) (orb.Geometry, error) {
	// go-geom allocates what the counts in the input say: check first that every
	// count fits the bytes there are, so that a corrupt value cannot ask for gigabytes.
	if end, err := checkEWKB(b, 0, 0); err != nil {
		return nil, fmt.Errorf("EWKB: %w", err)
	} else if end != len(b) {
		return nil, fmt.Errorf("EWKB: %d bytes after the geometry", len(b)-end)
	}
	t, err := ewkb.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("EWKB: %w", err)
	}
	switch t.(type) {
	case *geom.Point, *geom.Polygon, *geom.MultiPolygon:
		for i, v := range t.FlatCoords() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("EWKB: coordinate %d is %v", i/t.Stride()+1, v)
			}
		}
	}
	if srid := t.SRID(); srid != 0 && srid != SRID {
		return nil, fmt.Errorf("EWKB: SRID %d, expected %d (WGS 84)", srid, SRID)
	}
	switch g := t.(type) {
	case *geom.Point:
		if g.Empty() {
			return nil, fmt.Errorf("EWKB: an empty point")
		}
		return orb.Point{g.X(), g.Y()}, nil
	case *geom.Polygon:
		return orbPolygon(g.FlatCoords(), g.Ends(), g.Stride()), nil
	case *geom.MultiPolygon:
		flat, stride := g.FlatCoords(), g.Stride()
		out := make(orb.MultiPolygon, 0, len(g.Endss()))
		start := 0
		for _, ends := range g.Endss() {
			p := orbPolygon(flat[start:], shift(ends, start), stride)
			out = append(out, p)
			if len(ends) > 0 {
				start = ends[len(ends)-1]
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("EWKB: a %T, expected a point or a polygon", t)
	}
}

// shift makes ends relative to start.
func shift(ends []int, start int) []int {
	out := make([]int, len(ends))
	for i, e := range ends {
		out[i] = e - start
	}
	return out
}

// orbPolygon makes rings of flat coordinates ending at ends.
func orbPolygon(flat []float64, ends []int, stride int) orb.Polygon {
	p := make(orb.Polygon, 0, len(ends))
	prev := 0
	for _, end := range ends {
		ring := make(orb.Ring, 0, (end-prev)/stride)
		for i := prev; i < end; i += stride {
			ring = append(ring, orb.Point{flat[i], flat[i+1]})
		}
		p = append(p, ring)
		prev = end
	}
	return p
}

// checkEWKB walks the EWKB geometry at off without allocating and returns where it
// ends: every count must fit the bytes left, and collections nest at most 4 deep.
func checkEWKB(b []byte, off, depth int) (int, error) {
	if depth > 4 {
		return 0, fmt.Errorf("collections nested more than 4 deep")
	}
	if len(b)-off < 5 {
		return 0, fmt.Errorf("truncated at byte %d", off)
	}
	var order binary.ByteOrder
	switch b[off] {
	case 0:
		order = binary.BigEndian
	case 1:
		order = binary.LittleEndian
	default:
		return 0, fmt.Errorf("byte order %d at byte %d", b[off], off)
	}
	typ := order.Uint32(b[off+1:])
	off += 5
	stride := 2
	if typ&0x80000000 != 0 {
		stride++
	}
	if typ&0x40000000 != 0 {
		stride++
	}
	if typ&0x20000000 != 0 {
		off += 4
	}
	count := func(each int) (int, error) {
		if len(b)-off < 4 {
			return 0, fmt.Errorf("truncated at byte %d", off)
		}
		n := int(order.Uint32(b[off:]))
		off += 4
		if n > (len(b)-off)/each {
			return 0, fmt.Errorf("%d elements at byte %d, more than the %d bytes left hold", n, off-4, len(b)-off)
		}
		return n, nil
	}
	coords := func() error {
		n, err := count(8 * stride)
		off += n * 8 * stride
		return err
	}
	switch typ & 0x0fffffff {
	case 1: // point
		off += 8 * stride
	case 2: // line
		if err := coords(); err != nil {
			return 0, err
		}
	case 3: // polygon
		n, err := count(4)
		if err != nil {
			return 0, err
		}
		for range n {
			if err := coords(); err != nil {
				return 0, err
			}
		}
	case 4, 5, 6, 7: // multi and collections
		n, err := count(5)
		if err != nil {
			return 0, err
		}
		for range n {
			if off, err = checkEWKB(b, off, depth+1); err != nil {
				return 0, err
			}
		}
	default:
		return 0, fmt.Errorf("geometry type %d", typ&0x0fffffff)
	}
	if off > len(b) {
		return 0, fmt.Errorf("truncated")
	}
	return off, nil
}
