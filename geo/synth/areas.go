package synth

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/geo"
)

// The demo town: a rectangle the size of Milton Keynes, on its real coordinates.
const (
	townS, townN   = 51.98, 52.10
	townW, townE   = -0.86, -0.66
	centreLat      = 52.04
	centreLon      = -0.76
	gridNX, gridNY = 12, 13 // lsoa grid: 156 small areas

	warpK      = 0.6  // grid lines bunch towards the centre: centre cells ~0.6x, edge cells ~1.75x the mean width
	jitterFrac = 0.18 // interior corners move by up to this share of the neighbouring spacing
	totalPop   = 290000
	minLSOAPop = 1000
	maxLSOAPop = 3000
	centreKm   = 1.1 // lsoas whose centroid is this close to the centre form the town centre
	centreRisk = 2.5
	insetDeg   = 2e-5 // points are kept this far (about 1.4 to 2.2 m) inside the town's edge
)

// Levels of the areas the generator draws.
const (
	LevelLSOA = "lsoa"
	LevelWard = "ward"
)

// Area is one small area (lsoa) or group of them (a ward of the grid town, an MSOA
// of a real one) with its population. Polygons are [lon, lat], closed, with a
// counter-clockwise exterior ring. In the grid town they have no holes, the lsoas
// tile the town exactly (neighbours share their corner points) and so do the wards.
type Area struct {
	Code       string           // DEMO0001 for the grid's lsoas, DEMOW01 for its wards; a real town's codes
	Name       string           // "Demo Town 001A", "Demo Ward 01"; "Milton Keynes 001A", "Milton Keynes 001"
	Level      string           // LevelLSOA or LevelWard; a real town's levels ("lsoa", "msoa")
	Polygon    orb.Polygon      // the area's (largest) polygon
	Geometry   orb.MultiPolygon // all of it: Polygon alone in the grid town
	Population int
	// Ward is the code of the group (ward, MSOA) a small area belongs to ("" for a
	// group, or when the town has none), so that areas roll up without a spatial join.
	Ward string
}

// Hotspot is an lsoa with a higher underlying rate than its population alone gives.
type Hotspot struct {
	Code string
	Risk float64 // multiplier of the per-resident rate
}

// cell is one lsoa of the grid.
type cell struct {
	q        [4]orb.Point // SW, SE, NE, NW: counter-clockwise
	area     int          // index of its Area
	ward     int          // index of its ward among the wards
	pop      int
	risk     float64
	centroid orb.Point
	latStr   string // the centroid, formatted as geo.FormatCoord does
	lonStr   string
	nbrs     []int32 // the up to 8 cells around it
}

// town is the geometry every record is placed in.
type town struct {
	nx, ny int
	colLon []float64 // the nominal (unjittered) grid lines
	rowLat []float64
	vert   []orb.Point // (nx+1)*(ny+1) shared corners, row-major from the south-west
	cells  []cell      // nx*ny, row-major from the south-west
	areas  []Area      // lsoas in code order, then wards
	nLSOA  int
	place  alias // cells weighted by population times risk
	weight []float64
	kx, ky float64   // metres per degree of longitude and latitude
	centre orb.Point // [lon, lat]: the town centre, where citywide spikes are centred
	pg     *polyGeom // a town of real boundaries; nil for the grid
}

func (t *town) v(i, j int) int { return j*(t.nx+1) + i }

