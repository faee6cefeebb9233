-- Counts of the cells over whole months and whole years, and the reads of the
-- finer cells from the incidents.
--
-- At resolutions 8 to 10 (cells of under a square kilometre) a cell holds about one
-- report a day, so their counts came from the incidents themselves, found through
-- a GIN index on the incidents' cells that knows no day: a tile over ten years read
-- every report of its cells, one a page (1.5 s for the first tile of a new server
-- at a million reports, 17 s at ten million, against 5 to 9 ms for ST_AsMVT over
-- precomputed hexagons), and the count of a whole resolution over a long period
-- outlasted the tiles that waited for it.
--
-- cell_month_counts and cell_year_counts hold one row a (resolution, cell, month or
-- year, class) at resolution 8 and coarser: a period's whole years are read from the
-- yearly rows, its whole months outside them from the monthly rows, and the days at
-- either end from cell_day_counts (resolution 7 and coarser) or the incidents
-- (resolution 8), so a tile over ten years reads ten rows a cell and class rather
-- than every report (or, at resolution 7, every day). Finer cells keep none: after
-- a load of 300,000 reports over five years a (cell, month, class) at resolution 9
-- or 10 held 1.5 reports and a (cell, year, class) 2 to 2.3, against 2.3 and 3.7 at
-- resolution 8, so their rows cost the ingest (1.2 rows a report) and saved a read
-- hardly anything. Each is written as 0016 writes the others: every batch sums its
-- rows by key in the service and appends them in the transaction that stores its
-- reports; reads sum the rows of a key; a merge leaves one row a key. The month or
-- year is its first day.
--
-- Their one index each, on (cell, ...), serves the reads of given cells (a tile's)
-- and carries class and n, so that they read the index alone. A cell's resolution
-- is part of its number, so a read of given cells names no resolution. The count of
-- a whole resolution (made once, in the background, and shared by every tile)
-- reads the table: an index on (res, month) as well made the ingest pay for a
-- fourth index on every row it appends.
--
-- The reports of the cells finer than resolution 7 are read through one btree index
-- a resolution, on (cell_at(cells, r), occurred_from + 0), so that the reports of
-- given cells over any period are a range of the index per cell. The day is the
-- expression occurred_from + 0, as the reads of given cells name it, out of the reach
-- of the indexes on days: a generic plan, knowing neither the cells nor the period,
-- otherwise read the whole period's reports through them and filtered the cells. cell_at is an
-- expression of built-in operators (the planner inlines it, in the indexes and in
-- the reads alike), and a read names its resolution as a constant, as the indexes
-- do. They replace the GIN index on cells, which only the reads of given cells used
-- and which knew no day. An index serves the resolution it names: a roll-up
-- resolution finer than 10 reads its cells through the index on days.

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
WHERE cells IS NOT NULL AND h3_res(c) <= 8
GROUP BY 1, 2, 3, 4;

INSERT INTO cell_year_counts (res, cell, year, class, n)
SELECT res, cell, date_trunc('year', month)::date, class, sum(n)
FROM cell_month_counts GROUP BY 1, 2, 3, 4;

CREATE INDEX cell_month_counts_cell ON cell_month_counts (cell, month) INCLUDE (class, n);
CREATE INDEX cell_year_counts_cell ON cell_year_counts (cell, year) INCLUDE (class, n);

-- The cell at resolution res of an incident's cells (one a resolution, coarsest
-- first, so at most 16), or NULL.
CREATE FUNCTION cell_at(cells bigint[], res integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE res
        WHEN h3_res(cells[1]) THEN cells[1] WHEN h3_res(cells[2]) THEN cells[2]
        WHEN h3_res(cells[3]) THEN cells[3] WHEN h3_res(cells[4]) THEN cells[4]
        WHEN h3_res(cells[5]) THEN cells[5] WHEN h3_res(cells[6]) THEN cells[6]
        WHEN h3_res(cells[7]) THEN cells[7] WHEN h3_res(cells[8]) THEN cells[8]
        WHEN h3_res(cells[9]) THEN cells[9] WHEN h3_res(cells[10]) THEN cells[10]
        WHEN h3_res(cells[11]) THEN cells[11] WHEN h3_res(cells[12]) THEN cells[12]
        WHEN h3_res(cells[13]) THEN cells[13] WHEN h3_res(cells[14]) THEN cells[14]
        WHEN h3_res(cells[15]) THEN cells[15] WHEN h3_res(cells[16]) THEN cells[16]
    END;

DROP INDEX incidents_cells;
CREATE INDEX incidents_cell8 ON incidents (cell_at(cells, 8), (occurred_from + 0)) INCLUDE (kind, source_id, strands);
CREATE INDEX incidents_cell9 ON incidents (cell_at(cells, 9), (occurred_from + 0)) INCLUDE (kind, source_id, strands);
CREATE INDEX incidents_cell10 ON incidents (cell_at(cells, 10), (occurred_from + 0)) INCLUDE (kind, source_id, strands);
