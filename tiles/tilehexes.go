package tiles

import (
	"slices"
	"sync"

	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
)

// TileHexagon is one cell's hexagon as a tile draws it: projected to the tile,
// oriented, clipped to the tile and its buffer, and written as vector tile geometry
// commands, once. Which cells meet a tile and how their hexagons look in it do not
// depend on the data, as a tile server's stored hexagons do not.
type TileHexagon struct {
	Cell uint64
	ID   string // the cell as the tiles name it (geo.CellString)
	// geom is the feature's type and geometry fields as written, nil when nothing of
	// the hexagon is left in the tile.
	geom []byte
}

// TileHexagons are the hexagons of the cells at a resolution that meet a tile,
// in cell order.
type TileHexagons struct {
	Hexagons []TileHexagon
}

type tileHexKey struct {
	tile maptile.Tile
	res  int
}

// tileHexCache keeps the TileHexagons of (tile, resolution) pairs, at most max
// cells in all, forgetting tiles in no order until half of it is free when full. Safe for
// concurrent use.
type tileHexCache struct {
	mu    sync.RWMutex
	tiles map[tileHexKey]*TileHexagons
	cells int
	max   int
}

func newTileHexCache(max int) *tileHexCache {
	return &tileHexCache{tiles: map[tileHexKey]*TileHexagons{}, max: max}
}

// TileHexagons returns the hexagons of the cells at res that meet tile t (its
// buffer included), drawn in it; nil when the tile holds more than MaxTileCells
// cells (a wide view at a fine resolution), which are left to the cell index.
func (s *Service) TileHexagons(t maptile.Tile, res int) *TileHexagons {
	c := s.tileHexes
	k := tileHexKey{t, res}
	c.mu.RLock()
	th, ok := c.tiles[k]
	c.mu.RUnlock()
	if ok {
		return th
	}
	cells := s.CellsMeeting(Bound(t), res, MaxTileCells)
	if cells == nil {
		return nil
	}
	slices.Sort(cells)
	th = &TileHexagons{Hexagons: make([]TileHexagon, len(cells))}
	w := mvtWriters.Get().(*mvtWriter)
	w.start(t)
	for i, cell := range cells {
		h := TileHexagon{Cell: cell, ID: geo.CellString(cell)}
		if g, typ, ok, err := w.draw(s.hexes.Get(cell).Polygon, nil); err == nil && ok {
			h.geom = appendPacked(appendVarintField(nil, featureType, uint64(typ)), featureGeometry, g)
		}
		th.Hexagons[i] = h
	}
	mvtWriters.Put(w)
	c.mu.Lock()
	if c.cells+len(cells) > c.max {
		// Full: forget tiles, in no order, until half the bound is free.
		for key, v := range c.tiles {
			if c.cells+len(cells) <= c.max/2 {
				break
			}
			delete(c.tiles, key)
			c.cells -= len(v.Hexagons)
		}
	}
	if _, dup := c.tiles[k]; !dup && c.cells+len(cells) <= c.max {
		c.tiles[k] = th
		c.cells += len(cells)
	}
	c.mu.Unlock()
	return th
}

// TileHexagonCells returns the number of cells held by the tile hexagon cache.
func (s *Service) TileHexagonCells() int {
	s.tileHexes.mu.RLock()
	defer s.tileHexes.mu.RUnlock()
	return s.tileHexes.cells
}
