-- The yearly counts by class at resolutions 8 and coarser alone.
--
-- cell_year_counts held a row a (resolution, cell, year, class) up to resolution 10
-- (0021), for tiles over whole years. Since the counts by strands (0022) a tile's
-- read with no filter of kind or source, filtered by strand or not, takes its whole
-- years from cell_year_strands; the rows by class at resolutions 9 and 10 served
-- the reads filtered by kind or source alone, and a (cell, year, class) there holds
-- a report or two. Each report appended two rows to them and every ingest run
-- merged them as it ended: the ingest's pace paid for a read the incidents' index
-- on the cells serves (a tile's cells over its days, the index carrying the class).
-- The finer rows go; the coarser stay (a cell of resolution 8 a year gathers many
-- reports of a class).

DELETE FROM cell_year_counts WHERE res > 8;
