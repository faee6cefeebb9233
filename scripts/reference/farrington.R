#!/usr/bin/env Rscript
# Golden values for tension.Farrington: runs surveillance::farringtonFlexible on the
# series and parameter sets that the Go test wrote (go test ./tension -run
# TestFarringtonReferenceInputs -args -write-farrington-inputs) and writes what R
# finds beside them, with full precision. Run from the repository root:
#
#   Rscript scripts/reference/farrington.R            # writes golden.csv
#   Rscript scripts/reference/farrington.R --bench IN  # times the Noufaily method on
#                                                      # the series in IN, one week each
#
# Weeks (or months, or four-weekly periods: a series' frequency is in
# series-meta.csv, a parameter set's in configs.csv, and each parameter set runs
# on the series of its own frequency) are 0-based in the CSV files, 1-based in R.
suppressPackageStartupMessages(library(surveillance))
options(digits = 17, warn = 1)

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
lgl <- function(x) ifelse(is.na(x), "NA", ifelse(x, "1", "0"))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 2 && args[1] == "--bench") {
  # one series per line: comma-separated weekly counts; the last week is evaluated
  lines <- readLines(args[2])
  series <- lapply(strsplit(lines, ",", fixed = TRUE), as.numeric)
  control <- list(noPeriods = 10, b = 4, w = 3, weightsThreshold = 2.58,
                  pastWeeksNotIncluded = 26, pThresholdTrend = 1,
                  thresholdMethod = "nbPlugin", alpha = 0.05, glmWarnings = FALSE)
  alarms <- 0
  elapsed <- system.time(for (obs in series) {
    s <- sts(observed = obs, frequency = 52)
    r <- farringtonFlexible(s, modifyList(control, list(range = length(obs))))
    alarms <- alarms + sum(r@alarm, na.rm = TRUE)
  })[["elapsed"]]
  cat(sprintf("series=%d elapsed=%.6f alarms=%d\n", length(series), elapsed, alarms))
  quit(status = 0)
}

dir <- "testdata/reference/farrington"
series <- read.csv(file.path(dir, "series.csv"), stringsAsFactors = FALSE)
configs <- read.csv(file.path(dir, "configs.csv"), stringsAsFactors = FALSE)
meta <- read.csv(file.path(dir, "series-meta.csv"), stringsAsFactors = FALSE)

out <- file(file.path(dir, "golden.csv"), "w")
writeLines(paste("config", "series", "t", "upper", "expected", "score", "alarm", "trend",
                 "phi", "pvalue", "lim_upper", "lim_alarm", sep = ","), out)
for (ci in seq_len(nrow(configs))) {
  cf <- configs[ci, ]
  control <- list(b = cf$b, w = cf$w, noPeriods = cf$noPeriods,
                  reweight = as.logical(cf$reweight), weightsThreshold = cf$weightsThreshold,
                  pastWeeksNotIncluded = cf$pastWeeksNotIncluded,
                  trend = as.logical(cf$trend), pThresholdTrend = cf$pThresholdTrend,
                  alpha = cf$alpha, thresholdMethod = cf$thresholdMethod,
                  powertrans = cf$powertrans, limit54 = c(cf$limit54Cases, cf$limit54Weeks),
                  glmWarnings = FALSE)
  for (mi in seq_len(nrow(meta))) {
    if (meta$freq[mi] != cf$freq) next # weekly parameters on weekly series, monthly on monthly
    id <- meta$series[mi]
    obs <- series$count[series$series == id][order(series$t[series$series == id])]
    s <- sts(observed = obs, frequency = cf$freq)
    range <- (meta$from[mi]:meta$to[mi]) + 1
    # raw: limit54 = c(0, weeks) never holds an alarm back, so R reports every bound
    raw <- farringtonFlexible(s, modifyList(control, list(range = range,
                                                          limit54 = c(0, cf$limit54Weeks))))
    lim <- farringtonFlexible(s, modifyList(control, list(range = range)))
    rows <- paste(cf$name, id, range - 1,
                  num(upperbound(raw)), num(raw@control$expected), num(raw@control$score),
                  lgl(raw@alarm), num(raw@control$trend), num(raw@control$phiVector),
                  num(raw@control$pvalue), num(upperbound(lim)), lgl(lim@alarm), sep = ",")
    writeLines(rows, out)
  }
  cat(cf$name, "done\n")
}
close(out)

# surveillance:::blocks on a few cases: week, then its level (NA: not a reference week)
out <- file(file.path(dir, "blocks.csv"), "w")
writeLines("k,freq,b,w,p,level", out)
for (cs in list(c(250, 52, 4, 3, 10), c(230, 52, 4, 3, 1), c(320, 52, 5, 3, 1),
                c(300, 52, 3, 2, 4), c(200, 52, 3, 0, 7), c(270, 52, 5, 4, 12),
                c(60, 12, 4, 1, 3), c(300, 52, 4, 3, 46),
                # months and four-weekly periods, with empty blocks (fewer periods
                # between the windows than noPeriods-1), noPeriods = freq, and
                # windows wider than half a year
                c(100, 12, 4, 3, 10), c(100, 12, 5, 2, 10), c(100, 12, 4, 1, 10),
                c(90, 12, 3, 0, 12), c(100, 12, 4, 3, 12), c(100, 12, 4, 5, 3),
                c(100, 12, 4, 6, 12), c(110, 13, 4, 1, 10), c(110, 13, 4, 3, 10),
                c(110, 13, 4, 3, 13), c(300, 52, 4, 3, 52), c(300, 52, 4, 20, 30))) {
  k <- cs[1]; f <- cs[2]; b <- cs[3]; w <- cs[4]; p <- cs[5]
  ref <- surveillance:::algo.farrington.referencetimepoints(k, b = b, freq = f,
                                                           epochAsDate = FALSE, epochStr = "none")
  lv <- surveillance:::blocks(ref, seq_len(k), "none", k, b, w, p, FALSE)
  writeLines(paste(k, f, b, w, p, ifelse(is.na(lv), "NA", lv), sep = ","), out)
}
close(out)
