package geo

import (
	"fmt"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// DefaultResolutions are the H3 resolutions roll-ups are kept at: from about 36 km²
// (6, a town) to 0.015 km² (10, a street block).
var DefaultResolutions = []int{6, 7, 8, 9, 10}

// DefaultPrecisionRes is the finest H3 resolution each location precision supports.
// An exact point is binned anywhere; police.uk style street snapping moves a point up
// to a couple of hundred metres (resolution 9 cells are about 0.1 km²); a postcode
// centroid may sit a few hundred metres from the place (resolution 8, 0.7 km²); an
// area centroid only supports town-scale cells (resolution 6).
var DefaultPrecisionRes = map[Precision]int{
	PrecisionExact:        15,
	PrecisionStreet:       9,
	PrecisionPostcode:     8,
	PrecisionAreaCentroid: 6,
}

// Binner assigns incidents to H3 cells.
type Binner struct {
	Resolutions  []int             // ascending
	PrecisionRes map[Precision]int // finest resolution per precision
}

// NewBinner returns a Binner for the given resolutions (DefaultResolutions when
// empty) and precision limits (DefaultPrecisionRes when nil).
func NewBinner(resolutions []int, precisionRes map[Precision]int) (*Binner, error) {
	if len(resolutions) == 0 {
		resolutions = DefaultResolutions
	}
	resolutions = slices.Clone(resolutions)
	slices.Sort(resolutions)
	resolutions = slices.Compact(resolutions)
	for _, r := range resolutions {
		if r < 0 || r > 15 {
			return nil, Errorf(EINVALID, "H3 resolution %d is outside 0 to 15", r)
		}
	}
	if precisionRes == nil {
		precisionRes = DefaultPrecisionRes
	}
	return &Binner{Resolutions: resolutions, PrecisionRes: precisionRes}, nil
}

// Cell returns the H3 cell of a located incident at the finest resolution its
// precision supports, or 0 when the incident has no place. Every coarser cell the
// incident counts in is a parent of this one (see CellParent).
func (b *Binner) Cell(in *Incident) uint64 {
	if !in.Precision.Located() {
		return 0
	}
	res, ok := b.PrecisionRes[in.Precision]
	if !ok {
		return 0
	}
	return uint64(h3.LatLngToCell(h3.NewLatLng(in.Location.Lat, in.Location.Lon), res))
}

// CellCache remembers the cells of places seen before: police.uk and postcode
// locations are snapped to a limited set of points. A place's cells at every
// resolution sit in one entry, so that an incident's cells take one map lookup. A
// place not seen before costs more with the cache than without (the entry is made),
// so when fewer than a quarter of a run of lookups find their place (exact points,
// each seen once), the cache stands aside for the next several runs and then tries
// again. It is not safe for concurrent use; give each goroutine its own.
type CellCache struct {
	m             map[LatLon]*placeCells
	lookups, hits int // in the current run of cacheRun lookups
	aside         int // lookups left to go without the cache
}

// placeCells are a place's cells by resolution, 0 where not looked up yet.
type placeCells [16]uint64

// maxCellCache bounds a CellCache; it is emptied when full.
const maxCellCache = 1 << 17

// cacheRun is the run of lookups whose hits decide whether the cache is worth its
// cost, and cacheAside how many runs it then stands aside for.
const (
	cacheRun   = 4096
	cacheAside = 16
)

// place returns the entry of a place, adding it; nil for a nil cache or one
// standing aside.
func (c *CellCache) place(ll LatLon) *placeCells {
	if c == nil {
		return nil
	}
	if c.aside > 0 {
		c.aside--
		return nil
	}
	c.lookups++
	p := c.m[ll]
	if p == nil {
		if c.m == nil || len(c.m) >= maxCellCache {
			c.m = make(map[LatLon]*placeCells, 1024)
		}
		p = new(placeCells)
		c.m[ll] = p
	} else {
		c.hits++
	}
	if c.lookups == cacheRun {
		if c.hits < cacheRun/4 {
			c.aside, c.m = cacheAside*cacheRun, nil
		}
		c.lookups, c.hits = 0, 0
	}
	return p
}

// CachedCell is Cell, looking the place up in c first.
func (b *Binner) CachedCell(c *CellCache, in *Incident) uint64 {
	cell, _ := b.cells(c, in, false)
	return cell
}

// Cells returns the cells a located incident counts in, one per roll-up resolution
// its precision supports, coarsest first: at each resolution, the cell that contains
// the incident's place (LatLngToCell), so that any H3 implementation reproduces
// every count. Nil when the incident has no place or too coarse a one.
func (b *Binner) Cells(in *Incident) []uint64 {
	return b.CachedCells(nil, in)
}

// CachedCells is Cells, looking the place up in c first (c may be nil).
func (b *Binner) CachedCells(c *CellCache, in *Incident) []uint64 {
	_, cells := b.cells(c, in, true)
	return cells
}

// Bin sets an incident's Cell and Cells (as CachedCell and CachedCells give them),
// looking the place up in c first (c may be nil). A place not seen before is
// projected once for all its resolutions (CellsAtResolutions).
func (b *Binner) Bin(c *CellCache, in *Incident) {
	in.Cell, in.Cells = b.cells(c, in, true)
}

// cells returns an incident's cell at its precision's finest resolution and, when
// withRollups, its cells at the roll-up resolutions that precision supports.
func (b *Binner) cells(c *CellCache, in *Incident, withRollups bool) (uint64, []uint64) {
	if !in.Precision.Located() {
		return 0, nil
	}
	limit, ok := b.PrecisionRes[in.Precision]
	if !ok {
		return 0, nil
	}
	n := 0
	if withRollups {
		for n < len(b.Resolutions) && n < 16 && b.Resolutions[n] <= limit {
			n++
		}
	}
	var want [17]int
	k := copy(want[:], b.Resolutions[:n])
	want[k] = limit
	k++
	var got [17]uint64
	p := c.place(in.Location)
	for _, r := range want[:k] {
		if r < 0 || r >= len(p) {
			p = nil // not kept in an entry
		}
	}
	if p == nil {
		CellsAtResolutions(got[:0], in.Location, want[:k])
	} else {
		for _, r := range want[:k] {
			if p[r] == 0 {
				for i, x := range CellsAtResolutions(got[:0], in.Location, want[:k]) {
					p[want[i]] = x
				}
				break
			}
		}
		for i, r := range want[:k] {
			got[i] = p[r]
		}
	}
	var rollups []uint64
	if n > 0 {
		rollups = slices.Clone(got[:n])
	}
	return got[k-1], rollups
}

// CellAt returns the H3 cell at res that contains a place (LatLngToCell).
func CellAt(ll LatLon, res int) uint64 {
	return uint64(h3.LatLngToCell(h3.NewLatLng(ll.Lat, ll.Lon), res))
}

// RollupCell returns the cell an incident counts in at the finest roll-up resolution
// its own cell supports (the parent at the finest configured resolution not finer
// than the cell's), or 0 when the cell is coarser than every configured resolution.
func (b *Binner) RollupCell(cell uint64) uint64 {
	rs := b.CellResolutions(cell)
	if len(rs) == 0 {
		return 0
	}
	return CellParent(cell, rs[len(rs)-1])
}

// CellResolutions returns the binner's resolutions at or below a cell's own.
func (b *Binner) CellResolutions(cell uint64) []int {
	if cell == 0 {
		return nil
	}
	r := CellRes(cell)
	i := 0
	for i < len(b.Resolutions) && b.Resolutions[i] <= r {
		i++
	}
	return b.Resolutions[:i]
}

// CellRes returns the resolution of an H3 cell index.
func CellRes(cell uint64) int { return int(cell>>52) & 15 }

// CellParent returns the parent of an H3 cell at a coarser or equal resolution, by the
// same bit arithmetic as the database's h3_parent function: set the resolution field
// and mark every digit finer than it unused (7).
func CellParent(cell uint64, res int) uint64 {
	cell = cell&^(uint64(15)<<52) | uint64(res)<<52
	return cell | (uint64(1)<<(3*(15-res)) - 1)
}

// CellString formats an H3 cell index as its usual 15-hex-digit string.
func CellString(cell uint64) string { return fmt.Sprintf("%x", cell) }

// ParseCell parses an H3 cell string and checks that it is a valid cell.
func ParseCell(s string) (uint64, error) {
	var c h3.Cell
	if err := c.UnmarshalText([]byte(s)); err != nil || !c.IsValid() {
		return 0, Errorf(EINVALID, "%q is not an H3 cell", s)
	}
	return uint64(c), nil
}

// CellPolygon returns the hexagon (or pentagon) of an H3 cell as a closed WGS84 ring.
func CellPolygon(cell uint64) orb.Polygon {
	b := h3.Cell(cell).Boundary()
	ring := make(orb.Ring, 0, len(b)+1)
	for _, ll := range b {
		ring = append(ring, orb.Point{ll.Lng, ll.Lat})
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}

// CellPopulation spreads the people of the finest level with populations over the
// H3 cells at res: each area's population goes evenly over the finer cells whose
// centres fall inside it (two resolutions finer, at most 11), and those are summed
// to their parents at res. A hexagon that straddles areas borrows from each; an
// area smaller than one fine cell puts its people in the cell of its first vertex.
// It is the denominator of a hexagon's rate, an estimate and labelled as one.
func CellPopulation(areas []Area, res int) map[uint64]float64 {
	level := populatedLevel(areas)
	out := map[uint64]float64{}
	if level == "" || res < 0 || res > 15 {
		return out
	}
	fine := min(res+2, 11)
	if fine < res {
		fine = res
	}
	for _, a := range areas {
		if a.Level != level || a.Population <= 0 {
			continue
		}
		var cells []h3.Cell
		for _, p := range a.Geometry {
			if len(p) == 0 {
				continue
			}
			cells = append(cells, h3.PolygonToCells(geoPolygon(p), fine)...)
		}
		if len(cells) == 0 {
			if len(a.Geometry) == 0 || len(a.Geometry[0]) == 0 || len(a.Geometry[0][0]) == 0 {
				continue
			}
			pt := a.Geometry[0][0][0]
			out[uint64(h3.LatLngToCell(h3.NewLatLng(pt[1], pt[0]), res))] += float64(a.Population)
			continue
		}
		share := float64(a.Population) / float64(len(cells))
		for _, c := range cells {
			out[uint64(c.Parent(res))] += share
		}
	}
	return out
}

// populatedLevel is the level with the most areas that have a population.
func populatedLevel(areas []Area) string {
	n := map[string]int{}
	best := ""
	for _, a := range areas {
		if a.Population <= 0 {
			continue
		}
		n[a.Level]++
		if best == "" || n[a.Level] > n[best] || n[a.Level] == n[best] && a.Level < best {
			best = a.Level
		}
	}
	return best
}

func geoPolygon(p orb.Polygon) h3.GeoPolygon {
	loop := func(r orb.Ring) h3.GeoLoop {
		l := make(h3.GeoLoop, 0, len(r))
		for _, pt := range r {
			l = append(l, h3.NewLatLng(pt[1], pt[0]))
		}
		return l
	}
	g := h3.GeoPolygon{GeoLoop: loop(p[0])}
	for _, hole := range p[1:] {
		g.Holes = append(g.Holes, loop(hole))
	}
	return g
}

// PolygonCells returns the H3 cells at res whose centres fall inside a multipolygon.
func PolygonCells(mp orb.MultiPolygon, res int) []uint64 {
	var out []uint64
	for _, p := range mp {
		if len(p) == 0 {
			continue
		}
		for _, c := range h3.PolygonToCells(geoPolygon(p), res) {
			out = append(out, uint64(c))
		}
	}
	return out
}

// CellsAt returns a cell's cells at another resolution: itself, its parent, or its
// children.
func CellsAt(cell uint64, res int) []uint64 {
	c := h3.Cell(cell)
	switch r := c.Resolution(); {
	case r == res:
		return []uint64{cell}
	case r > res:
		return []uint64{uint64(c.Parent(res))}
	default:
		ch := c.Children(res)
		out := make([]uint64, len(ch))
		for i, x := range ch {
			out[i] = uint64(x)
		}
		return out
	}
}
