-- An ingest run left 'running' by a process that died (a crash, kill -9, a lost
-- connection) is marked 'interrupted' by the next process that starts: a live run
-- holds an advisory lock on its id for as long as it runs.
ALTER TABLE ingest_runs DROP CONSTRAINT ingest_runs_status_check;
ALTER TABLE ingest_runs ADD CONSTRAINT ingest_runs_status_check
    CHECK (status IN ('running', 'done', 'failed', 'interrupted'));
