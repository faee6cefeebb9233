// Package tiles holds tile maths, Mapbox Vector Tile encoding of H3 hexagons and the
// tile cache.
package tiles
