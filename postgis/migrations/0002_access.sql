-- Accounts, sessions, API tokens and the append-only audit log.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL,
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('police', 'council', 'strategic', 'partner', 'admin')),
    areas         text[] NOT NULL DEFAULT '{}',
    disabled      boolean NOT NULL DEFAULT false,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_sign_in  timestamptz
);
CREATE UNIQUE INDEX users_username ON users (lower(username));

-- Only the SHA-256 of a session cookie is stored.
CREATE TABLE sessions (
    hash       bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL DEFAULT now(),
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Only the SHA-256 of a token's secret is stored.
CREATE TABLE api_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('police', 'council', 'strategic', 'partner', 'admin')),
    source     text NOT NULL DEFAULT '',
    areas      text[] NOT NULL DEFAULT '{}',
    hash       bytea NOT NULL,
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used  timestamptz
);

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    role       text NOT NULL DEFAULT '',
    action     text NOT NULL,
    route      text NOT NULL DEFAULT '',
    params     jsonb NOT NULL DEFAULT '{}',
    rows       bigint NOT NULL DEFAULT 0,
    ip         text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The audit log cannot be edited: not through the service, which has no such route,
-- and not by a stray statement either.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Incident-level reads page through incidents by day; a BRIN index is cheap to keep
-- as reports arrive roughly in date order.
CREATE INDEX incidents_occurred ON incidents USING brin (occurred_from);
