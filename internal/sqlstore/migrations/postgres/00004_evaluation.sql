-- Evaluation and award: who evaluates a tender and what each declared,
-- the evaluators' scores, the lead buyer's moderated scores, the awarded
-- bid, and the head of the audit hash chain.

-- +goose Up
ALTER TABLE tenders ADD COLUMN award_bid_id text COLLATE "C" REFERENCES bids (id);
ALTER TABLE tenders ADD COLUMN award_reason text NOT NULL DEFAULT '';

-- One row per user who was assigned to a tender or declared its interests
-- in it (a commissioner's buyer may declare, to read bids, unassigned).
CREATE TABLE evaluators (
    tender_id          text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    user_id            text COLLATE "C" NOT NULL REFERENCES users (id),
    organisation_id    text COLLATE "C" NOT NULL REFERENCES organisations (id),
    assigned           boolean NOT NULL DEFAULT false,
    assigned_by        text COLLATE "C" REFERENCES users (id),
    assigned_at        timestamptz,
    declared_at        timestamptz, -- NULL until declared: no bid content before
    conflict           boolean NOT NULL DEFAULT false,
    conflict_suppliers text NOT NULL DEFAULT '[]', -- JSON array of organisation IDs
    conflict_details   text NOT NULL DEFAULT '',
    PRIMARY KEY (tender_id, user_id)
);

CREATE TABLE scores (
    tender_id     text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    bid_id        text COLLATE "C" NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    evaluator_id  text COLLATE "C" NOT NULL REFERENCES users (id),
    criterion     text COLLATE "C" NOT NULL,
    score         integer NOT NULL CHECK (score BETWEEN 0 AND 4),
    justification text NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (bid_id, evaluator_id, criterion)
);
CREATE INDEX scores_tender ON scores (tender_id, bid_id, evaluator_id, criterion);

-- The lead buyer's moderated score replaces the evaluators' mean.
CREATE TABLE moderations (
    tender_id    text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    bid_id       text COLLATE "C" NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    criterion    text COLLATE "C" NOT NULL,
    score        integer NOT NULL CHECK (score BETWEEN 0 AND 4),
    reason       text NOT NULL,
    moderated_by text COLLATE "C" NOT NULL REFERENCES users (id),
    moderated_at timestamptz NOT NULL,
    PRIMARY KEY (bid_id, criterion)
);
CREATE INDEX moderations_tender ON moderations (tender_id, bid_id, criterion);

-- The last event of the hash chain. Every append locks this one row
-- (SELECT ... FOR UPDATE) and moves it in the appending transaction, so
-- that concurrent appends take their turn: sequence numbers have no gaps,
-- even after rollbacks, and each event names its true predecessor.
-- Events already in audit_events are chained by the store after
-- migrating (they carry no hash yet).
CREATE TABLE audit_head (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_seq  bigint NOT NULL,
    last_hash text NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash) VALUES (true, 0, '');

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
