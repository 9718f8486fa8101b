-- Accounts: the users of organisations, and the refresh tokens of their
-- sessions, kept only as hashes. Organisations of kind 'operator' are
-- already allowed by 00001.

-- +goose Up
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    -- email is normalized (trimmed, lower-cased) by the store, so that the
    -- unique constraint holds for one mailbox however it was typed.
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('buyer', 'evaluator', 'supplier', 'operator')),
    admin           INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    password_hash   TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email)
);
CREATE INDEX users_organisation ON users (organisation_id, created_at, id);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    revoked_at TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- The operator pages organisations by creation.
CREATE INDEX organisations_created ON organisations (created_at, id);

-- +goose Down
DROP INDEX organisations_created;
DROP TABLE refresh_tokens;
DROP TABLE users;
