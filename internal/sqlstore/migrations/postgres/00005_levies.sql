-- The marketplace levy: one per final award, billed to the winning
-- supplier through Stripe by a worker in every serve process; its history;
-- the Stripe events already applied (each is applied once); and each
-- supplier's Stripe customer.

-- +goose Up
CREATE TABLE levies (
    id                 text COLLATE "C" PRIMARY KEY,
    tender_id          text COLLATE "C" NOT NULL UNIQUE REFERENCES tenders (id),
    tender_title       text NOT NULL,
    bid_id             text COLLATE "C" NOT NULL REFERENCES bids (id),
    supplier_id        text COLLATE "C" NOT NULL REFERENCES organisations (id),
    supplier_name      text NOT NULL,
    supplier_sector    text NOT NULL,
    billing_email      text NOT NULL DEFAULT '',
    award_value_pence  bigint NOT NULL CHECK (award_value_pence >= 0),
    basis_points       integer NOT NULL CHECK (basis_points BETWEEN 0 AND 10000),
    cap_pence          bigint NOT NULL DEFAULT 0,
    amount_pence       bigint NOT NULL CHECK (amount_pence >= 0),
    status             text NOT NULL,
    waived_reason      text NOT NULL DEFAULT '',
    stripe_customer_id text NOT NULL DEFAULT '',
    stripe_invoice_id  text NOT NULL DEFAULT '',
    hosted_invoice_url text NOT NULL DEFAULT '',
    step               text NOT NULL DEFAULT '',
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz,
    last_error         text NOT NULL DEFAULT '',
    -- The lease of the worker sending it: one replica at a time.
    lease_owner        text NOT NULL DEFAULT '',
    lease_until        timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX levies_created ON levies (created_at, id);
CREATE INDEX levies_supplier ON levies (supplier_id, created_at, id);
CREATE INDEX levies_due ON levies (next_attempt_at) WHERE status = 'pending';

CREATE TABLE levy_history (
    levy_id text COLLATE "C" NOT NULL REFERENCES levies (id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    at      timestamptz NOT NULL,
    status  text NOT NULL,
    note    text NOT NULL DEFAULT '',
    PRIMARY KEY (levy_id, seq)
);

CREATE TABLE stripe_events (
    id          text COLLATE "C" PRIMARY KEY,
    type        text NOT NULL,
    levy_id     text COLLATE "C",
    received_at timestamptz NOT NULL
);

CREATE TABLE stripe_customers (
    organisation_id text COLLATE "C" PRIMARY KEY REFERENCES organisations (id),
    customer_id     text NOT NULL,
    created_at      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE stripe_customers;
DROP TABLE stripe_events;
DROP TABLE levy_history;
DROP TABLE levies;
