-- Whole years of the finer cells from yearly rows, and the reports of each cell a
-- year whatever their class: what a map tile over whole years draws.
--
-- Over whole years the cells at resolutions 9 and 10 were read from the incidents'
-- own index, a report an entry: at ten million reports over ten years the first tile
-- over all years of a new server read the index entries of 150 cells holding some
-- 700,000 reports and took a second, and the server's count of a whole resolution
-- (made in the background and shared by every tile) read seven million. At that size
-- those 150 cells hold about 77,000 (cell, year, class) keys and 1,500 (cell, year)
-- keys.
--
-- cell_year_counts (0017) now holds resolutions 9 and 10 too, so that a filtered read
-- (a strand, a kind, a source) over whole years reads a row a class; and
-- cell_year_totals holds one row a (resolution, cell, year) up to resolution 10,
-- whatever the class, read by the tiles over whole years with no filter of strand,
-- kind or source (the map's usual view). Both are written as 0016 writes the others:
-- each batch sums its rows by key in the service and appends them in the transaction
-- that stores its reports; reads sum the rows of a key; a merge leaves one row a key,
-- and an ingest run merges the totals and the yearly rows of resolutions 9 and 10 as
-- it ends whatever the span of its days (a key gathers rows from many batches;
-- merged, they are few). cell_year_totals' one index
-- serves the reads of given cells and carries n, so that they read the index alone.

INSERT INTO cell_year_counts (res, cell, year, class, n)
SELECT h3_res(c), c, date_trunc('year', occurred_from)::date, (kind::bigint << 62) | (source_id::bigint << 48) | strands, count(*)
FROM incidents CROSS JOIN unnest(cells) AS c
WHERE cells IS NOT NULL AND h3_res(c) BETWEEN 9 AND 10
GROUP BY 1, 2, 3, 4;

CREATE TABLE cell_year_totals (
    res  smallint NOT NULL,
    cell bigint   NOT NULL,
    year date     NOT NULL,
    n    integer  NOT NULL
);

INSERT INTO cell_year_totals (res, cell, year, n)
SELECT res, cell, year, sum(n)
FROM cell_year_counts WHERE res <= 10
GROUP BY 1, 2, 3;

CREATE INDEX cell_year_totals_cell ON cell_year_totals (cell, year) INCLUDE (n);
