-- The cells, at every roll-up resolution, an ingest batch added reports to, beside
-- the coarsest ones (0014): with them a server carries its counts of a whole
-- resolution over to the next data version, reading again only the cells a change
-- touched, rather than counting the whole resolution afresh after every report from
-- the intake. NULL when the batch touched more than a server would read again (a
-- bulk load): then the counts are made afresh.
ALTER TABLE data_changes ADD COLUMN touched bigint[];
