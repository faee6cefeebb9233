package tiles

import (
	"sync"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tidwall/rtree"
)

// Hexagon is an H3 cell's polygon and its bound, in WGS84.
type Hexagon struct {
	Polygon orb.Polygon
	Bound   orb.Bound
}

// Hexagons keeps cells' polygons, built from the cell id once: computing a
// boundary costs a few microseconds and every tile needs hundreds. It holds at most
// max cells, forgetting an arbitrary half when full. Safe for concurrent use.
type Hexagons struct {
	mu    sync.RWMutex
	cells map[uint64]*Hexagon
	max   int
}

// NewHexagons returns a cache of at most max hexagons.
func NewHexagons(max int) *Hexagons {
	return &Hexagons{cells: map[uint64]*Hexagon{}, max: max}
}

// Get returns the hexagon of a cell.
func (h *Hexagons) Get(cell uint64) *Hexagon {
	h.mu.RLock()
	hex, ok := h.cells[cell]
	h.mu.RUnlock()
	if ok {
		return hex
	}
	p := geo.CellPolygon(cell)
	hex = &Hexagon{Polygon: p, Bound: p.Bound()}
	h.mu.Lock()
	if len(h.cells) >= h.max {
		n := 0
		for k := range h.cells {
			delete(h.cells, k)
			if n++; n >= h.max/2 {
				break
			}
		}
	}
	h.cells[cell] = hex
	h.mu.Unlock()
	return hex
}

// Len returns the number of hexagons held.
func (h *Hexagons) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.cells)
}

// CellIndex finds the cells whose hexagons meet a tile: a tile at zoom 14 holds a
// few hundred of the tens of thousands of cells of a town at resolution 10.
type CellIndex struct {
	tree rtree.RTreeG[uint64]
	n    int
	// copying serialises copies: a copy marks the tree it copies.
	copying sync.Mutex
}

// copy returns an index of the same cells that inserts leave this one as it is (the
// tree is copied on write).
func (ix *CellIndex) copy() *CellIndex {
	ix.copying.Lock()
	defer ix.copying.Unlock()
	return &CellIndex{tree: *ix.tree.Copy(), n: ix.n}
}

// insert adds a cell to the index.
func (ix *CellIndex) insert(c uint64, hexes *Hexagons) {
	b := hexes.Get(c).Bound
	ix.tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, c)
	ix.n++
}

// NewCellIndex indexes cells by their hexagons' bounds.
func NewCellIndex(cells []uint64, hexes *Hexagons) *CellIndex {
	ix := &CellIndex{n: len(cells)}
	for _, c := range cells {
		b := hexes.Get(c).Bound
		ix.tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, c)
	}
	return ix
}

// Len returns the number of cells indexed.
func (ix *CellIndex) Len() int { return ix.n }

// Search calls fn with each cell whose hexagon's bound meets b, until fn returns false.
func (ix *CellIndex) Search(b orb.Bound, fn func(cell uint64) bool) {
	ix.tree.Search([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, func(_, _ [2]float64, c uint64) bool { return fn(c) })
}
