package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
)

// EvaluationStore keeps evaluators and their declarations, scores and
// moderated scores. Every write stores its audit event in the same
// transaction.
type EvaluationStore struct {
	db    *DB
	clock market.Clock
}

var (
	_ market.EvaluationStore = (*EvaluationStore)(nil)
	_ market.Declarations    = (*EvaluationStore)(nil)
)

// NewEvaluationStore returns the evaluations kept in db.
func NewEvaluationStore(db *DB, clock market.Clock) *EvaluationStore {
	return &EvaluationStore{db: db, clock: clock}
}

var (
	errNoEvaluator       = market.Errorf(market.ENOTFOUND, "No such evaluator.")
	errAssignedAlready   = market.Errorf(market.ECONFLICT, "This user is already an evaluator of this tender.")
	errDeclaredAlready   = market.Errorf(market.ECONFLICT, "You declared your interests in this tender already.")
	errScoresNotOneSheet = errors.New("sqlstore: PutScores takes the scores of one evaluator for one bid of one tender")
)

// evaluatorColumns are read by evaluatorRow, in this order, from evaluators e.
const evaluatorColumns = `e.tender_id, e.user_id, e.organisation_id, e.assigned, e.assigned_by, e.assigned_at,
	e.declared_at, e.conflict, e.conflict_suppliers, e.conflict_details`

type evaluatorRow struct {
	e         market.Evaluator
	suppliers string
}

func (r *evaluatorRow) dest() []any {
	e := &r.e
	return []any{&e.TenderID, &e.UserID, &e.OrganisationID, &e.Assigned, nullString{&e.AssignedBy},
		nullTimeCol{&e.AssignedAt}, nullTimeCol{&e.DeclaredAt}, &e.Conflict, &r.suppliers, &e.ConflictDetails}
}

func (r *evaluatorRow) finish() error {
	if err := json.Unmarshal([]byte(r.suppliers), &r.e.ConflictSuppliers); err != nil {
		return fmt.Errorf("sqlstore: evaluator conflict suppliers: %w", err)
	}
	if r.e.ConflictSuppliers == nil {
		r.e.ConflictSuppliers = []string{}
	}
	return nil
}

// prepareEvaluator returns a copy of e as it will be stored.
func prepareEvaluator(e *market.Evaluator) market.Evaluator {
	c := *e
	c.AssignedAt, c.DeclaredAt = utcMicro(c.AssignedAt), utcMicro(c.DeclaredAt)
	c.ConflictSuppliers = append([]string{}, c.ConflictSuppliers...)
	return c
}

// getEvaluator reads a user's record for a tender on q.
func (s *EvaluationStore) getEvaluator(ctx context.Context, q Queryer, tenderID, userID string) (market.Evaluator, error) {
	var r evaluatorRow
	err := q.QueryRowContext(ctx, "SELECT "+evaluatorColumns+" FROM evaluators e WHERE e.tender_id = ? AND e.user_id = ?",
		tenderID, userID).Scan(r.dest()...)
	if isNoRows(err) {
		return market.Evaluator{}, errNoEvaluator
	} else if err != nil {
		return market.Evaluator{}, err
	}
	return r.e, r.finish()
}

