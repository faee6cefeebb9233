-- Community Impact Assessments as a workflow: their fields, actions, links to
-- trigger events, and a history of every change. An alert follows its assessment:
-- opened when the assessment opens, closed when it closes.

ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check
    CHECK (status IN ('new', 'acknowledged', 'assessment_opened', 'closed', 'dismissed'));

ALTER TABLE assessments
    ADD COLUMN trigger_kind  text NOT NULL DEFAULT 'alert' CHECK (trigger_kind IN ('alert', 'incident', 'event', 'other')),
    ADD COLUMN incident_id   bigint,                       -- incidents.id, for an assessment of one incident
    ADD COLUMN communities   text NOT NULL DEFAULT '',     -- who is affected, in words
    ADD COLUMN summary       text NOT NULL DEFAULT '',     -- the situation and the mood of the community
    ADD COLUMN intelligence  jsonb NOT NULL DEFAULT '[]',  -- [{grade: evidenced|experienced|potential, text, source}]
    ADD COLUMN risks         jsonb NOT NULL DEFAULT '[]',  -- [{text, rating: low|medium|high, mitigation}]
    ADD COLUMN partners      text[] NOT NULL DEFAULT '{}', -- partners consulted
    ADD COLUMN review_date   date,
    ADD COLUMN bbox          double precision[],           -- map extent: west, south, east, north
    ADD COLUMN closed_reason text NOT NULL DEFAULT '',
    ADD COLUMN opened_at     timestamptz,                  -- first opened
    ADD COLUMN closed_at     timestamptz,                  -- last closed
    ADD COLUMN version       integer NOT NULL DEFAULT 1;   -- bumped by every change, for edits that cross
CREATE INDEX assessments_status ON assessments (status);

-- Drafts made before this migration count as made when they were.
UPDATE assessments SET trigger_kind = CASE WHEN alert_id IS NULL THEN 'other' ELSE 'alert' END;

CREATE TABLE assessment_actions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assessment_id bigint NOT NULL REFERENCES assessments (id),
    description   text NOT NULL,
    owner         text NOT NULL,            -- a partner or a person
    due           date NOT NULL,
    done          boolean NOT NULL DEFAULT false,
    done_at       timestamptz,
    done_by       text NOT NULL DEFAULT '',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessment_actions_assessment ON assessment_actions (assessment_id, id);
CREATE INDEX assessment_actions_due ON assessment_actions (due) WHERE NOT done;

-- Trigger events an assessment responds to.
CREATE TABLE assessment_events (
    assessment_id bigint NOT NULL REFERENCES assessments (id),
    event_id      bigint NOT NULL REFERENCES trigger_events (id),
    PRIMARY KEY (assessment_id, event_id)
);
CREATE INDEX assessment_events_event ON assessment_events (event_id);

-- Every change, who made it and when: append only.
CREATE TABLE assessment_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assessment_id bigint NOT NULL REFERENCES assessments (id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    action        text NOT NULL,            -- created, edited, opened, under_review, reopened, closed, action_added, action_done, action_undone, event_linked, event_unlinked
    changes       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX assessment_history_assessment ON assessment_history (assessment_id, id);
CREATE FUNCTION assessment_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'assessment_history is append-only';
END $$;
CREATE TRIGGER assessment_history_append_only BEFORE UPDATE OR DELETE ON assessment_history
    FOR EACH ROW EXECUTE FUNCTION assessment_history_append_only();
CREATE TRIGGER assessment_history_no_truncate BEFORE TRUNCATE ON assessment_history
    FOR EACH STATEMENT EXECUTE FUNCTION assessment_history_append_only();

-- The engine's drafts so far get the first line of their history.
INSERT INTO assessment_history (assessment_id, at, actor, action, changes)
SELECT id, created_at, created_by, 'created', jsonb_build_object('status', 'draft') FROM assessments;
