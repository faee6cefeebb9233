-- The reports of each cell a year, whatever their class: what a map tile over whole
-- years draws.
--
-- A tile draws a cell's count alone. Over whole years cell_year_counts (0017) holds
-- a row a class, at resolution 8 and coarser, and the cells at resolutions 9 and 10
-- were read from the incidents' own index, a report an entry: at ten million reports
-- over ten years the first tile over all years of a new server read 150,000 entries
-- and took a second, and the server's count of a whole resolution (made in the
-- background and shared by every tile) read seven million. A row a class does not
-- aggregate there either: a (cell, year, class) at resolution 10 held 1.6 reports at a
-- million reports and about 3.4 at ten million. A (cell, year) holds every class of
-- its reports in one row: 33 reports at ten million at resolution 10, a row a cell and
-- year at the coarser ones.
--
-- cell_year_totals holds one row a (resolution, cell, year) up to resolution 10 (the
-- finest whose cells the incidents hold as columns of their own), written as 0016
-- writes the others: each batch sums its rows by key in the service and appends them
-- in the transaction that stores its reports; reads sum the rows of a key; a merge
-- leaves one row a key, and an ingest run merges it as it ends whatever the span of
-- its days (its rows are few once merged). Reads over whole years with no filter of
-- strand, kind or source (the map's usual view) take them; filtered reads take
-- cell_year_counts or the incidents as before. Its one index serves the reads of given
-- cells and carries n, so that they read the index alone.

CREATE TABLE cell_year_totals (
    res  smallint NOT NULL,
    cell bigint   NOT NULL,
    year date     NOT NULL,
    n    integer  NOT NULL
);

INSERT INTO cell_year_totals (res, cell, year, n)
SELECT h3_res(c), c, date_trunc('year', occurred_from)::date, count(*)
FROM incidents CROSS JOIN unnest(cells) AS c
WHERE cells IS NOT NULL AND h3_res(c) <= 10
GROUP BY 1, 2, 3;

CREATE INDEX cell_year_totals_cell ON cell_year_totals (cell, year) INCLUDE (n);
