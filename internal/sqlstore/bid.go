package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

var (
	errNoQuestion = market.Errorf(market.ENOTFOUND, "No such question.")
	errNoBid      = market.Errorf(market.ENOTFOUND, "No such bid.")
	// errLiveBid is the answer to a second live bid, which the database's
	// unique index bids_live refuses however the submissions interleave.
	errLiveBid = market.Errorf(market.ECONFLICT, "Your organisation already has a live bid for this tender; revise it instead.")
)

// questionColumns are read by questionDest, in this order, from questions q.
const questionColumns = `q.id, q.tender_id, q.asker_org, q.asker_user, q.text, q.answer,
	q.asked_at, q.answered_at, q.answered_by`

func questionDest(q *market.Question, answeredBy *nullString) []any {
	return []any{&q.ID, &q.TenderID, &q.AskerOrgID, &q.AskerUserID, &q.Text, &q.Answer,
		timeCol{&q.AskedAt}, nullTimeCol{&q.AnsweredAt}, answeredBy}
}

// nullString scans a nullable text column, NULL being "".
type nullString struct{ s *string }

func (c nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a string", src)
	}
	return nil
}

// CreateQuestion stores q with its event, setting its ID and AskedAt and
// clearing any answer. On failure q is unchanged.
func (s *TenderStore) CreateQuestion(ctx context.Context, q *market.Question, ev market.AuditEvent) error {
	c := *q
	c.ID, c.AskedAt = newID(), now(s.clock)
	c.Answer, c.AnsweredAt, c.AnsweredBy = "", time.Time{}, ""
	err := s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO questions (id, tender_id, asker_org, asker_user, text, asked_at)
			VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.TenderID, c.AskerOrgID, c.AskerUserID, c.Text, s.db.timeArg(c.AskedAt))
		if err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.ID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*q = c
	return nil
}

