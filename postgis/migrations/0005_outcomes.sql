-- Outcomes of police-recorded crimes, as police.uk publishes them: one row per
-- (crime, month, outcome), the history kept; the latest outcome of a crime is the
-- one of its latest month (the later load on a tie). An outcome whose crime is not
-- (yet) stored is kept all the same: it joins when the crime arrives.
CREATE TABLE outcomes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    crime_ref text NOT NULL,               -- police.uk Crime ID, an incident's source_ref
    month     date NOT NULL,               -- first day of the month the outcome was recorded in
    outcome   text NOT NULL,               -- police.uk outcome type, as published
    positive  boolean NOT NULL,            -- a sanction detection: charge or summons, caution, penalty notice, ...
    run_id    bigint,                      -- ingest_runs.id of the load
    loaded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (crime_ref, month, outcome)
);

CREATE VIEW latest_outcomes AS
SELECT DISTINCT ON (crime_ref) crime_ref, month, outcome, positive
FROM outcomes
ORDER BY crime_ref, month DESC, id DESC;
