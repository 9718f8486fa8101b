-- Tenders, their clarification questions and sealed bids, the audit trail
-- of every change to them, and the outcomes of creating requests kept for
-- replay under an Idempotency-Key. A tender's status is not stored: it is
-- derived from the timestamps below and the clock, in Go and in the
-- store's queries alike.

-- +goose Up
CREATE TABLE tenders (
    -- tid is the stable integer key the FTS5 index refers to.
    tid             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    buyer_id        TEXT NOT NULL REFERENCES organisations (id),
    created_by      TEXT NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    contract_months INTEGER NOT NULL DEFAULT 0,
    budget_pence    INTEGER NOT NULL DEFAULT 0,
    -- Deadlines may be missing from a draft; publication requires them.
    clarification_deadline TEXT,
    bid_deadline           TEXT,
    criteria        TEXT NOT NULL DEFAULT '[]', -- JSON array of {key, name, kind, weight, description}
    baseline        TEXT,                       -- JSON {price_pence, scores}; never shown publicly
    published_at       TEXT,
    cancelled_at       TEXT,
    cancel_reason      TEXT NOT NULL DEFAULT '',
    unsuccessful_at    TEXT,
    unsuccessful_note  TEXT NOT NULL DEFAULT '',
    awarded_at         TEXT,
    standstill_ends_at TEXT,
    award_confirmed_at TEXT,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- listed_at orders the lists: newest publication, else creation.
    listed_at  TEXT GENERATED ALWAYS AS (COALESCE(published_at, created_at)) STORED
);
CREATE INDEX tenders_public ON tenders (listed_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_buyer ON tenders (buyer_id, listed_at, id);

CREATE TABLE tender_capabilities (
    tender_id  TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    capability TEXT NOT NULL,
    PRIMARY KEY (tender_id, capability)
);
CREATE INDEX tender_capabilities_capability ON tender_capabilities (capability, tender_id);

CREATE TABLE tender_regions (
    tender_id TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    region    TEXT NOT NULL,
    PRIMARY KEY (tender_id, region)
);
CREATE INDEX tender_regions_region ON tender_regions (region, tender_id);

-- The joint commissioners besides the lead (tenders.buyer_id).
CREATE TABLE tender_commissioners (
    tender_id TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    org_id    TEXT NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (tender_id, org_id)
);
CREATE INDEX tender_commissioners_org ON tender_commissioners (org_id, tender_id);

CREATE VIRTUAL TABLE tender_fts USING fts5 (
    title, description,
    content = 'tenders', content_rowid = 'tid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER tenders_fts_insert AFTER INSERT ON tenders BEGIN
    INSERT INTO tender_fts (rowid, title, description) VALUES (new.tid, new.title, new.description);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenders_fts_delete AFTER DELETE ON tenders BEGIN
    INSERT INTO tender_fts (tender_fts, rowid, title, description) VALUES ('delete', old.tid, old.title, old.description);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenders_fts_update AFTER UPDATE OF title, description ON tenders BEGIN
    INSERT INTO tender_fts (tender_fts, rowid, title, description) VALUES ('delete', old.tid, old.title, old.description);
    INSERT INTO tender_fts (rowid, title, description) VALUES (new.tid, new.title, new.description);
END;
-- +goose StatementEnd

CREATE TABLE questions (
    id          TEXT PRIMARY KEY,
    tender_id   TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    asker_org   TEXT NOT NULL REFERENCES organisations (id),
    asker_user  TEXT NOT NULL REFERENCES users (id),
    text        TEXT NOT NULL,
    answer      TEXT NOT NULL DEFAULT '',
    asked_at    TEXT NOT NULL,
    answered_at TEXT,
    answered_by TEXT REFERENCES users (id)
);
CREATE INDEX questions_tender ON questions (tender_id, asked_at, id);

CREATE TABLE bids (
    id           TEXT PRIMARY KEY,
    tender_id    TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    supplier_id  TEXT NOT NULL REFERENCES organisations (id),
    status       TEXT NOT NULL CHECK (status IN ('submitted', 'withdrawn')),
    version      INTEGER NOT NULL CHECK (version >= 1),
    price_pence  INTEGER NOT NULL,
    responses    TEXT NOT NULL DEFAULT '{}', -- JSON {criterion key: response}
    submitted_by TEXT NOT NULL REFERENCES users (id),
    submitted_at TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    withdrawn_at TEXT
);
-- One live bid per supplier per tender, held by the database so that
-- concurrent submissions cannot both succeed.
CREATE UNIQUE INDEX bids_live ON bids (tender_id, supplier_id) WHERE status = 'submitted';
CREATE INDEX bids_tender ON bids (tender_id, submitted_at, id);

CREATE TABLE bid_versions (
    bid_id       TEXT NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    price_pence  INTEGER NOT NULL,
    responses    TEXT NOT NULL,
    submitted_by TEXT NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (bid_id, version)
);

-- Append-only. No foreign keys: the trail outlives what it speaks of.
-- prev_hash and hash are for the hash chain over the trail.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor_user  TEXT NOT NULL DEFAULT '',
    actor_org   TEXT NOT NULL DEFAULT '',
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    tender_id   TEXT,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}', -- JSON {string: string}
    prev_hash   TEXT,
    hash        TEXT
);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id, seq);
CREATE INDEX audit_events_tender ON audit_events (tender_id, seq);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    status       INTEGER NOT NULL DEFAULT 0,
    body         BLOB,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE bid_versions;
DROP TABLE bids;
DROP TABLE questions;
DROP TABLE tender_fts;
DROP TABLE tender_commissioners;
DROP TABLE tender_regions;
DROP TABLE tender_capabilities;
DROP TABLE tenders;
