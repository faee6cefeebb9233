# Reference values for tension.EARS: runs surveillance::earsC on every case of
# testdata/reference/ears/cases.csv (written by the Go test with -write-ears-inputs)
# and writes testdata/reference/ears/golden.csv at full precision.
# Run from the repository root: Rscript scripts/reference/ears.R
suppressPackageStartupMessages(library(surveillance))
options(digits = 17)

dir <- "testdata/reference/ears"
series <- read.csv(file.path(dir, "series.csv"), stringsAsFactors = FALSE)
cases <- read.csv(file.path(dir, "cases.csv"), stringsAsFactors = FALSE)
num <- function(v) sprintf("%.17g", v) # NA, NaN, Inf and -Inf come out as such

# Mean and sigma of the baseline of day t (1-based) lagging `lag` days behind it,
# as earsC computes them: mean and sd of the `B` days t-lag-B+1 .. t-lag, sd floored.
baseline <- function(x, t, lag, B, minSigma) {
  v <- x[(t - lag - B + 1):(t - lag)]
  c(mean = mean(v), sigma = pmax(sd(v), minSigma))
}

out <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  s <- series[series$series == cs$series, ]
  x <- s$count[order(s$day)]
  ctrl <- list(method = cs$method, baseline = cs$baseline, minSigma = cs$minsigma)
  if (cs$alpha != 0) ctrl$alpha <- cs$alpha # else earsC's default for the method
  res <- earsC(sts(observed = matrix(x, ncol = 1)), control = ctrl)
  rng <- res@control$range
  lag <- if (cs$method == "C1") 1 else 3
  bs <- t(sapply(rng, function(t) baseline(x, t, lag, cs$baseline, cs$minsigma)))
  c2 <- function(t) {
    b <- baseline(x, t, 3, cs$baseline, cs$minsigma)
    (x[t] - b[["mean"]]) / b[["sigma"]]
  }
  stat <- if (cs$method == "C3") {
    sapply(rng, function(t) sum(pmax(0, sapply((t - 2):t, c2) - 1)))
  } else {
    (x[rng] - bs[, "mean"]) / bs[, "sigma"]
  }
  out[[i]] <- data.frame(
    case = cs$case, day = rng,
    upperbound = num(upperbound(res)[, 1]),
    alarm = as.character(alarms(res)[, 1]),
    expected = num(bs[, "mean"]), sigma = num(bs[, "sigma"]),
    statistic = num(stat)
  )
}
golden <- do.call(rbind, out)
golden$alarm[is.na(golden$alarm)] <- "NA"
write.csv(golden, file.path(dir, "golden.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("wrote %s/golden.csv (%d cases, %d days, %d alarms)\n", dir, nrow(cases), nrow(golden),
            sum(golden$alarm == "TRUE")))
