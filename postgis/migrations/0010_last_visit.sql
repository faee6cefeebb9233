-- The home page tells a person what changed since their last visit. last_visit_at
-- is the latest home page they saw; previous_visit_at the latest before the visit
-- under way (a visit ends after half an hour without a home page), which is what
-- "since your last visit" counts from.
ALTER TABLE users ADD COLUMN last_visit_at timestamptz, ADD COLUMN previous_visit_at timestamptz;
