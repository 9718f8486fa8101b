-- Accounts: the users of organisations, and the refresh tokens of their
-- sessions, kept only as hashes. Organisations of kind 'operator' are
-- already allowed by 00001.

-- +goose Up
CREATE TABLE users (
    id              text COLLATE "C" PRIMARY KEY,
    organisation_id text COLLATE "C" NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            text NOT NULL,
    -- email is normalized (trimmed, lower-cased) by the store and compared
    -- as bytes, so that the unique constraint holds for one mailbox however
    -- it was typed.
    email           text COLLATE "C" NOT NULL,
    role            text NOT NULL CHECK (role IN ('buyer', 'evaluator', 'supplier', 'operator')),
    admin           boolean NOT NULL DEFAULT false,
    status          text NOT NULL CHECK (status IN ('active', 'disabled')),
    password_hash   text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email)
);
CREATE INDEX users_organisation ON users (organisation_id, created_at, id);

CREATE TABLE refresh_tokens (
    hash       text COLLATE "C" PRIMARY KEY,
    family_id  text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- The operator pages organisations by creation.
CREATE INDEX organisations_created ON organisations (created_at, id);

-- +goose Down
DROP INDEX organisations_created;
DROP TABLE refresh_tokens;
DROP TABLE users;
