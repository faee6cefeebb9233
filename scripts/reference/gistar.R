# Reference values for tension's Gi* (spatial and space-time) and Benjamini-Hochberg:
# for each case of testdata/reference/gistar/cases.csv (written by the Go test with
# -write-gistar-inputs) builds an spdep neighbour list from <case>_edges.csv (0-based
# edges, self excluded), adds each observation to its own neighbourhood with
# include.self, makes binary weights and runs localG on <case>_values.csv; writes the
# z-scores, their two-sided p-values and p.adjust(p, "BH") to <case>_golden.csv.
# Also writes p.adjust(p, "BH") of the vectors of bh_inputs.csv to bh_golden.csv.
# Run from the repository root: Rscript scripts/reference/gistar.R
suppressPackageStartupMessages(library(spdep))
options(digits = 17)

dir <- "testdata/reference/gistar"
num <- function(v) sprintf("%.17g", v)

# The binary, self-included weights list of n observations from 0-based edges.
gistar_listw <- function(edges, n) {
  nb <- split(edges$to + 1L, factor(edges$from + 1L, levels = seq_len(n)))
  nb <- lapply(nb, function(v) if (length(v)) sort(as.integer(v)) else 0L)
  names(nb) <- NULL
  class(nb) <- "nb"
  attr(nb, "region.id") <- as.character(seq_len(n))
  nb <- include.self(nb)
  nb2listw(nb, style = "B")
}

cases <- read.csv(file.path(dir, "cases.csv"), stringsAsFactors = FALSE)
for (i in seq_len(nrow(cases))) {
  name <- cases$case[i]
  v <- read.csv(file.path(dir, paste0(name, "_values.csv")), stringsAsFactors = FALSE)
  v <- v[order(v$bin), ]
  e <- read.csv(file.path(dir, paste0(name, "_edges.csv")))
  lw <- gistar_listw(e, nrow(v))
  g <- localG(v$value, lw, return_internals = TRUE)
  stopifnot(isTRUE(attr(g, "gstari")))
  ints <- attr(g, "internals")
  z <- as.numeric(g)
  p <- ints[, ncol(ints)] # Pr(z != E(G*i)), two-sided
  write.csv(data.frame(bin = v$bin, z = num(z), p = num(p), p_bh = num(p.adjust(p, "BH"))),
            file.path(dir, paste0(name, "_golden.csv")), row.names = FALSE, quote = FALSE)
  cat(sprintf("%s: %d bins, %d edges, %d |z| > 1.645\n", name, nrow(v), nrow(e), sum(abs(z) > 1.645)))
}

bh <- read.csv(file.path(dir, "bh_inputs.csv"), stringsAsFactors = FALSE)
bh$p_bh <- NA_real_
for (vec in unique(bh$vector)) {
  w <- bh$vector == vec
  bh$p_bh[w] <- p.adjust(bh$p[w], "BH")
}
write.csv(data.frame(vector = bh$vector, i = bh$i, p_bh = num(bh$p_bh)),
          file.path(dir, "bh_golden.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("wrote %s/*_golden.csv\n", dir))
