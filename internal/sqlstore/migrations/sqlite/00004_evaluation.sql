-- Evaluation and award: who evaluates a tender and what each declared,
-- the evaluators' scores, the lead buyer's moderated scores, the awarded
-- bid, and the head of the audit hash chain.

-- +goose Up
ALTER TABLE tenders ADD COLUMN award_bid_id TEXT REFERENCES bids (id);
ALTER TABLE tenders ADD COLUMN award_reason TEXT NOT NULL DEFAULT '';

-- One row per user who was assigned to a tender or declared its interests
-- in it (a commissioner's buyer may declare, to read bids, unassigned).
CREATE TABLE evaluators (
    tender_id          TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    user_id            TEXT NOT NULL REFERENCES users (id),
    organisation_id    TEXT NOT NULL REFERENCES organisations (id),
    assigned           INTEGER NOT NULL DEFAULT 0 CHECK (assigned IN (0, 1)),
    assigned_by        TEXT REFERENCES users (id),
    assigned_at        TEXT,
    declared_at        TEXT, -- NULL until declared: no bid content before
    conflict           INTEGER NOT NULL DEFAULT 0 CHECK (conflict IN (0, 1)),
    conflict_suppliers TEXT NOT NULL DEFAULT '[]', -- JSON array of organisation IDs
    conflict_details   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tender_id, user_id)
);

CREATE TABLE scores (
    tender_id     TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    bid_id        TEXT NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    evaluator_id  TEXT NOT NULL REFERENCES users (id),
    criterion     TEXT NOT NULL,
    score         INTEGER NOT NULL CHECK (score BETWEEN 0 AND 4),
    justification TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (bid_id, evaluator_id, criterion)
);
CREATE INDEX scores_tender ON scores (tender_id, bid_id, evaluator_id, criterion);

-- The lead buyer's moderated score replaces the evaluators' mean.
CREATE TABLE moderations (
    tender_id    TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    bid_id       TEXT NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    criterion    TEXT NOT NULL,
    score        INTEGER NOT NULL CHECK (score BETWEEN 0 AND 4),
    reason       TEXT NOT NULL,
    moderated_by TEXT NOT NULL REFERENCES users (id),
    moderated_at TEXT NOT NULL,
    PRIMARY KEY (bid_id, criterion)
);
CREATE INDEX moderations_tender ON moderations (tender_id, bid_id, criterion);

-- The last event of the hash chain, moved by every append in the
-- appending transaction. SQLite's writers already take turns (each
-- transaction holds the write lock from BEGIN IMMEDIATE), so sequence
-- numbers have no gaps, even after rollbacks. Events already in
-- audit_events are chained by the store after migrating (they carry no
-- hash yet).
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '');

-- The audit list selects by object or tender.
CREATE INDEX audit_events_object_id ON audit_events (object_id, seq);

-- +goose Down
DROP INDEX audit_events_object_id;
DROP TABLE audit_head;
DROP TABLE moderations;
DROP TABLE scores;
DROP TABLE evaluators;
ALTER TABLE tenders DROP COLUMN award_reason;
ALTER TABLE tenders DROP COLUMN award_bid_id;
