package geo

import (
	"time"

	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Area is a boundary incidents are attributed to: an LSOA, a ward, a police beat.
// Codes are unique across levels.
type Area struct {
	ID         int32
	Level      string
	Code       string
	Name       string
	Geometry   orb.MultiPolygon // WGS84, [lon, lat]
	Population int              // 0 when unknown
}

// AreasBound is the bound of every area's geometry; ok is false when no area has one.
func AreasBound(areas []Area) (b orb.Bound, ok bool) {
	for _, a := range areas {
		if len(a.Geometry) == 0 {
			continue
		}
		if !ok {
			b, ok = a.Geometry.Bound(), true
		} else {
			b = b.Union(a.Geometry.Bound())
		}
	}
	return b, ok
}

// AreaIndex answers which areas contain a point, for attribution at ingest. It
// indexes every polygon by its bounding box.
type AreaIndex struct {
	tree  rtree.RTreeG[int]
	polys []indexedPolygon
	n     int
}

type indexedPolygon struct {
	area  int32
	rings []orb.Ring // exterior first, then holes
}

// NewAreaIndex indexes areas' polygons by their bounding boxes.
func NewAreaIndex(areas []Area) *AreaIndex {
	ix := &AreaIndex{n: len(areas)}
	for _, a := range areas {
		for _, p := range a.Geometry {
			if len(p) == 0 {
				continue
			}
			b := p[0].Bound()
			ix.tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, len(ix.polys))
			ix.polys = append(ix.polys, indexedPolygon{area: a.ID, rings: p})
		}
	}
	return ix
}

// Len returns the number of areas indexed.
func (ix *AreaIndex) Len() int { return ix.n }

// Containing returns the ids of the areas whose polygons contain p (boundary
// included, as PostGIS ST_Intersects does), ascending and once each, appended to dst.
func (ix *AreaIndex) Containing(dst []int32, p LatLon) []int32 {
	pt := orb.Point{p.Lon, p.Lat}
	start := len(dst)
	ix.tree.Search([2]float64{p.Lon, p.Lat}, [2]float64{p.Lon, p.Lat}, func(_, _ [2]float64, i int) bool {
		if polygonCovers(ix.polys[i].rings, pt) {
			dst = append(dst, ix.polys[i].area)
		}
		return true
	})
	slices.Sort(dst[start:])
	return append(dst[:start], slices.Compact(dst[start:])...)
}

// polygonCovers reports whether a point is inside a polygon or on its boundary
// (a hole's boundary included).
func polygonCovers(rings []orb.Ring, p orb.Point) bool {
	in, on := ringCovers(rings[0], p)
	if on {
		return true
	}
	if !in {
		return false
	}
	for _, hole := range rings[1:] {
		in, on := ringCovers(hole, p)
		if on {
			return true
		}
		if in {
			return false
		}
	}
	return true
}

// ringCovers tests a point against a closed ring by the crossing number, reporting
// separately a point on an edge or vertex.
func ringCovers(r orb.Ring, p orb.Point) (inside, onEdge bool) {
	x, y := p[0], p[1]
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		xi, yi, xj, yj := r[i][0], r[i][1], r[j][0], r[j][1]
		if xi == x && yi == y {
			return false, true
		}
		if (yi > y) != (yj > y) {
			xc := (xj-xi)*(y-yi)/(yj-yi) + xi
			if x == xc {
				return false, true
			}
			if x < xc {
				inside = !inside
			}
		} else if yi == y && yj == y && x >= min(xi, xj) && x <= max(xi, xj) {
			return false, true
		}
	}
	return inside, false
}

// Stats describe what the database holds, for the status page and the logs.
type Stats struct {
	Incidents    int64          `json:"incidents"`
	Located      int64          `json:"located"`
	AreasByLevel map[string]int `json:"areas_by_level"`
	FirstDay     time.Time      `json:"first_day"`
	LastDay      time.Time      `json:"last_day"`
	Resolutions  []int          `json:"resolutions"`
	DataVersion  int64          `json:"data_version"`
	LastIngest   time.Time      `json:"last_ingest"`
}