// AnswerQuestion records q.Answer by q.AnsweredBy on a question that has
// no answer yet, setting q.AnsweredAt; the check and the write are one
// UPDATE, so of two answers exactly one is kept. ECONFLICT when it was
// answered meanwhile; ENOTFOUND.
func (s *TenderStore) AnswerQuestion(ctx context.Context, q *market.Question, ev market.AuditEvent) error {
	at := now(s.clock)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE questions SET answer = ?, answered_at = ?, answered_by = ?
			WHERE id = ? AND answered_at IS NULL`, q.Answer, s.db.timeArg(at), q.AnsweredBy, q.ID)
		if err != nil {
			return err
		}
		if err := oneRow(res, func() error {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM questions WHERE id = ?", q.ID).Scan(&one)
			if isNoRows(err) {
				return errNoQuestion
			} else if err != nil {
				return err
			}
			return market.Errorf(market.ECONFLICT, "This question has already been answered.")
		}); err != nil {
			return err
		}
		var tenderID string
		if err := tx.QueryRowContext(ctx, "SELECT tender_id FROM questions WHERE id = ?", q.ID).Scan(&tenderID); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, q.ID, tenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	q.AnsweredAt = at
	return nil
}

// GetQuestion returns a question by ID. ENOTFOUND.
func (s *TenderStore) GetQuestion(ctx context.Context, id string) (market.Question, error) {
	var q market.Question
	err := s.db.QueryRowContext(ctx, "SELECT "+questionColumns+" FROM questions q WHERE q.id = ?", id).
		Scan(questionDest(&q, &nullString{&q.AnsweredBy})...)
	if isNoRows(err) {
		return market.Question{}, errNoQuestion
	} else if err != nil {
		return market.Question{}, s.db.translate(err)
	}
	return q, nil
}

// ListQuestions returns a tender's questions, oldest first: an empty list
// for a tender without any, or one that does not exist.
func (s *TenderStore) ListQuestions(ctx context.Context, tenderID string) ([]market.Question, error) {
	qs := []market.Question{}
	err := eachRow(ctx, s.db, "SELECT "+questionColumns+` FROM questions q WHERE q.tender_id = ?
		ORDER BY q.asked_at, q.id`, []any{tenderID}, func(sc scanner) error {
		var q market.Question
		if err := sc.Scan(questionDest(&q, &nullString{&q.AnsweredBy})...); err != nil {
			return err
		}
		qs = append(qs, q)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return qs, nil
}

// bidColumns are read by bidRow, in this order, from bids b.
const bidColumns = `b.id, b.tender_id, b.supplier_id, b.submitted_by, b.status, b.version,
	b.price_pence, b.responses, b.submitted_at, b.updated_at, b.withdrawn_at`

// bidRow receives one row of bidColumns.
type bidRow struct {
	b         market.Bid
	responses string
}

func (r *bidRow) dest() []any {
	b := &r.b
	return []any{&b.ID, &b.TenderID, &b.SupplierID, &b.SubmittedBy, &b.Status, &b.Version,
		&b.PricePence, &r.responses, timeCol{&b.SubmittedAt}, timeCol{&b.UpdatedAt}, nullTimeCol{&b.WithdrawnAt}}
}

func (r *bidRow) finish() error {
	if err := json.Unmarshal([]byte(r.responses), &r.b.Responses); err != nil {
		return fmt.Errorf("sqlstore: bid responses: %w", err)
	}
	if r.b.Responses == nil {
		r.b.Responses = map[string]string{}
	}
	return nil
}

// prepareBid returns a copy of b as it will be stored: times at the
// stored precision, the clock's time where b has none.
func (s *TenderStore) prepareBid(b *market.Bid) market.Bid {
	c := *b
	at := now(s.clock)
	for _, p := range []*time.Time{&c.SubmittedAt, &c.UpdatedAt} {
		if p.IsZero() {
			*p = at
		}
		*p = utcMicro(*p)
	}
	c.WithdrawnAt = utcMicro(c.WithdrawnAt)
	responses := make(map[string]string, len(c.Responses))
	for k, v := range c.Responses {
		responses[k] = v
	}
	c.Responses = responses
	return c
}

// insertVersion keeps version b.Version of bid b.
func (s *TenderStore) insertVersion(ctx context.Context, q Queryer, b *market.Bid, responses string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO bid_versions (bid_id, version, price_pence, responses,
		submitted_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		b.ID, b.Version, b.PricePence, responses, b.SubmittedBy, s.db.timeArg(b.UpdatedAt))
	return err
}

// CreateBid stores b as version 1 of a new live bid, with its first kept
// version and its event, setting its ID, status and version (and the
// times b leaves zero, from the clock). On failure b is unchanged and no
// event is written. ECONFLICT when the supplier already has a live bid for
// the tender: the unique index bids_live decides, so of concurrent
// submissions exactly one succeeds.
func (s *TenderStore) CreateBid(ctx context.Context, b *market.Bid, ev market.AuditEvent) error {
	c := s.prepareBid(b)
	c.ID, c.Status, c.Version, c.WithdrawnAt = newID(), market.BidSubmitted, 1, time.Time{}
	responses := mustJSON(c.Responses)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO bids (id, tender_id, supplier_id, status, version,
			price_pence, responses, submitted_by, submitted_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.TenderID, c.SupplierID, string(c.Status), c.Version, c.PricePence, responses,
			c.SubmittedBy, s.db.timeArg(c.SubmittedAt), s.db.timeArg(c.UpdatedAt))
		if err != nil {
			if market.ErrorCode(s.db.translate(err)) == market.ECONFLICT {
				return errLiveBid
			}
			return err
		}
		if err := s.insertVersion(ctx, tx, &c, responses); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.ID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*b = c
	return nil
}

// bidChanged explains why a conditional write of bid id changed nothing:
// ENOTFOUND when there is no such bid, else conflict.
func bidChanged(ctx context.Context, q Queryer, id string, conflict error) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM bids WHERE id = ?", id).Scan(&one)
	if isNoRows(err) {
		return errNoBid
	} else if err != nil {
		return err
	}
	return conflict
}

// ReviseBid stores b as version b.Version of its bid, and keeps that
// version beside the earlier ones, when the live version is still
// b.Version-1 and the bid is submitted: one conditional UPDATE, so of two
// revisions from one version exactly one succeeds. The supplier, tender
// and first submission never change. ECONFLICT otherwise; ENOTFOUND.
func (s *TenderStore) ReviseBid(ctx context.Context, b *market.Bid, ev market.AuditEvent) error {
	c := s.prepareBid(b)
	responses := mustJSON(c.Responses)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bids SET version = ?, price_pence = ?, responses = ?,
			submitted_by = ?, updated_at = ? WHERE id = ? AND version = ? AND status = ?`,
			c.Version, c.PricePence, responses, c.SubmittedBy, s.db.timeArg(c.UpdatedAt),
			c.ID, c.Version-1, string(market.BidSubmitted))
		if err != nil {
			return err
		}
		if err := oneRow(res, func() error {
			return bidChanged(ctx, tx, c.ID, market.Errorf(market.ECONFLICT,
				"The bid was revised or withdrawn since version %d; reload it.", c.Version-1))
		}); err != nil {
			return err
		}
		if err := s.insertVersion(ctx, tx, &c, responses); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.ID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*b = c
	return nil
}

