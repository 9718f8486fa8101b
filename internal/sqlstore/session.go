package sqlstore

import (
	"context"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// SessionStore keeps refresh tokens, by hash only.
type SessionStore struct {
	db    *DB
	clock market.Clock
}

var _ market.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns the sessions kept in db.
func NewSessionStore(db *DB, clock market.Clock) *SessionStore {
	return &SessionStore{db: db, clock: clock}
}

// tokenColumns are read by tokenDest, in this order, from refresh_tokens.
const tokenColumns = "hash, family_id, user_id, created_at, expires_at, used_at, revoked_at"

func tokenDest(t *market.RefreshToken) []any {
	return []any{&t.Hash, &t.FamilyID, &t.UserID, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt},
		nullTimeCol{&t.UsedAt}, nullTimeCol{&t.RevokedAt}}
}

// nullTimeCol scans a nullable timestamp, NULL being the zero time.
type nullTimeCol struct{ t *time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = time.Time{}
		return nil
	}
	return timeCol(c).Scan(src)
}

// nullTimeArg converts t to the engine's column value, the zero time to NULL.
func (db *DB) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.timeArg(t.Truncate(time.Microsecond))
}

func (s *SessionStore) insert(ctx context.Context, q Queryer, t market.RefreshToken) error {
	_, err := q.ExecContext(ctx, "INSERT INTO refresh_tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		t.Hash, t.FamilyID, t.UserID, s.db.timeArg(t.CreatedAt.Truncate(time.Microsecond)),
		s.db.timeArg(t.ExpiresAt.Truncate(time.Microsecond)), s.db.nullTimeArg(t.UsedAt), s.db.nullTimeArg(t.RevokedAt))
	return err
}

// CreateRefreshToken stores t. ECONFLICT when its hash is already stored.
func (s *SessionStore) CreateRefreshToken(ctx context.Context, t market.RefreshToken) error {
	return s.db.translate(s.insert(ctx, s.db, t))
}

// RotateRefreshToken spends the token with hash and stores next in its
// family, for its user, in one transaction. Spending is one conditional
// UPDATE that must change exactly one row: on PostgreSQL a second
// rotation of the same token waits for the first's row lock, then finds
// the token used; on SQLite the transactions run one at a time. So of
// concurrent rotations exactly one succeeds, and the others see ECONFLICT.
// ENOTFOUND for an unknown hash; ECONFLICT, with the presented token, when
// it was already used or revoked; EUNAUTHORIZED, with it, when it expired.
func (s *SessionStore) RotateRefreshToken(ctx context.Context, hash string, next market.RefreshToken, at time.Time) (market.RefreshToken, error) {
	var presented market.RefreshToken
	err := s.db.InTx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM refresh_tokens WHERE hash = ?", hash).
			Scan(tokenDest(&presented)...)
		if isNoRows(err) {
			return market.Errorf(market.ENOTFOUND, "No such session.")
		} else if err != nil {
			return err
		}
		spent := market.Errorf(market.ECONFLICT, "The refresh token was already used.")
		if !presented.UsedAt.IsZero() || !presented.RevokedAt.IsZero() {
			return spent
		}
		if !at.Before(presented.ExpiresAt) {
			return market.Errorf(market.EUNAUTHORIZED, "The session has expired.")
		}
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ?
			WHERE hash = ? AND used_at IS NULL AND revoked_at IS NULL`, s.db.timeArg(at.UTC().Truncate(time.Microsecond)), hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return spent
		}
		next.FamilyID, next.UserID = presented.FamilyID, presented.UserID
		return s.insert(ctx, tx, next)
	})
	if err != nil {
		return presented, s.db.translate(err)
	}
	return presented, nil
}

// RevokeFamily revokes every token of a family that is not revoked yet.
func (s *SessionStore) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
		s.db.timeArg(at.UTC().Truncate(time.Microsecond)), familyID)
	return s.db.translate(err)
}

// RevokeUser revokes every token of a user that is not revoked yet.
func (s *SessionStore) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
		s.db.timeArg(at.UTC().Truncate(time.Microsecond)), userID)
	return s.db.translate(err)
}

// GetRefreshToken returns a token by hash. ENOTFOUND.
func (s *SessionStore) GetRefreshToken(ctx context.Context, hash string) (market.RefreshToken, error) {
	var t market.RefreshToken
	err := s.db.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM refresh_tokens WHERE hash = ?", hash).Scan(tokenDest(&t)...)
	if isNoRows(err) {
		return market.RefreshToken{}, market.Errorf(market.ENOTFOUND, "No such session.")
	} else if err != nil {
		return market.RefreshToken{}, s.db.translate(err)
	}
	return t, nil
}

// ListSessions returns user userID's sessions, one per family of refresh
// tokens, oldest first: when its first token was made (the sign-in), when
// its newest was (the last refresh), when that one expires, and when the
// family was revoked (RevokeFamily and RevokeUser revoke every token of a
// family at once). Tokens and their hashes stay here.
func (s *SessionStore) ListSessions(ctx context.Context, userID string) ([]market.Session, error) {
	out := []market.Session{}
	err := eachRow(ctx, s.db, `SELECT MIN(created_at), MAX(created_at), MAX(expires_at), MAX(revoked_at)
		FROM refresh_tokens WHERE user_id = ? GROUP BY family_id ORDER BY 1, family_id`, []any{userID},
		func(sc scanner) error {
			var t market.Session
			if err := sc.Scan(timeCol{&t.StartedAt}, timeCol{&t.LastRefreshAt}, timeCol{&t.ExpiresAt}, nullTimeCol{&t.RevokedAt}); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return out, nil
}
