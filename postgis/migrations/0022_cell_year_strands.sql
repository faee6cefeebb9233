-- Whole years of a cell by strand: what a map tile draws, filtered by strand or not.
--
-- A tile filtered by a strand (the load run's clients filter by one two times in
-- three, as the map's strand picker does) read its whole years from
-- cell_year_counts, a row a (cell, year, class): the class is the report's kind,
-- source and strands, some sixty at a busy cell a year. At ten million reports over
-- ten years a resolution-8 tile at zoom 11 read hundreds of thousands of those rows
-- and, under sixteen clients, took past the three seconds a tile waits.
--
-- cell_year_strands holds one row a (resolution, cell, year, strands), up to
-- resolution 10: its class is the report's class with the kind and the source left
-- out (class_strands), a few a cell a year. A tile's read with no filter of class
-- sums them; one with a filter of strands alone (no kind, no source) tests them as it
-- tests a class (class & mask <> 0). It takes the place of cell_year_totals (0021),
-- a row a (resolution, cell, year) that served the unfiltered reads alone: one table
-- appended to and merged rather than two (at 1M reports over ten years it holds
-- 364,000 rows where the totals held 87,000 and the yearly rows by class 997,000).
-- It is written as the others: each batch appends its rows, an ingest run merges
-- them as it ends; its one index serves the reads of given cells and carries the
-- class and n, so that they read the index alone.

CREATE TABLE cell_year_strands (
    res   smallint NOT NULL,
    cell  bigint   NOT NULL,
    year  date     NOT NULL,
    class bigint   NOT NULL,
    n     integer  NOT NULL
);

INSERT INTO cell_year_strands (res, cell, year, class, n)
SELECT res, cell, year, class_strands(class), sum(n)
FROM cell_year_counts
GROUP BY 1, 2, 3, 4;

CREATE INDEX cell_year_strands_cell ON cell_year_strands (cell, year) INCLUDE (class, n);

DROP TABLE cell_year_totals;
