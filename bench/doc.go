// Package bench drives the real service and its baselines side by side on the demo
// data and prints the ratios: the ingest pipeline beside a plain COPY, hotspot tiles
// beside PostGIS ST_AsMVT over the same hexagons, a cached tile beside a handler
// writing fixed bytes, a load run of clients panning the map, the engine per
// detector, /api/v1/areas over periods and filters, and all of them at once on a
// decade of reports (Scale). Every comparison runs both sides in one process, on
// one machine, alternating: the machines are shared, so only a ratio within one run
// means anything. Its database helpers live in package postgis (bench.go); the
// command line parses the flags and calls in here.
package bench
