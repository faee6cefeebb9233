-- Counts of the finer cells over whole months and whole years.
--
-- At resolutions 8 to 10 (cells of under a square kilometre) a cell holds about one
-- report a day, so their counts came from the incidents themselves: a tile over ten
-- years read every report of its cells, one a page (1.5 s for the first tile of a new
-- server at a million reports, 17 s at ten million, against 5 to 9 ms for ST_AsMVT
-- over precomputed hexagons), and the count of a whole resolution over a long period
-- outlasted the tiles that waited for it.
--
-- cell_month_counts and cell_year_counts hold one row a (resolution, cell, month or
-- year, class) at every roll-up resolution: a period's whole years are read from the
-- yearly rows, its whole months outside them from the monthly rows, and the days at
-- either end from cell_day_counts (resolution 7 and coarser) or the incidents
-- (finer), so a tile over ten years reads ten rows a cell and class rather than
-- every report (or, at resolution 7, every day). Each is written as
-- 0016 writes the others: every batch sums its rows by key in the service and appends
-- them in the transaction that stores its reports; reads sum the rows of a key; a
-- merge leaves one row a key. The month or year is its first day.
--
-- Their one index each, on (cell, ...), serves the reads of given cells (a tile's)
-- and carries class and n, so that they read the index alone. A cell's resolution
-- is part of its number, so a read of given cells names no resolution. The count of
-- a whole resolution (made once, in the background, and shared by every tile)
-- reads the table: an index on (res, month) as well made the ingest pay for a
-- fourth index on every row it appends.

CREATE TABLE cell_month_counts (
    res   smallint NOT NULL,
    cell  bigint   NOT NULL,
    month date     NOT NULL,
    class bigint   NOT NULL,
    n     integer  NOT NULL
);

CREATE TABLE cell_year_counts (
    res   smallint NOT NULL,
    cell  bigint   NOT NULL,
    year  date     NOT NULL,
    class bigint   NOT NULL,
    n     integer  NOT NULL
);

INSERT INTO cell_month_counts (res, cell, month, class, n)
SELECT h3_res(c), c, date_trunc('month', occurred_from)::date, (kind::bigint << 62) | (source_id::bigint << 48) | strands, count(*)
FROM incidents CROSS JOIN unnest(cells) AS c
WHERE cells IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO cell_year_counts (res, cell, year, class, n)
SELECT res, cell, date_trunc('year', month)::date, class, sum(n)
FROM cell_month_counts GROUP BY 1, 2, 3, 4;

CREATE INDEX cell_month_counts_cell ON cell_month_counts (cell, month) INCLUDE (class, n);
CREATE INDEX cell_year_counts_cell ON cell_year_counts (cell, year) INCLUDE (class, n);