// warp maps a uniform grid coordinate in [-1, 1] to one whose spacing is finer near 0.
func warp(u float64) float64 { return (u + warpK*u*u*u) / (1 + warpK) }

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// newTown draws the town from r: the jittered grid, populations, risks and wards.
func newTown(r *rng) (*town, error) {
	t := &town{nx: gridNX, ny: gridNY, centre: orb.Point{centreLon, centreLat}}
	t.ky = geo.EarthRadius * math.Pi / 180
	t.kx = t.ky * math.Cos(centreLat*math.Pi/180)
	t.colLon = make([]float64, t.nx+1)
	t.rowLat = make([]float64, t.ny+1)
	for i := range t.colLon {
		t.colLon[i] = round6(centreLon + (townE-townW)/2*warp(2*float64(i)/float64(t.nx)-1))
	}
	for j := range t.rowLat {
		t.rowLat[j] = round6(centreLat + (townN-townS)/2*warp(2*float64(j)/float64(t.ny)-1))
	}
	t.colLon[0], t.colLon[t.nx] = townW, townE
	t.rowLat[0], t.rowLat[t.ny] = townS, townN

	// Shared corners, jittered; corners on the edge move only along it, so the town
	// stays a rectangle and the cells tile it exactly.
	t.vert = make([]orb.Point, (t.nx+1)*(t.ny+1))
	for j := 0; j <= t.ny; j++ {
		for i := 0; i <= t.nx; i++ {
			x, y := t.colLon[i], t.rowLat[j]
			if i > 0 && i < t.nx { // not on the west or east edge: may move east-west
				dx := min(t.colLon[i]-t.colLon[i-1], t.colLon[i+1]-t.colLon[i])
				x += (2*r.Float64() - 1) * jitterFrac * dx
			}
			if j > 0 && j < t.ny { // not on the south or north edge: may move north-south
				dy := min(t.rowLat[j]-t.rowLat[j-1], t.rowLat[j+1]-t.rowLat[j])
				y += (2*r.Float64() - 1) * jitterFrac * dy
			}
			t.vert[t.v(i, j)] = orb.Point{round6(x), round6(y)}
		}
	}

	// Cells, their centroids and their populations: denser towards the centre.
	n := t.nx * t.ny
	t.cells = make([]cell, n)
	extra := make([]float64, n)
	for j := 0; j < t.ny; j++ {
		for i := 0; i < t.nx; i++ {
			c := &t.cells[j*t.nx+i]
			c.q = [4]orb.Point{t.vert[t.v(i, j)], t.vert[t.v(i+1, j)], t.vert[t.v(i+1, j+1)], t.vert[t.v(i, j+1)]}
			c.centroid, _ = planar.CentroidArea(c.polygon())
			c.centroid = orb.Point{round6(c.centroid[0]), round6(c.centroid[1])}
			c.lonStr, c.latStr = geo.FormatCoord(c.centroid[0]), geo.FormatCoord(c.centroid[1])
			d := t.metres(c.centroid, orb.Point{centreLon, centreLat}) / 1000
			s := math.Exp(-d * d / 20)
			extra[j*t.nx+i] = 0.15 + 0.75*s + 0.35*(r.Float64()-0.5)
			for dj := -1; dj <= 1; dj++ {
				for di := -1; di <= 1; di++ {
					ii, jj := i+di, j+dj
					if (di != 0 || dj != 0) && ii >= 0 && ii < t.nx && jj >= 0 && jj < t.ny {
						c.nbrs = append(c.nbrs, int32(jj*t.nx+ii))
					}
				}
			}
		}
	}
	pops := spreadPopulation(extra)
	for k := range t.cells {
		t.cells[k].pop = pops[k]
	}

	// Risk: the town centre, and 2 to 4 hotspots away from it.
	for k := range t.cells {
		t.cells[k].risk = 1
		if t.metres(t.cells[k].centroid, orb.Point{centreLon, centreLat}) < centreKm*1000 {
			t.cells[k].risk = centreRisk
		}
	}
	for h, want := 0, 2+r.IntN(3); h < want; {
		k := r.IntN(n)
		c := &t.cells[k]
		if c.risk != 1 || t.metres(c.centroid, orb.Point{centreLon, centreLat}) < 2500 {
			continue
		}
		c.risk = math.Round(r.Uniform(3, 5)*10) / 10
		h++
	}
	t.weight = make([]float64, n)
	for k, c := range t.cells {
		t.weight[k] = float64(c.pop) * c.risk
	}
	t.place = newAlias(t.weight)

	if err := t.buildWards(r); err != nil {
		return nil, err
	}
	return t, nil
}

// spreadPopulation turns shape values into lsoa populations within
// [minLSOAPop, maxLSOAPop] that sum to totalPop exactly.
func spreadPopulation(shape []float64) []int {
	n := len(shape)
	target := float64(totalPop - minLSOAPop*n) // to spread above the minimum
	room := float64(maxLSOAPop - minLSOAPop)
	v := make([]float64, n)
	fixed := make([]bool, n)
	for iter := 0; iter < 20; iter++ {
		free, used := 0.0, 0.0
		for k, s := range shape {
			if fixed[k] {
				used += room
			} else {
				free += max(s, 0.01)
			}
		}
		scale := (target - used) / free
		again := false
		for k, s := range shape {
			if fixed[k] {
				v[k] = room
				continue
			}
			v[k] = max(s, 0.01) * scale
			if v[k] > room {
				fixed[k], again = true, true
			}
		}
		if !again {
			break
		}
	}
	out := make([]int, n)
	sum := 0
	type frac struct {
		k int
		f float64
	}
	fr := make([]frac, n)
	for k := range v {
		v[k] = min(v[k], room)
		out[k] = minLSOAPop + int(math.Floor(v[k]))
		sum += out[k]
		fr[k] = frac{k, v[k] - math.Floor(v[k])}
	}
	sort.SliceStable(fr, func(a, b int) bool { return fr[a].f > fr[b].f })
	for i := 0; sum < totalPop && i < n; i++ {
		if out[fr[i].k] < maxLSOAPop {
			out[fr[i].k]++
			sum++
		}
	}
	return out
}

