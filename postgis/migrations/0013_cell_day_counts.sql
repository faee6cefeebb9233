-- Roll-ups that aggregate, and cells that contain their reports.
--
-- cell_counts held a row a (day, finest roll-up cell, set of areas, class): nearly a
-- row a report, and every coarser resolution was read as H3 parents of the finest
-- cell, which puts a report near a cell's edge in a neighbouring cell (H3 children
-- do not tile their parent). Now:
--
-- Each incident keeps its cells, one per roll-up resolution its precision supports
-- (coarsest first, each cell's resolution in its index): the cell that contains the
-- report at that resolution (H3 LatLngToCell), so that any H3 implementation
-- reproduces every count and a roll-up rebuild is plain SQL.
--
-- cell_day_counts: one row a (resolution, cell, day, class) at the coarse roll-up
-- resolutions (7 and coarser, cells of 5 km² and more), where a cell holds many
-- reports a day. Its key serves the reads of a resolution over a period; the index
-- on (res, cell, day) the reads of given cells (a tile's, a cell's weeks).
--
-- The finer resolutions, where a cell-day holds about one report, are counted from
-- the incidents themselves: the GIN index on their cells finds the reports of given
-- cells (a tile's, a cell's weeks), the index on their day those of a period.
--
-- set_day_counts: one row a (day, set of areas, class), for the reports in at least
-- one area; every area count reads it through area_sets (the view area_counts).
--
-- The cells of incidents stored before this migration are computed by the service
-- as it migrates (it takes an H3 library), then the roll-ups rebuilt: until then the
-- setting 'cells_pending' is true.

ALTER TABLE incidents ADD COLUMN cells bigint[];

CREATE TABLE cell_day_counts (
    res   smallint NOT NULL,
    cell  bigint   NOT NULL,
    day   date     NOT NULL,
    class bigint   NOT NULL,
    n     integer  NOT NULL,
    PRIMARY KEY (res, day, cell, class)
);
CREATE INDEX cell_day_counts_cell ON cell_day_counts (res, cell, day);

CREATE INDEX incidents_cells ON incidents USING gin (cells);
CREATE INDEX incidents_day ON incidents (occurred_from);

CREATE TABLE set_day_counts (
    day      date    NOT NULL,
    area_set integer NOT NULL,
    class    bigint  NOT NULL,
    n        integer NOT NULL,
    PRIMARY KEY (day, area_set, class)
);

INSERT INTO set_day_counts (day, area_set, class, n)
SELECT day, area_set, class, sum(n) FROM cell_counts WHERE area_set <> 0 GROUP BY 1, 2, 3;

INSERT INTO settings (key, value)
SELECT 'cells_pending', 'true' WHERE EXISTS (SELECT 1 FROM incidents WHERE cell IS NOT NULL)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

DROP VIEW cell_counts_by_res;
DROP VIEW area_counts;
DROP TABLE cell_counts;

CREATE VIEW area_counts AS
SELECT c.day, a.area_id, c.class, sum(c.n)::integer AS n
FROM set_day_counts c
JOIN area_sets s ON s.id = c.area_set
CROSS JOIN unnest(s.areas) AS a(area_id)
GROUP BY 1, 2, 3;

-- Counts by resolution, cell, day and class at every resolution: the rolled-up ones
-- and, finer, those of the incidents.
CREATE VIEW cell_counts_by_res AS
SELECT c.res::integer AS res, c.cell, c.day,
       class_kind(c.class) AS kind, class_source(c.class) AS source_id, class_strands(c.class) AS strands, c.n
FROM cell_day_counts c
UNION ALL
SELECT h3_res(x.cell), x.cell, i.occurred_from, i.kind, i.source_id, i.strands, count(*)::integer
FROM incidents i CROSS JOIN unnest(i.cells) AS x(cell)
WHERE i.cells IS NOT NULL AND h3_res(x.cell) > 7
GROUP BY 1, 2, 3, 4, 5, 6;