// WithdrawBid marks a submitted bid withdrawn at b.WithdrawnAt (the
// clock's time when zero), which frees its supplier to submit a new one.
// ECONFLICT when it is not submitted; ENOTFOUND.
func (s *TenderStore) WithdrawBid(ctx context.Context, b *market.Bid, ev market.AuditEvent) error {
	c := s.prepareBid(b)
	if c.WithdrawnAt.IsZero() {
		c.WithdrawnAt = c.UpdatedAt
	}
	c.Status = market.BidWithdrawn
	err := s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bids SET status = ?, withdrawn_at = ?, updated_at = ?
			WHERE id = ? AND status = ?`, string(market.BidWithdrawn), s.db.timeArg(c.WithdrawnAt),
			s.db.timeArg(c.UpdatedAt), c.ID, string(market.BidSubmitted))
		if err != nil {
			return err
		}
		if err := oneRow(res, func() error {
			return bidChanged(ctx, tx, c.ID, market.Errorf(market.ECONFLICT, "This bid is already withdrawn."))
		}); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.ID, c.TenderID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*b = c
	return nil
}

// GetBid returns the live version of a bid. ENOTFOUND.
func (s *TenderStore) GetBid(ctx context.Context, id string) (market.Bid, error) {
	bids, err := s.queryBids(ctx, "SELECT "+bidColumns+" FROM bids b WHERE b.id = ?", []any{id})
	if err != nil {
		return market.Bid{}, err
	}
	if len(bids) == 0 {
		return market.Bid{}, errNoBid
	}
	return bids[0], nil
}

// ListBids returns a tender's bids, of one supplier when supplierID is not
// "", oldest first; withdrawn ones too when withWithdrawn.
func (s *TenderStore) ListBids(ctx context.Context, tenderID, supplierID string, withWithdrawn bool) ([]market.Bid, error) {
	query := "SELECT " + bidColumns + " FROM bids b WHERE b.tender_id = ?"
	args := []any{tenderID}
	if supplierID != "" {
		query += " AND b.supplier_id = ?"
		args = append(args, supplierID)
	}
	if !withWithdrawn {
		query += " AND b.status = ?"
		args = append(args, string(market.BidSubmitted))
	}
	return s.queryBids(ctx, query+" ORDER BY b.submitted_at, b.id", args)
}

// ListBidPrices returns a tender's submitted bids without their
// responses, which are most of a bid's bytes and none of the comparison's
// figures, oldest first.
func (s *TenderStore) ListBidPrices(ctx context.Context, tenderID string) ([]market.Bid, error) {
	bids := []market.Bid{}
	err := eachRow(ctx, s.db, `SELECT b.id, b.tender_id, b.supplier_id, b.submitted_by, b.status, b.version,
		b.price_pence, b.submitted_at, b.updated_at FROM bids b WHERE b.tender_id = ? AND b.status = ?
		ORDER BY b.submitted_at, b.id`, []any{tenderID, string(market.BidSubmitted)}, func(sc scanner) error {
		var b market.Bid
		if err := sc.Scan(&b.ID, &b.TenderID, &b.SupplierID, &b.SubmittedBy, &b.Status, &b.Version,
			&b.PricePence, timeCol{&b.SubmittedAt}, timeCol{&b.UpdatedAt}); err != nil {
			return err
		}
		bids = append(bids, b)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return bids, nil
}

func (s *TenderStore) queryBids(ctx context.Context, query string, args []any) ([]market.Bid, error) {
	bids := []market.Bid{}
	err := eachRow(ctx, s.db, query, args, func(sc scanner) error {
		var r bidRow
		if err := sc.Scan(r.dest()...); err != nil {
			return err
		}
		if err := r.finish(); err != nil {
			return err
		}
		bids = append(bids, r.b)
		return nil
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return bids, nil
}

// BidVersions returns every version of a bid, oldest first, each as it was
// submitted: status submitted, its own price, responses and author, and
// UpdatedAt the time of that version. ENOTFOUND.
func (s *TenderStore) BidVersions(ctx context.Context, id string) ([]market.Bid, error) {
	var bids []market.Bid
	err := eachRow(ctx, s.db, `SELECT b.id, b.tender_id, b.supplier_id, v.submitted_by, v.version,
		v.price_pence, v.responses, b.submitted_at, v.created_at
		FROM bid_versions v JOIN bids b ON b.id = v.bid_id WHERE v.bid_id = ? ORDER BY v.version`,
		[]any{id}, func(sc scanner) error {
			r := bidRow{b: market.Bid{Status: market.BidSubmitted}}
			b := &r.b
			if err := sc.Scan(&b.ID, &b.TenderID, &b.SupplierID, &b.SubmittedBy, &b.Version, &b.PricePence,
				&r.responses, timeCol{&b.SubmittedAt}, timeCol{&b.UpdatedAt}); err != nil {
				return err
			}
			if err := r.finish(); err != nil {
				return err
			}
			bids = append(bids, r.b)
			return nil
		})
	if err != nil {
		return nil, s.db.translate(err)
	}
	if len(bids) == 0 {
		return nil, errNoBid
	}
	return bids, nil
}
