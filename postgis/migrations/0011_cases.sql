-- Victim cases: one complainant's reports followed by one partner, known by the
-- pseudonymous victim key only (never a name). Dates, the outcome and the survey
-- answers are columns, for the figures; the action plan and the contacts are
-- lists in jsonb, each with its short free text. Erasing a complainant's free text
-- clears the texts and keeps every date and count.

CREATE TABLE cases (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner            text NOT NULL,             -- the owning partner, one of the sources
    ref                text NOT NULL,             -- the partner's own case reference
    victim_key         text NOT NULL CHECK (victim_key ~ '^[0-9a-f]{32}$'),
    reports            jsonb NOT NULL DEFAULT '[]', -- [{source, ref}]
    officer            bigint REFERENCES users (id),
    opened_at          timestamptz NOT NULL,
    first_contact_at   timestamptz,
    victims_code_at    timestamptz,
    risk               text NOT NULL CHECK (risk IN ('standard', 'medium', 'high')),
    referral           boolean NOT NULL DEFAULT false,
    actions            jsonb NOT NULL DEFAULT '[]', -- [{text, owner, due, done_at}]
    contacts           jsonb NOT NULL DEFAULT '[]', -- [{at, how, by, note}], in time order
    closed_at          timestamptz,
    outcome            text CHECK (outcome IN ('resolved', 'not_resolved', 'withdrawn')),
    closure_reason     text NOT NULL DEFAULT '',
    survey_at          timestamptz,
    satisfied_outcome  boolean,
    satisfied_handling boolean,
    survey_declined    boolean NOT NULL DEFAULT false, -- offered and refused: no answers
    erased_at          timestamptz,
    version            integer NOT NULL DEFAULT 1, -- bumped by every change, for edits that cross
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner, ref),
    CHECK ((closed_at IS NULL) = (outcome IS NULL)),
    CHECK (survey_at IS NULL OR closed_at IS NOT NULL)
);
CREATE INDEX cases_victim ON cases (victim_key);
CREATE INDEX cases_officer ON cases (officer);
CREATE INDEX cases_open ON cases (partner) WHERE closed_at IS NULL;

-- Every change of a case, who made it and when, without free text: append only.
CREATE TABLE case_history (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id),
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    changes jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_history_case ON case_history (case_id, id);
CREATE FUNCTION case_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_history is append-only';
END $$;
CREATE TRIGGER case_history_append_only BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION case_history_append_only();
CREATE TRIGGER case_history_no_truncate BEFORE TRUNCATE ON case_history
    FOR EACH STATEMENT EXECUTE FUNCTION case_history_append_only();
