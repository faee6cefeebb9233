package synth

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tidwall/rtree"
)

// polyGeom is the geometry of a town of real boundaries: one cell per small area.
type polyGeom struct {
	index   *geo.AreaIndex     // cell indexes as area IDs
	geoms   []orb.MultiPolygon // by cell
	bounds  []orb.Bound
	samples [][]orb.Point // by cell: points inside it on a regular lattice, for shares of discs
	bound   orb.Bound     // the whole town
	events  []int         // cells of the named places, where local events happen; none: anywhere
	named   []orb.Point   // the named places' points, by events
	names   []string      // and their names
}

const (
	hotspotsMinKm = 2.5 // random hot spots lie at least this far from the centre
	nbrPadM       = 50  // areas whose bounds come this close are neighbours
)

// newPolyTown builds the town of real boundaries: populations as given, the centre's
// areas and the named hot spots (or, without named places, 2 to 4 random ones) with
// a raised rate.
func newPolyTown(tn *Town, r *rng) (*town, error) {
	n := len(tn.Areas)
	if n == 0 {
		return nil, geo.Errorf(geo.EINVALID, "synth: the town has no areas")
	}
	pg := &polyGeom{geoms: make([]orb.MultiPolygon, n), bounds: make([]orb.Bound, n), samples: make([][]orb.Point, n)}
	idx := make([]geo.Area, n)
	t := &town{pg: pg, nLSOA: n}
	popSum, cx, cy := 0.0, 0.0, 0.0
	for k, a := range tn.Areas {
		if len(a.Geometry) == 0 {
			return nil, geo.Errorf(geo.EINVALID, "synth: area %s has no polygon", a.Code)
		}
		if a.Population < 0 {
			return nil, geo.Errorf(geo.EINVALID, "synth: area %s has a negative population", a.Code)
		}
		pg.geoms[k] = a.Geometry
		pg.bounds[k] = a.Geometry.Bound()
		if k == 0 {
			pg.bound = pg.bounds[k]
		} else {
			pg.bound = pg.bound.Union(pg.bounds[k])
		}
		idx[k] = geo.Area{ID: int32(k), Code: a.Code, Geometry: a.Geometry}
		c, _ := planar.CentroidArea(a.Geometry)
		popSum += float64(a.Population)
		cx += c[0] * float64(a.Population)
		cy += c[1] * float64(a.Population)
	}
	if popSum <= 0 {
		return nil, geo.Errorf(geo.EINVALID, "synth: the areas' populations sum to zero")
	}
	pg.index = geo.NewAreaIndex(idx)
	t.centre = tn.Centre
	if t.centre == (orb.Point{}) {
		t.centre = orb.Point{round6(cx / popSum), round6(cy / popSum)}
	}
	t.ky = geo.EarthRadius * math.Pi / 180
	t.kx = t.ky * math.Cos(t.centre[1]*math.Pi/180)

	// Cells: a lattice of points inside each, and an inside point near its centroid
	// (for records placed at an area's centroid).
	t.cells = make([]cell, n)
	for k, a := range tn.Areas {
		c := &t.cells[k]
		c.area, c.pop, c.risk = k, a.Population, 1
		for m := 16; m <= 256 && len(pg.samples[k]) < 32; m *= 4 {
			pg.samples[k] = pg.lattice(k, m)
		}
		if len(pg.samples[k]) == 0 {
			return nil, geo.Errorf(geo.EINVALID, "synth: area %s is too thin to place points in", a.Code)
		}
		cen, _ := planar.CentroidArea(a.Geometry)
		if !pg.covers(k, cen) {
			best := math.Inf(1)
			for _, s := range pg.samples[k] {
				if d := t.metres(s, cen); d < best {
					best, cen = d, s
				}
			}
		}
		c.centroid = orb.Point{round6(cen[0]), round6(cen[1])}
		if !pg.covers(k, c.centroid) { // rounding moved it out: the nearest sample
			c.centroid = pg.samples[k][0]
		}
		c.lonStr, c.latStr = geo.FormatCoord(c.centroid[0]), geo.FormatCoord(c.centroid[1])
	}

	// Neighbours: areas whose bounds come within nbrPadM of each other.
	var tree rtree.RTreeG[int]
	for k, b := range pg.bounds {
		tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, k)
	}
	padX, padY := nbrPadM/t.kx, nbrPadM/t.ky
	for k, b := range pg.bounds {
		tree.Search([2]float64{b.Min[0] - padX, b.Min[1] - padY}, [2]float64{b.Max[0] + padX, b.Max[1] + padY}, func(_, _ [2]float64, j int) bool {
			if j != k {
				t.cells[k].nbrs = append(t.cells[k].nbrs, int32(j))
			}
			return true
		})
		slices.Sort(t.cells[k].nbrs)
	}

	// Risk: the centre's areas, then the named hot spots or a few random ones.
	for k := range t.cells {
		if t.metres(t.cells[k].centroid, t.centre) < centreKm*1000 {
			t.cells[k].risk = centreRisk
		}
	}
	if c := t.locate(t.centre); c >= 0 {
		t.cells[c].risk = centreRisk
	}
	byName := map[string]int{}
	for k, a := range tn.Areas {
		byName[a.Name] = k
	}
	for _, p := range tn.Places {
		k, ok := byName[p.AreaName]
		if !ok {
			return nil, geo.Errorf(geo.EINVALID, "synth: place %s: no area is named %q", p.Name, p.AreaName)
		}
		pt := orb.Point{p.Lon, p.Lat}
		if !pg.covers(k, pt) {
			return nil, geo.Errorf(geo.EINVALID, "synth: place %s (%.4f, %.4f) is not in %s", p.Name, p.Lat, p.Lon, p.AreaName)
		}
		if p.Risk > 1 {
			t.cells[k].risk = p.Risk
		}
		pg.events = append(pg.events, k)
		pg.named = append(pg.named, pt)
		pg.names = append(pg.names, p.Name)
	}
	if len(tn.Places) == 0 {
		for h, want, tries := 0, 2+r.IntN(3), 0; h < want && tries < 100*n; tries++ {
			k := r.IntN(n)
			c := &t.cells[k]
			if c.risk != 1 || c.pop == 0 || t.metres(c.centroid, t.centre) < hotspotsMinKm*1000 {
				continue
			}
			c.risk = math.Round(r.Uniform(3, 5)*10) / 10
			h++
		}
	}
	t.weight = make([]float64, n)
	for k, c := range t.cells {
		t.weight[k] = float64(c.pop) * c.risk
	}
	t.place = newAlias(t.weight)

	// Areas: the small areas in code order, then their groups.
	t.areas = make([]Area, 0, n+len(tn.Groups))
	for _, a := range tn.Areas {
		t.areas = append(t.areas, Area{Code: a.Code, Name: a.Name, Level: tn.Level, Polygon: largest(a.Geometry),
			Geometry: a.Geometry.Clone(), Population: a.Population, Ward: tn.GroupOf[a.Code]})
	}
	for _, gr := range tn.Groups {
		if gr.Level == "" || gr.Level == tn.Level {
			return nil, fmt.Errorf("synth: group %s has level %q", gr.Code, gr.Level)
		}
		t.areas = append(t.areas, Area{Code: gr.Code, Name: gr.Name, Level: gr.Level, Polygon: largest(gr.Geometry),
			Geometry: gr.Geometry.Clone(), Population: gr.Population})
	}
	return t, nil
}

