# farringtonFlexible on the national scenario's calendar months, for tensionmap eval
# --scenario national: Rscript national.R counts.csv meta.csv alarms.csv
# counts.csv: area,strand,month,count (month 1 is the first whole month of data);
# meta.csv: start_year,start_month,eval_from,eval_to (month numbers evaluated).
# The Noufaily settings on monthly data: b = 4 (3 where four years do not exist
# yet), w = 3, noPeriods = 10, reweighting at 2.58, trend kept unless it
# extrapolates, alpha = 0.05, negative binomial threshold, limit54 = c(5, 4).
args <- commandArgs(TRUE)
suppressMessages(library(surveillance))
d <- read.csv(args[1], stringsAsFactors = FALSE)
meta <- read.csv(args[2])
out <- data.frame(area = character(0), strand = character(0), month = integer(0))
key <- paste(d$area, d$strand, sep = "|")
for (k in unique(key)) {
  x <- d[key == k, ]
  x <- x[order(x$month), ]
  s <- sts(observed = matrix(x$count), start = c(meta$start_year, meta$start_month), frequency = 12)
  for (b in c(4, 3)) {
    first <- 12 * b + 3 + 1
    rng <- seq(meta$eval_from, meta$eval_to)
    rng <- rng[rng >= first]
    if (b == 3) rng <- rng[rng < 12 * 4 + 3 + 1]
    if (length(rng) == 0) next
    con <- list(b = b, w = 3, noPeriods = 10, reweight = TRUE, weightsThreshold = 2.58, pastWeeksNotIncluded = 3,
      trend = TRUE, pThresholdTrend = 1, alpha = 0.05, thresholdMethod = "nbPlugin", limit54 = c(5, 4), range = rng)
    r <- farringtonFlexible(s, control = con)
    a <- which(alarms(r)[, 1] == 1)
    if (length(a) > 0) {
      out <- rbind(out, data.frame(area = x$area[1], strand = x$strand[1], month = rng[a]))
    }
  }
}
write.csv(out, args[3], row.names = FALSE)