func (c *cell) polygon() orb.Polygon {
	return orb.Polygon{orb.Ring{c.q[0], c.q[1], c.q[2], c.q[3], c.q[0]}}
}

// buildWards groups the cells into 16 to 18 wards: four strips of about three
// columns whose borders step left and right from row to row, each cut into four or
// five wards of two to four rows. Every row of a ward is one run of cells and runs of
// neighbouring rows overlap, so each ward is one piece without holes.
func (t *town) buildWards(r *rng) error {
	const strips = 4
	width := t.nx / strips
	// border[k][j]: first column of strip k in row j.
	border := make([][]int, strips+1)
	for k := range border {
		border[k] = make([]int, t.ny)
		off := r.IntN(3) - 1
		for j := range border[k] {
			switch k {
			case 0:
				border[k][j] = 0
			case strips:
				border[k][j] = t.nx
			default:
				border[k][j] = k*width + off
				off = max(-1, min(1, off+r.IntN(3)-1))
			}
		}
	}
	parts := make([]int, strips)
	for k := range parts {
		parts[k] = 4
	}
	for extra := r.IntN(3); extra > 0; {
		if k := r.IntN(strips); parts[k] == 4 {
			parts[k], extra = 5, extra-1
		}
	}

	type ward struct{ cells []int }
	var wards []ward
	for k := 0; k < strips; k++ {
		h := make([]int, parts[k])
		left := t.ny
		for p := range h {
			h[p] = 2
			left -= 2
		}
		for left > 0 {
			if p := r.IntN(len(h)); h[p] < 4 {
				h[p]++
				left--
			}
		}
		top := t.ny // rows [top-h, top), north first
		for _, hp := range h {
			var w ward
			for j := top - 1; j >= top-hp; j-- {
				for i := border[k][j]; i < border[k+1][j]; i++ {
					w.cells = append(w.cells, j*t.nx+i)
				}
			}
			top -= hp
			wards = append(wards, w)
		}
	}

	// Areas: lsoas ward by ward (north to south, west to east within a ward), then wards.
	t.nLSOA = len(t.cells)
	t.areas = make([]Area, 0, t.nLSOA+len(wards))
	wardAreas := make([]Area, len(wards))
	for wi, w := range wards {
		code := fmt.Sprintf("DEMOW%02d", wi+1)
		if len(w.cells) > 26 {
			return fmt.Errorf("synth: ward %s has %d lsoas, more than letters", code, len(w.cells))
		}
		pop := 0
		for li, k := range w.cells {
			c := &t.cells[k]
			c.area, c.ward = len(t.areas), wi
			pop += c.pop
			t.areas = append(t.areas, Area{
				Code:       fmt.Sprintf("DEMO%04d", len(t.areas)+1),
				Name:       fmt.Sprintf("Demo Town %03d%c", wi+1, 'A'+li),
				Level:      LevelLSOA,
				Polygon:    c.polygon(),
				Geometry:   orb.MultiPolygon{c.polygon()},
				Population: c.pop,
				Ward:       code,
			})
		}
		ring, err := t.trace(w.cells)
		if err != nil {
			return fmt.Errorf("synth: ward %s: %w", code, err)
		}
		wardAreas[wi] = Area{Code: code, Name: fmt.Sprintf("Demo Ward %02d", wi+1), Level: LevelWard, Polygon: orb.Polygon{ring},
			Geometry: orb.MultiPolygon{{ring}}, Population: pop}
	}
	t.areas = append(t.areas, wardAreas...)
	return nil
}