// insertEvaluator stores e unless the user has a record for the tender
// already, reporting whether it did.
func (s *EvaluationStore) insertEvaluator(ctx context.Context, tx *Tx, e *market.Evaluator) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO evaluators (tender_id, user_id, organisation_id, assigned,
		assigned_by, assigned_at, declared_at, conflict, conflict_suppliers, conflict_details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tender_id, user_id) DO NOTHING`,
		e.TenderID, e.UserID, e.OrganisationID, e.Assigned, nullStringArg(e.AssignedBy), s.db.nullTimeArg(e.AssignedAt),
		s.db.nullTimeArg(e.DeclaredAt), e.Conflict, mustJSON(e.ConflictSuppliers), e.ConflictDetails)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AssignEvaluator assigns e.UserID to score e.TenderID: a new record, or
// the record of a buyer who declared its interests unassigned, its
// declaration kept. On success e is set to the stored record. ECONFLICT
// when the user is assigned already; the check and the write are one
// conditional statement each, so of concurrent assignments one succeeds.
func (s *EvaluationStore) AssignEvaluator(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	c := prepareEvaluator(e)
	c.Assigned = true
	if c.AssignedAt.IsZero() {
		c.AssignedAt = now(s.clock)
	}
	var stored market.Evaluator
	err := s.db.InTx(ctx, func(tx *Tx) error {
		inserted, err := s.insertEvaluator(ctx, tx, &c)
		if err != nil {
			return err
		}
		if !inserted {
			res, err := tx.ExecContext(ctx, `UPDATE evaluators SET assigned = ?, assigned_by = ?, assigned_at = ?
				WHERE tender_id = ? AND user_id = ? AND assigned = ?`,
				true, nullStringArg(c.AssignedBy), s.db.timeArg(c.AssignedAt), c.TenderID, c.UserID, false)
			if err != nil {
				return err
			}
			if err := oneRow(res, func() error { return errAssignedAlready }); err != nil {
				return err
			}
		}
		if stored, err = s.getEvaluator(ctx, tx, c.TenderID, c.UserID); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.UserID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*e = stored
	return nil
}

// DeclareConflicts records e's declaration (DeclaredAt, from the clock
// when zero, Conflict, ConflictSuppliers, ConflictDetails), once: it
// inserts the whole record when the user has none (a buyer declaring to
// read bids, or the tender's creator, an evaluator by default), or else
// fills in the declaration of the existing one, keeping its assignment.
// On success e is set to the stored record. ECONFLICT when the user has
// declared already, decided by a conditional UPDATE, so that of concurrent
// declarations exactly one is kept.
func (s *EvaluationStore) DeclareConflicts(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	c := prepareEvaluator(e)
	if c.DeclaredAt.IsZero() {
		c.DeclaredAt = now(s.clock)
	}
	var stored market.Evaluator
	err := s.db.InTx(ctx, func(tx *Tx) error {
		inserted, err := s.insertEvaluator(ctx, tx, &c)
		if err != nil {
			return err
		}
		if !inserted {
			res, err := tx.ExecContext(ctx, `UPDATE evaluators SET declared_at = ?, conflict = ?,
				conflict_suppliers = ?, conflict_details = ?
				WHERE tender_id = ? AND user_id = ? AND declared_at IS NULL`,
				s.db.timeArg(c.DeclaredAt), c.Conflict, mustJSON(c.ConflictSuppliers), c.ConflictDetails,
				c.TenderID, c.UserID)
			if err != nil {
				return err
			}
			if err := oneRow(res, func() error { return errDeclaredAlready }); err != nil {
				return err
			}
		}
		if stored, err = s.getEvaluator(ctx, tx, c.TenderID, c.UserID); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.UserID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*e = stored
	return nil
}

// GetEvaluator returns a user's record for a tender. ENOTFOUND when it
// has neither been assigned nor declared.
func (s *EvaluationStore) GetEvaluator(ctx context.Context, tenderID, userID string) (market.Evaluator, error) {
	e, err := s.getEvaluator(ctx, s.db, tenderID, userID)
	return e, s.db.translate(err)
}

// ListEvaluators returns a tender's evaluator records in assignment order
// (a buyer who declared unassigned, by its declaration), then user ID;
// never nil.
func (s *EvaluationStore) ListEvaluators(ctx context.Context, tenderID string) ([]market.Evaluator, error) {
	es := []market.Evaluator{}
	err := eachRow(ctx, s.db, "SELECT "+evaluatorColumns+` FROM evaluators e WHERE e.tender_id = ?
		ORDER BY COALESCE(e.assigned_at, e.declared_at), e.user_id`, []any{tenderID}, func(sc scanner) error {
		var r evaluatorRow
		if err := sc.Scan(r.dest()...); err != nil {
			return err
		}
		if err := r.finish(); err != nil {
			return err
		}
		es = append(es, r.e)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return es, nil
}

// PutScores replaces one evaluator's scores of one bid with scores, which
// must all be of that tender, bid and evaluator (one scoring sheet).
// UpdatedAt is set from the clock where zero and kept at the stored
// precision, in scores itself on success.
func (s *EvaluationStore) PutScores(ctx context.Context, scores []market.Score, ev market.AuditEvent) error {
	if len(scores) == 0 {
		return errScoresNotOneSheet
	}
	at := now(s.clock)
	cs := make([]market.Score, len(scores))
	for i, sc := range scores {
		if sc.TenderID != scores[0].TenderID || sc.BidID != scores[0].BidID || sc.EvaluatorID != scores[0].EvaluatorID {
			return errScoresNotOneSheet
		}
		if sc.UpdatedAt.IsZero() {
			sc.UpdatedAt = at
		}
		sc.UpdatedAt = utcMicro(sc.UpdatedAt)
		cs[i] = sc
	}
	first := cs[0]
	err := s.db.InTx(ctx, func(tx *Tx) error {
		if s.db.engine == EnginePostgres {
			// Sheets of one bid take turns: without the lock, a second
			// writer's DELETE (its snapshot older than the first's commit)
			// left the first's new rows, and its INSERT then failed on them.
			// SQLite's transaction holds the write lock already. NO KEY
			// leaves the scores' foreign-key checks unblocked.
			if _, err := tx.ExecContext(ctx, "SELECT id FROM bids WHERE id = ? FOR NO KEY UPDATE", first.BidID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM scores WHERE bid_id = ? AND evaluator_id = ?",
			first.BidID, first.EvaluatorID); err != nil {
			return err
		}
		err := insertRows(ctx, tx, "scores", []string{"tender_id", "bid_id", "evaluator_id", "criterion", "score",
			"justification", "updated_at"}, len(cs), func(i int) []any {
			c := &cs[i]
			return []any{c.TenderID, c.BidID, c.EvaluatorID, c.Criterion, c.Score, c.Justification, s.db.timeArg(c.UpdatedAt)}
		})
		if err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, first.BidID, first.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	copy(scores, cs)
	return nil
}

// ListScores returns every score of a tender, by bid, evaluator and
// criterion; never nil.
func (s *EvaluationStore) ListScores(ctx context.Context, tenderID string) ([]market.Score, error) {
	scores := []market.Score{}
	err := eachRow(ctx, s.db, `SELECT tender_id, bid_id, evaluator_id, criterion, score, justification, updated_at
		FROM scores WHERE tender_id = ? ORDER BY bid_id, evaluator_id, criterion`, []any{tenderID}, func(sc scanner) error {
		var c market.Score
		if err := sc.Scan(&c.TenderID, &c.BidID, &c.EvaluatorID, &c.Criterion, &c.Score, &c.Justification,
			timeCol{&c.UpdatedAt}); err != nil {
			return err
		}
		scores = append(scores, c)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return scores, nil
}

// ListScoreValues returns every score of a tender with only its bid,
// evaluator, criterion and value: what the comparison reads, from
// score_sheets, one row per bid and evaluator (a ninth of the rows of
// scores on a tender of nine quality criteria). The criterion keys repeat
// on every sheet, so one string of each is kept. By bid and evaluator;
// within a sheet in no order.
func (s *EvaluationStore) ListScoreValues(ctx context.Context, tenderID string) ([]market.Score, error) {
	type sheet struct{ bid, evaluator, text string }
	var sheets []sheet
	n := 0
	err := eachRow(ctx, s.db, `SELECT bid_id, evaluator_id, sheet FROM score_sheets WHERE tender_id = ?
		ORDER BY bid_id, evaluator_id`, []any{tenderID}, func(sc scanner) error {
		var sh sheet
		if err := sc.Scan(&sh.bid, &sh.evaluator, &sh.text); err != nil {
			return err
		}
		n += strings.Count(sh.text, ",") + 1
		sheets = append(sheets, sh)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	scores := make([]market.Score, 0, n)
	keys := map[string]string{}
	for _, sh := range sheets {
		for entry := range strings.SplitSeq(sh.text, ",") {
			key, v, ok := strings.Cut(entry, "=")
			score, err := strconv.Atoi(v)
			if !ok || err != nil {
				return nil, fmt.Errorf("sqlstore: score sheet of bid %s: bad entry %q", sh.bid, entry)
			}
			k, seen := keys[key]
			if !seen {
				k = strings.Clone(key)
				keys[k] = k
			}
			scores = append(scores, market.Score{TenderID: tenderID, BidID: sh.bid, EvaluatorID: sh.evaluator, Criterion: k, Score: score})
		}
	}
	return scores, nil
}

// PutModeration records the moderated score of a bid on a criterion,
// replacing any earlier one (one statement, an upsert). m.At is set from
// the clock when zero and kept at the stored precision.
func (s *EvaluationStore) PutModeration(ctx context.Context, m *market.Moderation, ev market.AuditEvent) error {
	c := *m
	if c.At.IsZero() {
		c.At = now(s.clock)
	}
	c.At = utcMicro(c.At)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO moderations (tender_id, bid_id, criterion, score, reason,
			moderated_by, moderated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (bid_id, criterion) DO UPDATE SET score = excluded.score, reason = excluded.reason,
			moderated_by = excluded.moderated_by, moderated_at = excluded.moderated_at`,
			c.TenderID, c.BidID, c.Criterion, c.Score, c.Reason, c.By, s.db.timeArg(c.At))
		if err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.BidID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*m = c
	return nil
}

// ListModerations returns a tender's moderated scores, by bid and
// criterion; never nil.
func (s *EvaluationStore) ListModerations(ctx context.Context, tenderID string) ([]market.Moderation, error) {
	ms := []market.Moderation{}
	err := eachRow(ctx, s.db, `SELECT tender_id, bid_id, criterion, score, reason, moderated_by, moderated_at
		FROM moderations WHERE tender_id = ? ORDER BY bid_id, criterion`, []any{tenderID}, func(sc scanner) error {
		var m market.Moderation
		if err := sc.Scan(&m.TenderID, &m.BidID, &m.Criterion, &m.Score, &m.Reason, &m.By, timeCol{&m.At}); err != nil {
			return err
		}
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return ms, nil
}