// largest returns the polygon of mp with the largest area.
func largest(mp orb.MultiPolygon) orb.Polygon {
	best, ba := 0, -1.0
	for i, p := range mp {
		if a := math.Abs(planar.Area(p)); a > ba {
			best, ba = i, a
		}
	}
	return mp[best].Clone()
}

// covers reports whether cell k holds p (by the crossing number: a point exactly on
// its boundary may count either way).
func (pg *polyGeom) covers(k int, p orb.Point) bool {
	if !pg.bounds[k].Contains(p) {
		return false
	}
	for _, poly := range pg.geoms[k] {
		if crossingIn(poly[0], p) && !slices.ContainsFunc(poly[1:], func(h orb.Ring) bool { return crossingIn(h, p) }) {
			return true
		}
	}
	return false
}

// crossingIn tests p against a closed ring by the crossing number.
func crossingIn(r orb.Ring, p orb.Point) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// lattice returns the centres of an m x m lattice over cell k's bounds that lie in it.
func (pg *polyGeom) lattice(k, m int) []orb.Point {
	b := pg.bounds[k]
	var out []orb.Point
	for a := 0; a < m; a++ {
		for c := 0; c < m; c++ {
			p := orb.Point{b.Min[0] + (float64(a)+0.5)/float64(m)*(b.Max[0]-b.Min[0]), b.Min[1] + (float64(c)+0.5)/float64(m)*(b.Max[1]-b.Min[1])}
			if pg.covers(k, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// pointIn draws a point uniformly in cell k, by rejection from its bounds (falling
// back on one of its lattice points for a shape that rejects nearly everything).
func (pg *polyGeom) pointIn(r *rng, k int) orb.Point {
	b := pg.bounds[k]
	for try := 0; try < 200; try++ {
		p := orb.Point{r.Uniform(b.Min[0], b.Max[0]), r.Uniform(b.Min[1], b.Max[1])}
		if pg.covers(k, p) {
			return p
		}
	}
	return pg.samples[k][r.IntN(len(pg.samples[k]))]
}
