# Reference values for tension.Knox and tension.NearRepeat (run from the repository root,
# after `go test ./tension -run TestKnoxReferenceInputs -args -write-knox-inputs`).
#
# Reads testdata/reference/knox/events-*.csv (x, y in metres, day), thresholds.csv,
# nr-datasets.csv and nr-bands.csv; writes
#   knox-golden.csv: surveillance::knox's table, statistic, expected count, Poisson
#     p-value and simulated p-value (pairs' time closeness permuted, as surveillance
#     does), and the p-value with the days permuted among the events, B = 9999 each;
#   nr-golden.csv: the near-repeat table (pairs per distance band x time band, bands
#     closed on the right, the last of each open-ended), with the mean, standard
#     deviation and p-value (1 + #{sim >= obs}) / (B + 1) over B = 1999 permutations of
#     the days.
suppressPackageStartupMessages(library(surveillance))
options(digits = 17)
dir <- "testdata/reference/knox"
B <- 9999L

fmt <- function(x) sprintf("%.17g", x)

thresholds <- read.csv(file.path(dir, "thresholds.csv"))
rows <- list()
for (k in seq_len(nrow(thresholds))) {
  name <- thresholds$dataset[k]
  eps.s <- thresholds$eps_s[k]
  eps.t <- thresholds$eps_t[k]
  ev <- read.csv(file.path(dir, paste0("events-", name, ".csv")))
  ds <- dist(cbind(ev$x, ev$y))
  dt <- dist(ev$day)
  set.seed(1000L + k)
  kt <- knox(dt = dt, ds = ds, eps.t = eps.t, eps.s = eps.s, simulate.p.value = TRUE, B = B, .verbose = FALSE)
  # The same statistic with the days permuted among the events (Mantel).
  closeInSpace <- ds <= eps.s
  set.seed(2000L + k)
  n <- nrow(ev)
  sims <- vapply(seq_len(B), function(i) sum(closeInSpace & (dist(ev$day[sample.int(n)]) <= eps.t)), 0L)
  p.days <- mean(c(kt$statistic, sims) >= kt$statistic)
  tab <- kt$table
  rows[[k]] <- data.frame(
    dataset = name, eps_s = eps.s, eps_t = eps.t, npairs = length(ds),
    t11 = tab[1, 1], t12 = tab[1, 2], t21 = tab[2, 1], t22 = tab[2, 2],
    statistic = unname(kt$statistic), expected = fmt(unname(kt$null.value)),
    p_pairs = fmt(as.numeric(kt$p.value)), p_poisson = fmt(attr(kt$p.value, "Poisson")),
    p_days = fmt(p.days), B = B)
}
write.csv(do.call(rbind, rows), file.path(dir, "knox-golden.csv"), row.names = FALSE, quote = FALSE)

bands <- read.csv(file.path(dir, "nr-bands.csv"))
dbounds <- bands$bound[bands$kind == "distance"]
tbounds <- bands$bound[bands$kind == "days"]
BNR <- 1999L
nd <- length(dbounds) + 1L
nt <- length(tbounds) + 1L
# Band of each pair: the first bound at least the value; past the last, the open band.
bandOf <- function(v, bounds) findInterval(v, bounds, left.open = TRUE) + 1L
nrTable <- function(db, dt) tabulate((db - 1L) * nt + bandOf(dt, tbounds), nbins = nd * nt)
rows <- list()
for (name in read.csv(file.path(dir, "nr-datasets.csv"))$dataset) {
  ev <- read.csv(file.path(dir, paste0("events-", name, ".csv")))
  n <- nrow(ev)
  db <- bandOf(as.vector(dist(cbind(ev$x, ev$y))), dbounds)
  obs <- nrTable(db, as.vector(dist(ev$day)))
  set.seed(3000L)
  sims <- vapply(seq_len(BNR), function(i) nrTable(db, as.vector(dist(ev$day[sample.int(n)]))), numeric(nd * nt))
  cell <- seq_len(nd * nt)
  rows[[name]] <- data.frame(
    dataset = name, dband = (cell - 1L) %/% nt + 1L, tband = (cell - 1L) %% nt + 1L,
    observed = obs, expected = fmt(rowMeans(sims)), sd = fmt(apply(sims, 1, sd)),
    p = fmt((rowSums(sims >= obs) + 1) / (BNR + 1)), B = BNR)
}
write.csv(do.call(rbind, rows), file.path(dir, "nr-golden.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", file.path(dir, "knox-golden.csv"), "and", file.path(dir, "nr-golden.csv"), "\n")
