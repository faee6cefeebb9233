# Reference values for tension.MannKendall: runs cor.test(seq_along(y), y,
# method = "kendall", exact = FALSE) with and without the continuity correction on
# every series of testdata/reference/mannkendall/series.csv (written by the Go test
# with -write-mannkendall-inputs) and writes golden.csv beside it at full precision.
# S is counted from the pairs directly.
# Run from the repository root: Rscript scripts/reference/mannkendall.R
options(digits = 17)
dir <- "testdata/reference/mannkendall"
num <- function(v) sprintf("%.17g", v)

d <- read.csv(file.path(dir, "series.csv"), stringsAsFactors = FALSE)
out <- list()
for (name in sort(unique(d$series))) {
  s <- d[d$series == name, ]
  y <- s$value[order(s$step)]
  x <- seq_along(y)
  ct <- suppressWarnings(cor.test(x, y, method = "kendall", exact = FALSE))
  cc <- suppressWarnings(cor.test(x, y, method = "kendall", exact = FALSE, continuity = TRUE))
  pairs <- outer(y, y, "-") # [i, j] = y_i - y_j
  S <- sum(sign(pairs[lower.tri(pairs)])) # i > j: sign(y_i - y_j), later minus earlier
  out[[name]] <- data.frame(series = name, n = length(y), ties = anyDuplicated(y) > 0, s = num(S),
                            tau = num(unname(ct$estimate)),
                            z = num(unname(ct$statistic)), p = num(ct$p.value),
                            z_cc = num(unname(cc$statistic)), p_cc = num(cc$p.value))
}
g <- do.call(rbind, out)
write.csv(g, file.path(dir, "golden.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("wrote %s/golden.csv (%d series, %d with ties)\n", dir, nrow(g), sum(g$ties)))
