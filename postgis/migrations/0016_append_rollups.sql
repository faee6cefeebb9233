-- Roll-ups written by appending, merged afterwards.
--
-- Until now every batch of an ingest upserted its counts into each roll-up (INSERT
-- ... ON CONFLICT DO UPDATE): a lookup in a unique index, a row lock and a new row
-- version per key, and for the tree of area counts a vector sum per row in SQL.
-- Measured over an ingest of 300,000 reports, those upserts took more than twice as
-- long as storing the reports themselves (13 s of statement time against 6 s), and
-- the ingest ran at a fifth of the speed of a plain COPY into the incidents table.
--
-- Now the roll-ups are kept as a sum-by-key store (as ClickHouse's SummingMergeTree
-- or an LSM tree keep theirs): each batch sums its counts by key (and the nodes of
-- the tree of area counts, with their class vectors) in the service and COPYs them
-- in, in the transaction that stores its reports, so a report counts everywhere as
-- soon as that transaction commits. A key may then have several rows; every read
-- sums the rows of a key, so counts are exact at every moment. At the end of each
-- ingest run the service merges the rows it added, one row a key (a merge changes
-- no count): always those of the tree, whose keys every batch repeats, and those
-- of the daily roll-ups when the run spans at most 92 days; a load of past years
-- hardly repeats a daily key (0.1% of rows after 300,000 reports over five years)
-- and `tensionmap rollups merge` merges everything. So the tables grow with places
-- x days x classes, not with batches.
--
-- The keys stay indexed for the reads, without uniqueness.
--
-- area_month_counts goes: whole months of area counts are read from the tree of
-- area counts (area_prefix_counts), which a roll-up rebuild recomputes from the
-- daily area rows; nothing else read it, and it held a fifth of the roll-up rows
-- (152,471 of 796,329 after 300,000 reports).

DROP TABLE area_month_counts;

ALTER TABLE cell_day_counts DROP CONSTRAINT cell_day_counts_pkey;
CREATE INDEX cell_day_counts_day ON cell_day_counts (res, day);

ALTER TABLE set_day_counts DROP CONSTRAINT set_day_counts_pkey;
CREATE INDEX set_day_counts_day ON set_day_counts (day);

ALTER TABLE day_counts DROP CONSTRAINT day_counts_pkey;
CREATE INDEX day_counts_day ON day_counts (day);

ALTER TABLE area_prefix_counts DROP CONSTRAINT area_prefix_counts_pkey;
CREATE INDEX area_prefix_counts_area ON area_prefix_counts (area_id, node);

-- The element-wise sum of count vectors, for merging a few rows of a tree node in
-- SQL (larger merges sum them in the service).
CREATE AGGREGATE count_vec_sum(integer[]) (SFUNC = count_vec_add, STYPE = integer[], INITCOND = '{}');
