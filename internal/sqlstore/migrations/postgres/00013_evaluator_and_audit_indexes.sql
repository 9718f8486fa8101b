-- Tenders to evaluate (GET /api/v1/me/tenders for an evaluator) selects
-- the tenders a user is assigned to: evaluators' primary key starts with
-- the tender, so without an index on the user every evaluator row was
-- read. This one answers the lookup alone (user, assigned, then the
-- tender it returns).
--
-- The audit trail is filtered by event type, by actor and by time as
-- well as by object; each filter reads its own index in sequence order
-- instead of every event since the cursor.

-- +goose Up
CREATE INDEX evaluators_user ON evaluators (user_id, assigned, tender_id);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_user, seq);
CREATE INDEX audit_events_at ON audit_events (at, seq);

-- +goose Down
DROP INDEX audit_events_at;
DROP INDEX audit_events_actor;
DROP INDEX audit_events_action;
DROP INDEX evaluators_user;
