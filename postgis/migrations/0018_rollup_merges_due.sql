-- Days whose daily roll-up rows an ingest run left unmerged. A run over more than a
-- quarter's days (a load of past years) merges only the tree of area counts as it
-- ends; it records its span here, and serve merges those days a month at a time in
-- the background (`TENSIONMAP_ROLLUP_MERGE_EVERY`), so that the daily roll-ups go
-- back to one row a key without anyone running `tensionmap rollups merge`.
CREATE TABLE rollup_merges_due (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	first_day date NOT NULL,
	last_day date NOT NULL CHECK (last_day >= first_day),
	added timestamptz NOT NULL DEFAULT now()
);
