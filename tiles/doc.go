// Package tiles holds tile maths, the Mapbox Vector Tile encoding of H3 hexagons,
// areas and points, and the tile service: a provider per layer (hotspots, areas,
// alerts, incidents, near_repeat) behind one interface, the derived values they
// share, the data version, and the tile cache in front of them: rendered tiles kept
// gzipped in memory, one render per missing tile however many requests wait for it.
// The layers read the database through Source, which package postgis answers; the
// HTTP handlers live in package web.
package tiles
