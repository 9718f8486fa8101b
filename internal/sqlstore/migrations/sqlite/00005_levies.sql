-- The marketplace levy: one per final award, billed to the winning
-- supplier through Stripe by a worker in every serve process; its history;
-- the Stripe events already applied (each is applied once); and each
-- supplier's Stripe customer.

-- +goose Up
CREATE TABLE levies (
    id                 TEXT PRIMARY KEY,
    tender_id          TEXT NOT NULL UNIQUE REFERENCES tenders (id),
    tender_title       TEXT NOT NULL,
    bid_id             TEXT NOT NULL REFERENCES bids (id),
    supplier_id        TEXT NOT NULL REFERENCES organisations (id),
    supplier_name      TEXT NOT NULL,
    supplier_sector    TEXT NOT NULL,
    billing_email      TEXT NOT NULL DEFAULT '',
    award_value_pence  INTEGER NOT NULL CHECK (award_value_pence >= 0),
    basis_points       INTEGER NOT NULL CHECK (basis_points BETWEEN 0 AND 10000),
    cap_pence          INTEGER NOT NULL DEFAULT 0,
    amount_pence       INTEGER NOT NULL CHECK (amount_pence >= 0),
    status             TEXT NOT NULL,
    waived_reason      TEXT NOT NULL DEFAULT '',
    stripe_customer_id TEXT NOT NULL DEFAULT '',
    stripe_invoice_id  TEXT NOT NULL DEFAULT '',
    hosted_invoice_url TEXT NOT NULL DEFAULT '',
    step               TEXT NOT NULL DEFAULT '',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT,
    last_error         TEXT NOT NULL DEFAULT '',
    -- The lease of the worker sending it: one replica at a time.
    lease_owner        TEXT NOT NULL DEFAULT '',
    lease_until        TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX levies_created ON levies (created_at, id);
CREATE INDEX levies_supplier ON levies (supplier_id, created_at, id);
CREATE INDEX levies_due ON levies (next_attempt_at) WHERE status = 'pending';

CREATE TABLE levy_history (
    levy_id TEXT NOT NULL REFERENCES levies (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL,
    status  TEXT NOT NULL,
    note    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (levy_id, seq)
);

CREATE TABLE stripe_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    levy_id     TEXT,
    received_at TEXT NOT NULL
);

CREATE TABLE stripe_customers (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations (id),
    customer_id     TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

-- +goose Down
DROP TABLE stripe_customers;
DROP TABLE stripe_events;
DROP TABLE levy_history;
DROP TABLE levies;
