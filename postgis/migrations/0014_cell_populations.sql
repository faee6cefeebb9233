-- Populations per H3 cell, computed once when areas or their populations are
-- imported (and when the roll-up resolutions change), not when a tile is drawn: a
-- row a (resolution, cell) at every roll-up resolution, the people of the finest
-- level with populations spread over the cells (geo.CellPopulation), an estimate.
-- A tile reads the rows of its own cells.
CREATE TABLE cell_populations (
    res        smallint         NOT NULL,
    cell       bigint           NOT NULL,
    population double precision NOT NULL,
    PRIMARY KEY (res, cell)
);

-- Areas stored before this table get their cells' populations as the service
-- migrates (it takes an H3 library).
INSERT INTO settings (key, value)
SELECT 'populations_pending', 'true' WHERE EXISTS (SELECT 1 FROM areas WHERE population > 0)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- What each change of the data version touched: a row a bump by an ingest batch,
-- with the cells at the coarsest roll-up resolution it added reports to. A bump with
-- no row here (areas, populations, a rebuild) touched everything. Rows older than
-- the latest 10,000 bumps are dropped as batches add theirs.
CREATE TABLE data_changes (
    version bigint   PRIMARY KEY,
    res     smallint NOT NULL,
    cells   bigint[] NOT NULL
);
