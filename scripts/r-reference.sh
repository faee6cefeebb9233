#!/usr/bin/env bash
# Regenerates the R reference values the tension package's tests compare with: for
# each method the Go test writes seeded inputs under testdata/reference/<method>/,
# then scripts/reference/<method>.R writes the golden values beside them.
# R is only needed here, never at run time or by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v Rscript >/dev/null || ! Rscript -e 'library(surveillance); library(spdep)' >/dev/null 2>&1; then
	sudo_=""
	[ "$(id -u)" = 0 ] || sudo_=sudo
	$sudo_ apt-get update
	$sudo_ apt-get install -y r-base-core r-cran-surveillance r-cran-spdep
fi

go test ./tension -count=1 -run '^TestEARSReferenceInputs$' -args -write-ears-inputs
Rscript scripts/reference/ears.R
go test ./tension -count=1 -run '^TestGiStarReferenceInputs$' -args -write-gistar-inputs
Rscript scripts/reference/gistar.R
go test ./tension -count=1 -run '^TestMannKendallReferenceInputs$' -args -write-mannkendall-inputs
Rscript scripts/reference/mannkendall.R
go test ./tension -count=1 -run '^TestKnoxReferenceInputs$' -args -write-knox-inputs
Rscript scripts/reference/knox.R
go test ./tension -count=1 -run '^TestFarringtonReferenceInputs$' -args -write-farrington-inputs
Rscript scripts/reference/farrington.R
go test ./tension -count=1 -run '^TestUpliftReferenceInputs$' -args -write-uplift-inputs
Rscript scripts/reference/uplift.R
