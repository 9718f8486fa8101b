package sqlstore

import (
	"context"

	"github.com/csmarket/csmarket/internal/market"
)

// PersonalDataStore reads, for a subject access request, the rows of every
// table that name one user.
type PersonalDataStore struct {
	db      *DB
	notes   *NotificationStore
	tenders *TenderStore
}

var _ market.PersonalDataStore = (*PersonalDataStore)(nil)

// NewPersonalDataStore returns the personal data kept in db.
func NewPersonalDataStore(db *DB) *PersonalDataStore {
	return &PersonalDataStore{db: db, notes: &NotificationStore{db: db}, tenders: &TenderStore{db: db}}
}

// PersonalRecords returns what names user userID of organisation orgID:
// its notifications (newest first) and stored preferences; the questions
// it asked; the bids of orgID it submitted or revised, as they stand, and
// the versions it submitted; its evaluator records and scores; and the
// audit events it is the actor of, in sequence. The audit trail has no
// index on the actor: this reads it whole, which an export, asked for
// rarely, can afford.
func (s *PersonalDataStore) PersonalRecords(ctx context.Context, userID, orgID string) (market.PersonalRecords, error) {
	r := market.PersonalRecords{
		Notifications: []market.Notification{}, Questions: []market.Question{}, Bids: []market.Bid{},
		BidVersions: []market.Bid{}, Declarations: []market.Evaluator{}, Scores: []market.Score{},
		AuditEvents: []market.AuditEvent{},
	}
	err := eachRow(ctx, s.db, "SELECT "+notificationColumns+" FROM notifications WHERE user_id = ? ORDER BY seq DESC",
		[]any{userID}, func(sc scanner) error {
			n, err := scanNotification(sc)
			r.Notifications = append(r.Notifications, n)
			return err
		})
	if err != nil {
		return market.PersonalRecords{}, s.db.translate(err)
	}
	prefs, err := s.notes.GetPreferences(ctx, []string{userID})
	if err != nil {
		return market.PersonalRecords{}, err
	}
	r.Preferences = prefs[userID]

	err = eachRow(ctx, s.db, "SELECT "+questionColumns+" FROM questions q WHERE q.asker_user = ? ORDER BY q.asked_at, q.id",
		[]any{userID}, func(sc scanner) error {
			var q market.Question
			if err := sc.Scan(questionDest(&q, &nullString{&q.AnsweredBy})...); err != nil {
				return err
			}
			r.Questions = append(r.Questions, q)
			return nil
		})
	if err != nil {
		return market.PersonalRecords{}, s.db.translate(err)
	}

	if r.Bids, err = s.tenders.queryBids(ctx, "SELECT "+bidColumns+` FROM bids b WHERE b.supplier_id = ?
		AND b.id IN (SELECT v.bid_id FROM bid_versions v WHERE v.submitted_by = ?)
		ORDER BY b.submitted_at, b.id`, []any{orgID, userID}); err != nil {
		return market.PersonalRecords{}, err
	}
	err = eachRow(ctx, s.db, `SELECT b.id, b.tender_id, b.supplier_id, v.submitted_by, v.version,
		v.price_pence, v.responses, b.submitted_at, v.created_at
		FROM bid_versions v JOIN bids b ON b.id = v.bid_id WHERE b.supplier_id = ? AND v.submitted_by = ?
		ORDER BY b.submitted_at, b.id, v.version`, []any{orgID, userID}, func(sc scanner) error {
		r0 := bidRow{b: market.Bid{Status: market.BidSubmitted}}
		b := &r0.b
		if err := sc.Scan(&b.ID, &b.TenderID, &b.SupplierID, &b.SubmittedBy, &b.Version, &b.PricePence,
			&r0.responses, timeCol{&b.SubmittedAt}, timeCol{&b.UpdatedAt}); err != nil {
			return err
		}
		if err := r0.finish(); err != nil {
			return err
		}
		r.BidVersions = append(r.BidVersions, r0.b)
		return nil
	})
	if err != nil {
		return market.PersonalRecords{}, s.db.translate(err)
	}

	err = eachRow(ctx, s.db, "SELECT "+evaluatorColumns+" FROM evaluators e WHERE e.user_id = ? ORDER BY e.tender_id",
		[]any{userID}, func(sc scanner) error {
			var row evaluatorRow
			if err := sc.Scan(row.dest()...); err != nil {
				return err
			}
			if err := row.finish(); err != nil {
				return err
			}
			r.Declarations = append(r.Declarations, row.e)
			return nil
		})
	if err != nil {
		return market.PersonalRecords{}, s.db.translate(err)
	}
	err = eachRow(ctx, s.db, `SELECT tender_id, bid_id, evaluator_id, criterion, score, justification, updated_at
		FROM scores WHERE evaluator_id = ? ORDER BY tender_id, bid_id, criterion`, []any{userID}, func(sc scanner) error {
		var c market.Score
		if err := sc.Scan(&c.TenderID, &c.BidID, &c.EvaluatorID, &c.Criterion, &c.Score, &c.Justification,
			timeCol{&c.UpdatedAt}); err != nil {
			return err
		}
		r.Scores = append(r.Scores, c)
		return nil
	})
	if err != nil {
		return market.PersonalRecords{}, s.db.translate(err)
	}

	err = eachRow(ctx, s.db, "SELECT "+auditColumns+" FROM audit_events WHERE actor_user = ? ORDER BY seq",
		[]any{userID}, func(sc scanner) error {
			ev, err := scanEvent(sc)
			r.AuditEvents = append(r.AuditEvents, ev)
			return err
		})
	if err != nil {
		return market.PersonalRecords{}, s.db.translate(err)
	}
	return r, nil
}
