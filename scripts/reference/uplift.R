# Reference values for tension.Uplift (run from the repository root, after
# `go test ./tension -run TestUpliftReferenceInputs -args -write-uplift-inputs`).
#
# Reads testdata/reference/uplift/cases.csv (x1, t1, x0, t0), series-*.csv (day, count),
# events.csv (series, event_day) and options.csv; writes
#   cases-golden.csv: poisson.test(c(x1, x0), T = c(t1, t0)) for each row: the rate ratio,
#     the one-sided ("greater") p-value and lower limit, the two-sided 95% interval;
#   series-golden.csv: for each event and window, the window and baselines found by the
#     documented rules (a window of w days holds event days 0..w-1, cut short where the
#     series ends; the year-earlier baseline is the same covered days year_lag days
#     before; the prior baseline the prior_days days before the event; a baseline that
#     would start before the series is left out) and the same tests.
options(digits = 17)
dir <- "testdata/reference/uplift"
fmt <- function(x) sprintf("%.17g", x)

test <- function(x1, t1, x0, t0, conf) {
  g <- poisson.test(c(x1, x0), T = c(t1, t0), alternative = "greater", conf.level = conf)
  two <- poisson.test(c(x1, x0), T = c(t1, t0), alternative = "two.sided", conf.level = conf)
  data.frame(estimate = fmt(unname(g$estimate)), p = fmt(g$p.value), lower = fmt(g$conf.int[1]),
             ci_lo = fmt(two$conf.int[1]), ci_hi = fmt(two$conf.int[2]))
}

cases <- read.csv(file.path(dir, "cases.csv"))
rows <- lapply(seq_len(nrow(cases)), function(i) {
  with(cases[i, ], cbind(data.frame(x1 = x1, t1 = t1, x0 = x0, t0 = t0), test(x1, t1, x0, t0, 0.95)))
})
write.csv(do.call(rbind, rows), file.path(dir, "cases-golden.csv"), row.names = FALSE, quote = FALSE)

opt <- read.csv(file.path(dir, "options.csv"))
lag <- opt$year_lag[1]
prior <- opt$prior_days[1]
conf <- opt$conf_level[1]
events <- read.csv(file.path(dir, "events.csv"))
rows <- list()
for (i in seq_len(nrow(events))) {
  s <- read.csv(file.path(dir, paste0("series-", events$series[i], ".csv")))
  count <- setNames(s$count, s$day)
  n <- nrow(s)
  e <- events$event_day[i]                     # days are numbered from 0
  total <- function(from, to) sum(count[as.character(from:to)])
  for (w in opt$windows) {
    last <- min(e + w - 1, n - 1)
    t1 <- last - e + 1
    x1 <- total(e, last)
    base <- list()
    if (e - lag >= 0) base$last_year <- c(e - lag, e - lag + t1 - 1)
    if (e - prior >= 0) base$prior <- c(e - prior, e - 1)
    for (b in names(base)) {
      from <- base[[b]][1]
      to <- base[[b]][2]
      x0 <- total(from, to)
      rows[[length(rows) + 1]] <- cbind(
        data.frame(series = events$series[i], event_day = e, window = w, baseline = b,
                   first = e, last = last, x1 = x1, base_first = from, base_last = to, x0 = x0),
        test(x1, t1, x0, to - from + 1, conf))
    }
  }
}
write.csv(do.call(rbind, rows), file.path(dir, "series-golden.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", file.path(dir, "cases-golden.csv"), "and", file.path(dir, "series-golden.csv"), "\n")
