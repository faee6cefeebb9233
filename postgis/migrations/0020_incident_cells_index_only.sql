-- The finer cells of each incident as columns of their own, so that the reads of
-- given cells are index-only scans.
--
-- The indexes of 0017 were on the expression cell_at(cells, r). PostgreSQL answers a
-- scan from an index alone only when every column the query names is a column of
-- the index, and an expression's columns (cells, occurred_from) are not: every read
-- of a tile's cells fetched each of its reports from the table, one page a report
-- (29,011 pages for the 61,089 reports of 216 cells at resolution 10 over ten years,
-- at a million reports; at ten million the first tile over ten years took seven
-- seconds). cell8 to cell10 are the cell of each resolution, generated from cells, and
-- each index holds its cell as a column, the day as the expression the reads name
-- (out of the reach of the indexes on days, as 0017 says) and, as included columns,
-- the day itself and the class: the reads of given cells then read the index alone
-- (after a vacuum has marked the table's pages all-visible, which autovacuum does
-- after inserts).

ALTER TABLE incidents
    ADD COLUMN cell8  bigint GENERATED ALWAYS AS (cell_at(cells, 8)) STORED,
    ADD COLUMN cell9  bigint GENERATED ALWAYS AS (cell_at(cells, 9)) STORED,
    ADD COLUMN cell10 bigint GENERATED ALWAYS AS (cell_at(cells, 10)) STORED;

DROP INDEX incidents_cell8, incidents_cell9, incidents_cell10;
CREATE INDEX incidents_cell8 ON incidents (cell8, (occurred_from + 0)) INCLUDE (occurred_from, kind, source_id, strands);
CREATE INDEX incidents_cell9 ON incidents (cell9, (occurred_from + 0)) INCLUDE (occurred_from, kind, source_id, strands);
CREATE INDEX incidents_cell10 ON incidents (cell10, (occurred_from + 0)) INCLUDE (occurred_from, kind, source_id, strands);
