#!/usr/bin/env bash
# Installs what the tests drive besides PostgreSQL and PostGIS (which
# `tensionmap db up` and the test harness install): Debian's chromium for the
# browser tests (with its British English locale, so that the pictures show dates as
# a British user sees them), GDAL's ogrinfo, which checks the vector tiles, and poppler's
# pdfinfo, pdftotext and pdftoppm, which read back the printed pages' PDFs. Nothing
# is downloaded from outside Debian's archive.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/lib/chromium/locales/en-GB.pak ] || need+=(chromium-l10n)
command -v ogrinfo >/dev/null || need+=(gdal-bin)
{ command -v pdfinfo && command -v pdftotext && command -v pdftoppm; } >/dev/null || need+=(poppler-utils)
command -v npm >/dev/null || need+=(nodejs npm)
[ ${#need[@]} -eq 0 ] && exit 0
sudo_=""
[ "$(id -u)" = 0 ] || sudo_="sudo -n"
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo_ apt-get update -q
$sudo_ apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}"
