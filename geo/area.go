package geo

import (
	"time"

	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
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

// AreaIndex answers which areas contain a point, for attribution at ingest.
type AreaIndex struct {
	tree  rtree.RTreeG[int]
	areas []Area
}

// NewAreaIndex indexes areas by their bounding boxes.
func NewAreaIndex(areas []Area) *AreaIndex {
	ix := &AreaIndex{areas: areas}
	for i, a := range areas {
		b := a.Geometry.Bound()
		ix.tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, i)
	}
	return ix
}

// Len returns the number of areas indexed.
func (ix *AreaIndex) Len() int { return len(ix.areas) }

// Containing returns the ids of the areas whose polygons contain p (boundary
// included, as PostGIS ST_Intersects does), ascending, appended to dst.
func (ix *AreaIndex) Containing(dst []int32, p LatLon) []int32 {
	pt := orb.Point{p.Lon, p.Lat}
	start := len(dst)
	ix.tree.Search([2]float64{p.Lon, p.Lat}, [2]float64{p.Lon, p.Lat}, func(_, _ [2]float64, i int) bool {
		if planar.MultiPolygonContains(ix.areas[i].Geometry, pt) {
			dst = append(dst, ix.areas[i].ID)
		}
		return true
	})
	slices.Sort(dst[start:])
	return dst
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
