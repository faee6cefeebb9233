-- The tension engine: its runs, alerts with their history, the latest hotspots and
-- near-repeat analysis, trigger events, and impact-assessment drafts.

CREATE TABLE engine_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    as_of       date NOT NULL,
    trigger     text NOT NULL,            -- schedule, ingest, cli, api
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    duration_ms bigint,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    params      jsonb NOT NULL DEFAULT '{}',
    counts      jsonb NOT NULL DEFAULT '{}',
    error       text NOT NULL DEFAULT ''
);
CREATE INDEX engine_runs_as_of ON engine_runs (as_of);

-- One row an ongoing finding: the same place and method seen on later runs updates
-- it instead of opening another.
CREATE TABLE alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    method          text NOT NULL,
    key             text NOT NULL,        -- what is watched: area:CODE:strand, city:strand, cluster
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'acknowledged', 'assessment_opened', 'dismissed')),
    tension_level   text NOT NULL,
    first_run_id    bigint NOT NULL REFERENCES engine_runs (id),
    last_run_id     bigint NOT NULL REFERENCES engine_runs (id),
    first_seen      date NOT NULL,
    last_seen       date NOT NULL,
    window_from     date NOT NULL,
    window_to       date NOT NULL,
    area_level      text NOT NULL DEFAULT '',
    areas           text[] NOT NULL DEFAULT '{}',
    cells           bigint[] NOT NULL DEFAULT '{}',
    strands         text[] NOT NULL DEFAULT '{}',
    observed        double precision NOT NULL,
    expected        double precision NOT NULL,
    upper_bound     double precision,
    ratio           double precision,
    p_value         double precision,
    recurrence_days double precision,
    score           double precision,
    evidence        jsonb NOT NULL DEFAULT '{}',
    status_reason   text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_key ON alerts (method, key, last_seen);
CREATE INDEX alerts_status ON alerts (status, last_seen);

CREATE TABLE alert_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id   bigint NOT NULL REFERENCES alerts (id),
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,            -- opened, updated, acknowledged, dismissed, reraised, assessment_opened
    run_id     bigint,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- The latest hotspot analysis per resolution, replaced by each run.
CREATE TABLE hotspots (
    run_id       bigint NOT NULL REFERENCES engine_runs (id),
    res          smallint NOT NULL,
    cell         bigint NOT NULL,
    period_from  date NOT NULL,
    period_to    date NOT NULL,
    count        integer NOT NULL,
    z            double precision NOT NULL,
    p            double precision NOT NULL,
    confidence   smallint NOT NULL,       -- 0, 90, 95, 99 (negative for cold spots)
    category     text NOT NULL,
    trend_z      double precision,
    trend_p      double precision,
    PRIMARY KEY (res, cell)
);

-- The latest near-repeat analysis: the Knox table and the risk zones.
CREATE TABLE near_repeat (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    run_id      bigint NOT NULL REFERENCES engine_runs (id),
    analysis    jsonb NOT NULL,
    zone_res    smallint NOT NULL,
    zone_cells  bigint[] NOT NULL DEFAULT '{}'
);

CREATE TABLE trigger_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day         date NOT NULL,
    scope       text NOT NULL CHECK (scope IN ('local', 'national', 'international')),
    description text NOT NULL,
    strands     text[] NOT NULL DEFAULT '{}',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trigger_events_day ON trigger_events (day);

-- The engine's measurement of each trigger event, refreshed run after run.
CREATE TABLE trigger_uplifts (
    event_id   bigint NOT NULL REFERENCES trigger_events (id) ON DELETE CASCADE,
    strand     text NOT NULL DEFAULT '',  -- '' = all strands
    run_id     bigint NOT NULL REFERENCES engine_runs (id),
    result     jsonb NOT NULL,
    PRIMARY KEY (event_id, strand)
);

-- Community Impact Assessments. The engine opens drafts for high alerts; the
-- workflow (status changes, actions, history) is the council's.
CREATE TABLE assessments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id      bigint REFERENCES alerts (id),
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'under_review', 'closed')),
    title         text NOT NULL,
    trigger       text NOT NULL DEFAULT '',
    area_level    text NOT NULL DEFAULT '',
    areas         text[] NOT NULL DEFAULT '{}',
    cells         bigint[] NOT NULL DEFAULT '{}',
    strands       text[] NOT NULL DEFAULT '{}',
    tension_level text NOT NULL DEFAULT '',
    evidence      jsonb NOT NULL DEFAULT '{}',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX assessments_alert ON assessments (alert_id) WHERE alert_id IS NOT NULL;
