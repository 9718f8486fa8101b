-- Notifications: each user's inbox, their preferences per kind, the e-mail
-- outbox, the one-click unsubscribe tokens, how far the dispatcher has read
-- the audit trail (every notification is planned from a committed audit
-- event, once), and which deadline-driven notices have fired.

-- +goose Up
-- seq orders a user's inbox and is the live stream's event ID; every
-- notification is written under the lock of notify_cursor, so seq also
-- follows commit order and a stream resumed after seq N misses nothing.
CREATE TABLE notifications (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text COLLATE "C" NOT NULL UNIQUE,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id),
    kind       text NOT NULL,
    tender_id  text NOT NULL DEFAULT '',
    title      text NOT NULL,
    body       text NOT NULL,
    link       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, seq);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE notification_preferences (
    user_id text COLLATE "C" NOT NULL REFERENCES users (id),
    kind    text NOT NULL,
    in_app  boolean NOT NULL,
    email   boolean NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE email_outbox (
    id              text PRIMARY KEY,
    notification_id text NOT NULL DEFAULT '',
    user_id         text COLLATE "C" NOT NULL REFERENCES users (id),
    kind            text NOT NULL,
    to_addr         text NOT NULL,
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    unsubscribe_url text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'recorded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    lease_owner     text NOT NULL DEFAULT '',
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX email_outbox_created ON email_outbox (created_at, id);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE unsubscribe_tokens (
    token_hash text PRIMARY KEY,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id),
    kind       text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Events up to last_seq have been planned. A database that had events
-- before notifications existed starts after them: nobody is told today of
-- what happened last year.
CREATE TABLE notify_cursor (
    id       integer PRIMARY KEY CHECK (id = 1),
    last_seq bigint NOT NULL
);
INSERT INTO notify_cursor (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_events;

-- A deadline-driven notice (subject: a tender, or a pending organisation)
-- fires once per due time; replicas racing to fire it meet on this key.
CREATE TABLE notices_fired (
    subject_id text NOT NULL,
    kind       text NOT NULL,
    due_at     timestamptz NOT NULL,
    fired_at   timestamptz NOT NULL,
    PRIMARY KEY (subject_id, kind, due_at)
);
-- Deadlines already past when notifications arrived do not fire.
INSERT INTO notices_fired (subject_id, kind, due_at, fired_at)
    SELECT id, 'bids_ready', bid_deadline, now() FROM tenders
    WHERE published_at IS NOT NULL AND bid_deadline IS NOT NULL;
INSERT INTO notices_fired (subject_id, kind, due_at, fired_at)
    SELECT id, 'deadline_reminder', bid_deadline, now() FROM tenders
    WHERE published_at IS NOT NULL AND bid_deadline IS NOT NULL;
INSERT INTO notices_fired (subject_id, kind, due_at, fired_at)
    SELECT id, 'standstill_ended', standstill_ends_at, now() FROM tenders
    WHERE standstill_ends_at IS NOT NULL;
INSERT INTO notices_fired (subject_id, kind, due_at, fired_at)
    SELECT id, 'buyer_pending', created_at, now() FROM organisations
    WHERE status = 'pending';

-- +goose Down
DROP TABLE notices_fired;
DROP TABLE notify_cursor;
DROP TABLE unsubscribe_tokens;
DROP TABLE email_outbox;
DROP TABLE notification_preferences;
DROP TABLE notifications;
