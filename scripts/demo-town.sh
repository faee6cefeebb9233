#!/bin/sh
# Regenerates the demo's real town (geo/synth/data/milton-keynes-*) from the public files:
#
#   LSOA_GEOJSON  the 152 Lower Layer Super Output Areas (December 2011) of Milton Keynes
#                 (ONS Open Geography Portal, generalised clipped boundaries, WGS84 GeoJSON,
#                 filtered to LSOA11NM starting "Milton Keynes")
#   DENOMINATORS  English Indices of Deprivation 2019, File 6: population denominators
#                 (Ministry of Housing, Communities and Local Government; the column
#                 "Total population: mid 2015 (excluding prisoners)" is used)
#
# Both are published under the Open Government Licence v3.0.
# Usage: scripts/demo-town.sh milton-keynes-lsoa-2011.geojson iod2019-population-denominators-lsoa.csv.gz
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 LSOA_GEOJSON DENOMINATORS_CSV" >&2
	exit 2
fi
cd "$(dirname "$0")/.."
go run ./scripts/demotown --areas "$1" --population "$2" --tolerance 10 --out geo/synth/data --name milton-keynes