// trace returns the outer boundary of a set of cells as one closed
// counter-clockwise ring through the shared corners. It fails when the set is not
// one piece without holes.
func (t *town) trace(cells []int) (orb.Ring, error) {
	in := make(map[int]bool, len(cells))
	for _, k := range cells {
		in[k] = true
	}
	has := func(i, j int) bool { return i >= 0 && i < t.nx && j >= 0 && j < t.ny && in[j*t.nx+i] }
	next := map[int]int{}
	add := func(a, b int) error {
		if _, dup := next[a]; dup {
			return fmt.Errorf("corner %d is pinched", a)
		}
		next[a] = b
		return nil
	}
	start := -1
	for _, k := range cells {
		i, j := k%t.nx, k/t.nx
		edges := [][3]int{}
		if !has(i, j-1) {
			edges = append(edges, [3]int{t.v(i, j), t.v(i+1, j)})
		}
		if !has(i+1, j) {
			edges = append(edges, [3]int{t.v(i+1, j), t.v(i+1, j+1)})
		}
		if !has(i, j+1) {
			edges = append(edges, [3]int{t.v(i+1, j+1), t.v(i, j+1)})
		}
		if !has(i-1, j) {
			edges = append(edges, [3]int{t.v(i, j+1), t.v(i, j)})
		}
		for _, e := range edges {
			if err := add(e[0], e[1]); err != nil {
				return nil, err
			}
			if start < 0 || e[0] < start {
				start = e[0]
			}
		}
	}
	ring := orb.Ring{t.vert[start]}
	for v := next[start]; v != start; v = next[v] {
		ring = append(ring, t.vert[v])
		if len(ring) > len(next) {
			return nil, fmt.Errorf("boundary does not close")
		}
	}
	ring = append(ring, t.vert[start])
	if len(ring)-1 != len(next) {
		return nil, fmt.Errorf("cells are not one piece without holes (%d of %d boundary edges traced)", len(ring)-1, len(next))
	}
	return ring, nil
}

// metres is the distance between two [lon, lat] points on the town's local plane.
func (t *town) metres(a, b orb.Point) float64 {
	return math.Hypot((a[0]-b[0])*t.kx, (a[1]-b[1])*t.ky)
}

// offset moves p by dx metres east and dy metres north.
func (t *town) offset(p orb.Point, dx, dy float64) orb.Point {
	return orb.Point{p[0] + dx/t.kx, p[1] + dy/t.ky}
}

// inside reports whether p is in the town: in the grid, away from its edge; in a
// town of real boundaries, in one of its areas once rounded to six decimals, as it
// is written.
func (t *town) inside(p orb.Point) bool {
	if t.pg != nil {
		return t.locate(orb.Point{round6(p[0]), round6(p[1])}) >= 0
	}
	return p[0] > townW+insetDeg && p[0] < townE-insetDeg && p[1] > townS+insetDeg && p[1] < townN-insetDeg
}

// clampInside moves p inside the town's edge by insetDeg, so that rounding to six
// decimals never puts it on or over the edge.
func clampInside(p orb.Point) orb.Point {
	return orb.Point{
		max(townW+insetDeg, min(townE-insetDeg, p[0])),
		max(townS+insetDeg, min(townN-insetDeg, p[1])),
	}
}

// locate returns the cell holding p, or -1 outside the town. The corners move less
// than half a spacing, so a point's cell is within one of its nominal cell.
func (t *town) locate(p orb.Point) int {
	if t.pg != nil {
		var buf [4]int32
		if ids := t.pg.index.Containing(buf[:0], geo.LatLon{Lat: p[1], Lon: p[0]}); len(ids) > 0 {
			return int(ids[0])
		}
		return -1
	}
	i0 := sort.SearchFloat64s(t.colLon, p[0]) - 1
	j0 := sort.SearchFloat64s(t.rowLat, p[1]) - 1
	i0 = max(0, min(t.nx-1, i0))
	j0 = max(0, min(t.ny-1, j0))
	for _, dj := range [3]int{0, -1, 1} {
		for _, di := range [3]int{0, -1, 1} {
			i, j := i0+di, j0+dj
			if i < 0 || i >= t.nx || j < 0 || j >= t.ny {
				continue
			}
			if inQuad(&t.cells[j*t.nx+i].q, p) {
				return j*t.nx + i
			}
		}
	}
	return -1
}

// inQuad reports whether p is in the convex counter-clockwise quadrilateral q.
func inQuad(q *[4]orb.Point, p orb.Point) bool {
	for k := 0; k < 4; k++ {
		a, b := q[k], q[(k+1)&3]
		if (b[0]-a[0])*(p[1]-a[1])-(b[1]-a[1])*(p[0]-a[0]) < 0 {
			return false
		}
	}
	return true
}

