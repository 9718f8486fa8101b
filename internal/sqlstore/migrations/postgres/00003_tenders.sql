-- Tenders, their clarification questions and sealed bids, the audit trail
-- of every change to them, and the outcomes of creating requests kept for
-- replay under an Idempotency-Key. A tender's status is not stored: it is
-- derived from the timestamps below and the clock, in Go and in the
-- store's queries alike.

-- +goose Up
CREATE TABLE tenders (
    id              text COLLATE "C" PRIMARY KEY,
    buyer_id        text COLLATE "C" NOT NULL REFERENCES organisations (id),
    created_by      text COLLATE "C" NOT NULL REFERENCES users (id),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    contract_months integer NOT NULL DEFAULT 0,
    budget_pence    bigint NOT NULL DEFAULT 0,
    -- Deadlines may be missing from a draft; publication requires them.
    clarification_deadline timestamptz,
    bid_deadline           timestamptz,
    criteria        text NOT NULL DEFAULT '[]', -- JSON array of {key, name, kind, weight, description}
    baseline        text,                       -- JSON {price_pence, scores}; never shown publicly
    published_at       timestamptz,
    cancelled_at       timestamptz,
    cancel_reason      text NOT NULL DEFAULT '',
    unsuccessful_at    timestamptz,
    unsuccessful_note  text NOT NULL DEFAULT '',
    awarded_at         timestamptz,
    standstill_ends_at timestamptz,
    award_confirmed_at timestamptz,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- listed_at orders the lists: newest publication, else creation.
    listed_at  timestamptz GENERATED ALWAYS AS (COALESCE(published_at, created_at)) STORED,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A') ||
        setweight(to_tsvector('english'::regconfig, description), 'B')
    ) STORED
);
CREATE INDEX tenders_public ON tenders (listed_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_buyer ON tenders (buyer_id, listed_at, id);
CREATE INDEX tenders_search ON tenders USING gin (search);

CREATE TABLE tender_capabilities (
    tender_id  text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    capability text COLLATE "C" NOT NULL,
    PRIMARY KEY (tender_id, capability)
);
CREATE INDEX tender_capabilities_capability ON tender_capabilities (capability, tender_id);

CREATE TABLE tender_regions (
    tender_id text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    region    text COLLATE "C" NOT NULL,
    PRIMARY KEY (tender_id, region)
);
CREATE INDEX tender_regions_region ON tender_regions (region, tender_id);

-- The joint commissioners besides the lead (tenders.buyer_id).
CREATE TABLE tender_commissioners (
    tender_id text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    org_id    text COLLATE "C" NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (tender_id, org_id)
);
CREATE INDEX tender_commissioners_org ON tender_commissioners (org_id, tender_id);

CREATE TABLE questions (
    id          text COLLATE "C" PRIMARY KEY,
    tender_id   text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    asker_org   text COLLATE "C" NOT NULL REFERENCES organisations (id),
    asker_user  text COLLATE "C" NOT NULL REFERENCES users (id),
    text        text NOT NULL,
    answer      text NOT NULL DEFAULT '',
    asked_at    timestamptz NOT NULL,
    answered_at timestamptz,
    answered_by text COLLATE "C" REFERENCES users (id)
);
CREATE INDEX questions_tender ON questions (tender_id, asked_at, id);

CREATE TABLE bids (
    id           text COLLATE "C" PRIMARY KEY,
    tender_id    text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    supplier_id  text COLLATE "C" NOT NULL REFERENCES organisations (id),
    status       text NOT NULL CHECK (status IN ('submitted', 'withdrawn')),
    version      integer NOT NULL CHECK (version >= 1),
    price_pence  bigint NOT NULL,
    responses    text NOT NULL DEFAULT '{}', -- JSON {criterion key: response}
    submitted_by text COLLATE "C" NOT NULL REFERENCES users (id),
    submitted_at timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    withdrawn_at timestamptz
);
-- One live bid per supplier per tender, held by the database so that
-- concurrent submissions cannot both succeed.
CREATE UNIQUE INDEX bids_live ON bids (tender_id, supplier_id) WHERE status = 'submitted';
CREATE INDEX bids_tender ON bids (tender_id, submitted_at, id);

CREATE TABLE bid_versions (
    bid_id       text COLLATE "C" NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    version      integer NOT NULL,
    price_pence  bigint NOT NULL,
    responses    text NOT NULL,
    submitted_by text COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (bid_id, version)
);

-- Append-only. No foreign keys: the trail outlives what it speaks of.
-- prev_hash and hash are for the hash chain over the trail.
CREATE TABLE audit_events (
    seq         bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_user  text COLLATE "C" NOT NULL DEFAULT '',
    actor_org   text COLLATE "C" NOT NULL DEFAULT '',
    object_type text COLLATE "C" NOT NULL,
    object_id   text COLLATE "C" NOT NULL,
    tender_id   text COLLATE "C",
    action      text NOT NULL,
    detail      text NOT NULL DEFAULT '{}', -- JSON {string: string}
    prev_hash   text,
    hash        text
);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id, seq);
CREATE INDEX audit_events_tender ON audit_events (tender_id, seq);

CREATE TABLE idempotency_keys (
    scope        text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    request_hash text NOT NULL,
    done         boolean NOT NULL DEFAULT false,
    status       integer NOT NULL DEFAULT 0,
    body         bytea,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE bid_versions;
DROP TABLE bids;
DROP TABLE questions;
DROP TABLE tender_commissioners;
DROP TABLE tender_regions;
DROP TABLE tender_capabilities;
DROP TABLE tenders;
