-- Runs that are never lost, and backfills.
--
-- A run whose detectors partly failed, or one of whose stored parts (hotspots, near
-- repeats, uplifts) could not be saved, ends 'partial': what did not fail is saved
-- and failures lists [{detector, error}]. seconds holds each detector's time, nulls
-- the values that were not numbers (NaN, infinities) and were stored as null:
-- [{part, path, reason}].
--
-- A backfill replays the engine over past days: one row with trigger 'backfill'
-- stands for the whole of it (as_of its last day, status 'cleared' once its alerts
-- are cleared), and each replayed day is a run whose backfill_id is that row. Its
-- alerts carry the same backfill_id: they merge among themselves only, never with
-- live alerts, and clearing the backfill deletes them and their history. Backfill
-- runs draft no assessments and store no hotspots, near repeats or uplifts.
ALTER TABLE engine_runs DROP CONSTRAINT engine_runs_status_check;
ALTER TABLE engine_runs ADD CONSTRAINT engine_runs_status_check
    CHECK (status IN ('running', 'done', 'partial', 'failed', 'cleared'));
ALTER TABLE engine_runs
    ADD COLUMN failures    jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN seconds     jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN nulls       jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN backfill_id bigint REFERENCES engine_runs (id);
CREATE INDEX engine_runs_backfill ON engine_runs (backfill_id, as_of) WHERE backfill_id IS NOT NULL;
CREATE INDEX engine_runs_schedule ON engine_runs (as_of) WHERE trigger = 'schedule' AND status IN ('done', 'partial');

ALTER TABLE alerts ADD COLUMN backfill_id bigint REFERENCES engine_runs (id);
CREATE INDEX alerts_backfill ON alerts (backfill_id, last_seen) WHERE backfill_id IS NOT NULL;

-- A value that is not a number is stored as null, never as NaN.
ALTER TABLE alerts ALTER COLUMN observed DROP NOT NULL, ALTER COLUMN expected DROP NOT NULL;
ALTER TABLE hotspots ALTER COLUMN z DROP NOT NULL, ALTER COLUMN p DROP NOT NULL;