// pointIn returns the point of cell k at (u, v) in the unit square, by bilinear
// interpolation of its corners; for a convex quadrilateral it lies inside.
func (t *town) pointIn(k int, u, v float64) orb.Point {
	q := &t.cells[k].q
	x := (1-u)*(1-v)*q[0][0] + u*(1-v)*q[1][0] + u*v*q[2][0] + (1-u)*v*q[3][0]
	y := (1-u)*(1-v)*q[0][1] + u*(1-v)*q[1][1] + u*v*q[2][1] + (1-u)*v*q[3][1]
	return orb.Point{x, y}
}

// randomPoint draws a cell by population and risk and a point in it.
func (t *town) randomPoint(r *rng) (orb.Point, int) {
	k := t.place.pick(r)
	if t.pg != nil {
		return t.pointInCell(r, k), k
	}
	return clampInside(t.pointIn(k, r.Float64(), r.Float64())), k
}

// pointInCell draws a point in cell k that stays in it once rounded to six
// decimals, as records are written.
func (t *town) pointInCell(r *rng, k int) orb.Point {
	for try := 0; ; try++ {
		p := t.pg.pointIn(r, k)
		q := orb.Point{round6(p[0]), round6(p[1])}
		if t.pg.covers(k, q) || try == 20 {
			return q
		}
	}
}

// snap moves p to the centre of its square of the given side in metres, on a grid
// anchored at the town's south-west corner, staying inside the town.
func (t *town) snap(p orb.Point, side float64) orb.Point {
	if t.pg != nil {
		// Squares anchored at the town's south-west corner; p itself when its square's
		// centre falls outside every area (a street at the town's edge).
		b := t.pg.bound
		i := math.Floor((p[0] - b.Min[0]) * t.kx / side)
		j := math.Floor((p[1] - b.Min[1]) * t.ky / side)
		q := orb.Point{b.Min[0] + (i+0.5)*side/t.kx, b.Min[1] + (j+0.5)*side/t.ky}
		if !t.inside(q) {
			return p
		}
		return q
	}
	x := (p[0] - townW) * t.kx
	y := (p[1] - townS) * t.ky
	w := (townE - townW) * t.kx
	h := (townN - townS) * t.ky
	i := math.Floor(x / side)
	j := math.Floor(y / side)
	if (i+0.5)*side > w {
		i--
	}
	if (j+0.5)*side > h {
		j--
	}
	return orb.Point{townW + (i+0.5)*side/t.kx, townS + (j+0.5)*side/t.ky}
}

// discShare returns, for each cell, the share of it (by a 16 x 16 lattice of
// bilinear samples) within radius metres of c.
func (t *town) discShare(c orb.Point, radius float64) []float64 {
	out := make([]float64, len(t.cells))
	if t.pg != nil {
		for k, ss := range t.pg.samples {
			if t.metres(t.cells[k].centroid, c) > radius+3000 && !t.pg.bounds[k].Contains(c) {
				continue
			}
			n := 0
			for _, p := range ss {
				if t.metres(p, c) <= radius {
					n++
				}
			}
			out[k] = float64(n) / float64(len(ss))
		}
		return out
	}
	const m = 16
	for k := range t.cells {
		if t.metres(t.cells[k].centroid, c) > radius+3000 {
			continue
		}
		n := 0
		for a := 0; a < m; a++ {
			for b := 0; b < m; b++ {
				if t.metres(t.pointIn(k, (float64(a)+0.5)/m, (float64(b)+0.5)/m), c) <= radius {
					n++
				}
			}
		}
		out[k] = float64(n) / (m * m)
	}
	return out
}

// discCells returns the cells a disc touches, ascending by area index.
func (t *town) discCells(c orb.Point, radius float64) []int {
	seen := map[int]bool{}
	if k := t.locate(c); k >= 0 {
		seen[k] = true
	}
	const step = 20.0 // metres between samples
	for rr := step; rr <= radius; rr += step {
		n := int(math.Ceil(2 * math.Pi * rr / step))
		for a := 0; a < n; a++ {
			th := 2 * math.Pi * float64(a) / float64(n)
			if k := t.locate(t.offset(c, rr*math.Cos(th), rr*math.Sin(th))); k >= 0 {
				seen[k] = true
			}
		}
	}
	for k := range t.cells {
		if t.pg != nil {
			for _, poly := range t.pg.geoms[k] {
				for _, p := range poly[0] {
					if t.metres(p, c) <= radius {
						seen[k] = true
					}
				}
			}
			continue
		}
		for _, p := range t.cells[k].q {
			if t.metres(p, c) <= radius {
				seen[k] = true
			}
		}
	}
	out := make([]int, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(a, b int) bool { return t.cells[out[a]].area < t.cells[out[b]].area })
	return out
}
