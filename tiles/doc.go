// Package tiles holds tile maths, the Mapbox Vector Tile encoding of H3 hexagons,
// areas and points, and the tile cache: rendered tiles kept gzipped in memory, one
// render per missing tile however many requests wait for it.
package tiles
