-- Incidents, their vocabularies, the roll-ups that answer every count, and areas.

CREATE EXTENSION IF NOT EXISTS postgis;

-- Settings the data depends on, such as the roll-up resolutions.
CREATE TABLE settings (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);

-- Strands and sources get a small stable id each; a strand's id is its bit in the
-- strands bitmask of incidents and roll-ups.
CREATE TABLE strands (
    id   smallint PRIMARY KEY CHECK (id BETWEEN 0 AND 62),
    name text NOT NULL UNIQUE
);

CREATE TABLE sources (
    id   smallint PRIMARY KEY CHECK (id >= 0),
    name text NOT NULL UNIQUE
);

-- One row a run of the ingest, from the command line, the API or the demo.
CREATE TABLE ingest_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    origin      text NOT NULL,
    actor       text NOT NULL DEFAULT '',
    inputs      text[] NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    summary     jsonb
);

-- Incidents. Raw victim and offender references are never stored: only their keyed
-- HMACs. kind: 0 crime, 1 incident. cell is the H3 cell at the finest resolution the
-- location's precision supports; every roll-up cell is one of its parents. There are
-- no foreign keys and few indexes on purpose: ingest validates in Go and is
-- measured against a plain COPY.
CREATE TABLE incidents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id     smallint NOT NULL,
    source_ref    text NOT NULL,
    kind          smallint NOT NULL CHECK (kind IN (0, 1)),
    strands       bigint NOT NULL CHECK (strands <> 0),
    offence       text NOT NULL DEFAULT '',
    occurred_from date NOT NULL,
    occurred_to   date NOT NULL CHECK (occurred_to >= occurred_from),
    reported_at   timestamptz,
    precision     text NOT NULL CHECK (precision IN ('exact', 'street', 'postcode', 'area_centroid', 'online', 'none')),
    location      geometry(Point, 4326),
    cell          bigint,
    areas         integer[] NOT NULL DEFAULT '{}',
    victim_key    text,
    offender_key  text,
    run_id        bigint,
    ingested_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, source_ref)
);

-- H3 index arithmetic, so that roll-ups at every resolution come from one stored cell.
CREATE FUNCTION h3_res(cell bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((cell >> 52) & 15)::integer;

CREATE FUNCTION h3_parent(cell bigint, res integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((cell & ~(15::bigint << 52)) | (res::bigint << 52)) | ((1::bigint << (3 * (15 - res))) - 1);

-- Roll-ups. Each counts incidents by day, kind, source and the exact set of strands
-- (a bitmask), so that any filter counts an incident of several strands once.
CREATE TABLE cell_counts (
    res       smallint NOT NULL,
    cell      bigint   NOT NULL,
    day       date     NOT NULL,
    kind      smallint NOT NULL,
    source_id smallint NOT NULL,
    strands   bigint   NOT NULL,
    n         integer  NOT NULL,
    PRIMARY KEY (res, cell, day, kind, source_id, strands)
);

-- All incidents, located or not (online reports count in totals).
CREATE TABLE day_counts (
    day       date     NOT NULL,
    kind      smallint NOT NULL,
    source_id smallint NOT NULL,
    strands   bigint   NOT NULL,
    n         integer  NOT NULL,
    located   integer  NOT NULL,
    PRIMARY KEY (day, kind, source_id, strands)
);

CREATE TABLE areas (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    level      text NOT NULL,
    code       text NOT NULL UNIQUE,
    name       text NOT NULL,
    geom       geometry(MultiPolygon, 4326) NOT NULL,
    population integer CHECK (population >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX areas_geom ON areas USING gist (geom);
CREATE INDEX areas_level ON areas (level);

CREATE TABLE area_counts (
    area_id   integer  NOT NULL,
    day       date     NOT NULL,
    kind      smallint NOT NULL,
    source_id smallint NOT NULL,
    strands   bigint   NOT NULL,
    n         integer  NOT NULL,
    PRIMARY KEY (area_id, day, kind, source_id, strands)
);

-- Bumped after every change to counts, so caches keyed by it never serve stale data.
CREATE SEQUENCE data_version;
