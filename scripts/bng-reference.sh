#!/usr/bin/env bash
# Writes testdata/bng-proj.csv: British National Grid points across Great Britain with
# PROJ's EPSG:27700 -> EPSG:4326 result, the reference geo.BNGToWGS84 is tested against.
# Points are onshore: offshore, PROJ leaves the Helmert transformation's area of use and
# falls back to a ballpark conversion with no datum shift.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cs2cs >/dev/null || { sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo; $sudo_ apt-get install -y proj-bin; }
points="
85000 10000 Isles of Scilly
160000 30000 Lizard
292000 92000 Exeter
337000 186000 Cardiff
485000 238000 Milton Keynes
530000 180000 London
463000 205000 Oxford
651409.903 313177.270 OS guide worked example
638000 138000 Dover
333000 398000 Manchester
427000 564000 Newcastle
326000 674000 Edinburgh
258000 665000 Glasgow
394000 806000 Aberdeen
266000 845000 Inverness
146000 932000 Lewis
447000 1141000 Shetland
343000 1230000 Unst
654000 293000 Lowestoft
226000 974000 Cape Wrath
134000 25000 Land's End
224000 382000 Holyhead
"
{
  echo "easting,northing,lat,lon,name"
  echo "$points" | while read -r e n name; do
    [ -n "$e" ] || continue
    read -r lat lon _ < <(echo "$e $n" | cs2cs -f %.9f EPSG:27700 EPSG:4326)
    echo "$e,$n,$lat,$lon,$name"
  done
} > testdata/bng-proj.csv
echo "wrote testdata/bng-proj.csv ($(($(wc -l < testdata/bng-proj.csv) - 1)) points)"
