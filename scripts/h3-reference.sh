#!/usr/bin/env bash
# Regenerates the h3-js reference cells the postgis tests compare the map's counts
# with: the Go test writes the demo's points to testdata/reference/h3/points.csv, then
# scripts/reference/h3.cjs gives each point's cell at every resolution its precision
# supports with h3-js (a JavaScript port of H3, independent of the C library the
# service uses). Node is only needed here, never at run time or by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./postgis -count=1 -run '^TestCountsMatchLatLngToCell$' -args -write-h3-inputs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --silent --no-audit --no-fund --prefix "$tmp" h3-js@4.5.0 >/dev/null
NODE_PATH="$tmp/node_modules" node scripts/reference/h3.cjs testdata/reference/h3/points.csv testdata/reference/h3/cells.csv
