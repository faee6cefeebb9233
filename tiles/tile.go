package tiles

import (
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
)

// Zoom limits of the hexagon layers.
const (
	MinZoom = 8
	MaxZoom = 16
)

// zoomRes is the H3 resolution whose hexagons suit a zoom: about twenty across a
// tile (at 52°N a zoom-10 tile is 24 km wide and a resolution-7 edge 1.4 km).
var zoomRes = []int{0: 4, 1: 4, 2: 4, 3: 4, 4: 4, 5: 5, 6: 5, 7: 6, 8: 6, 9: 6, 10: 7, 11: 8, 12: 8, 13: 9, 14: 10, 15: 10, 16: 10}

// ResForZoom returns the H3 resolution drawn at a zoom: the ideal one clamped to the
// nearest of the available resolutions (ascending).
func ResForZoom(z int, available []int) int {
	want := zoomRes[min(max(z, 0), len(zoomRes)-1)]
	if len(available) == 0 {
		return want
	}
	best := available[0]
	for _, r := range available {
		if abs(r-want) < abs(best-want) || (abs(r-want) == abs(best-want) && r < best) {
			best = r
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ZoomResolutions maps every zoom of the hexagon layers to its resolution, for
// TileJSON.
func ZoomResolutions(available []int) map[string]int {
	out := map[string]int{}
	for z := 0; z <= MaxZoom; z++ {
		out[strconv.Itoa(z)] = ResForZoom(z, available)
	}
	return out
}

// Tile parses z, x and y and checks the tile exists.
func Tile(zs, xs, ys string) (maptile.Tile, error) {
	ys = strings.TrimSuffix(ys, ".mvt")
	z, err1 := strconv.Atoi(zs)
	x, err2 := strconv.ParseUint(xs, 10, 32)
	y, err3 := strconv.ParseUint(ys, 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || z < 0 || z > 22 {
		return maptile.Tile{}, geo.Errorf(geo.EINVALID, "tile: %s/%s/%s is not a z/x/y tile", zs, xs, ys)
	}
	t := maptile.New(uint32(x), uint32(y), maptile.Zoom(z))
	if !t.Valid() {
		return maptile.Tile{}, geo.Errorf(geo.EINVALID, "tile: %d/%d/%d is outside the world", z, x, y)
	}
	return t, nil
}

// Intersects reports whether two bounds overlap (edges included).
func Intersects(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && b.Min[0] <= a.Max[0] && a.Min[1] <= b.Max[1] && b.Min[1] <= a.Max[1]
}
