package sqlstore

import (
	"context"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// IdempotencyStore keeps the outcomes of creating requests by
// Idempotency-Key, so that a retried request is answered, not run again.
type IdempotencyStore struct {
	db *DB
}

var _ market.IdempotencyStore = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns the idempotency records kept in db.
func NewIdempotencyStore(db *DB) *IdempotencyStore {
	return &IdempotencyStore{db: db}
}

// reserveAttempts bounds the retries of a reservation whose key is
// released or replaced by others between its statements.
const reserveAttempts = 5

// ReserveIdempotency claims key in scope for a request with requestHash
// at now. Each step is one statement that the database runs atomically:
// an INSERT that does nothing when the key is taken, then a read of the
// record in the way, then, for a completed record at least
// market.IdempotencyTTL old or a running one not renewed for
// market.IdempotencyLease, an UPDATE conditional on that age. So of
// concurrent reservations of one key exactly one gets nil; the others get
// the winner's record.
func (s *IdempotencyStore) ReserveIdempotency(ctx context.Context, scope, key, requestHash string, now time.Time) (*market.IdempotencyRecord, error) {
	now = utcMicro(now)
	expired := now.Add(-market.IdempotencyTTL)
	abandoned := now.Add(-market.IdempotencyLease)
	for range reserveAttempts {
		res, err := s.db.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, done, status, created_at)
			VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (scope, key) DO NOTHING`,
			scope, key, requestHash, false, s.db.timeArg(now))
		if err != nil {
			return nil, s.db.translate(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, s.db.translate(err)
		} else if n == 1 {
			return nil, nil
		}
		rec, err := s.get(ctx, scope, key)
		if market.ErrorCode(err) == market.ENOTFOUND {
			continue // released meanwhile: try the INSERT again
		} else if err != nil {
			return nil, err
		}
		if rec.Done && rec.CreatedAt.After(expired) || !rec.Done && rec.CreatedAt.After(abandoned) {
			return rec, nil
		}
		res, err = s.db.ExecContext(ctx, `UPDATE idempotency_keys SET request_hash = ?, done = ?, status = 0,
			body = NULL, created_at = ? WHERE scope = ? AND key = ?
			AND (done = ? AND created_at <= ? OR done = ? AND created_at <= ?)`,
			requestHash, false, s.db.timeArg(now), scope, key,
			true, s.db.timeArg(expired), false, s.db.timeArg(abandoned))
		if err != nil {
			return nil, s.db.translate(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, s.db.translate(err)
		} else if n == 1 {
			return nil, nil
		}
		// Another reservation replaced or released it first: look again.
	}
	return nil, market.Errorf(market.ECONFLICT, "This Idempotency-Key is in use by another request; retry later.")
}

func (s *IdempotencyStore) get(ctx context.Context, scope, key string) (*market.IdempotencyRecord, error) {
	rec := market.IdempotencyRecord{Scope: scope, Key: key}
	err := s.db.QueryRowContext(ctx, `SELECT request_hash, done, status, body, created_at
		FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).
		Scan(&rec.RequestHash, &rec.Done, &rec.Status, &rec.Body, timeCol{&rec.CreatedAt})
	if isNoRows(err) {
		return nil, market.Errorf(market.ENOTFOUND, "No such idempotency key.")
	} else if err != nil {
		return nil, s.db.translate(err)
	}
	return &rec, nil
}

// CompleteIdempotency stores the answer of a reserved key that is still
// running. ENOTFOUND when there is no such reservation (it was released,
// completed, or replaced after expiry).
func (s *IdempotencyStore) CompleteIdempotency(ctx context.Context, scope, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_keys SET done = ?, status = ?, body = ?
		WHERE scope = ? AND key = ? AND done = ?`, true, status, body, scope, key, false)
	if err != nil {
		return s.db.translate(err)
	}
	return s.db.translate(oneRow(res, func() error {
		return market.Errorf(market.ENOTFOUND, "No running request holds this idempotency key.")
	}))
}

// RenewIdempotency moves the reservation of a running key to now, so that
// ReserveIdempotency does not take it for abandoned.
func (s *IdempotencyStore) RenewIdempotency(ctx context.Context, scope, key string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, "UPDATE idempotency_keys SET created_at = ? WHERE scope = ? AND key = ? AND done = ?",
		s.db.timeArg(utcMicro(now)), scope, key, false)
	return s.db.translate(err)
}

// ReleaseIdempotency forgets a reserved key that is still running, so that
// a retry runs again. A completed answer is kept, and a key that is not
// stored is no error.
func (s *IdempotencyStore) ReleaseIdempotency(ctx context.Context, scope, key string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND done = ?", scope, key, false)
	return s.db.translate(err)
}
