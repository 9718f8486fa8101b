package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// LevyStore keeps the marketplace levies, their history, the Stripe
// events applied to them and each supplier's Stripe customer.
type LevyStore struct {
	db    *DB
	clock market.Clock
}

var _ market.LevyStore = (*LevyStore)(nil)

// NewLevyStore returns the levies kept in db.
func NewLevyStore(db *DB, clock market.Clock) *LevyStore {
	return &LevyStore{db: db, clock: clock}
}

var errNoLevy = market.Errorf(market.ENOTFOUND, "No such levy.")

// cursorLevies marks a cursor of ListLevies.
const cursorLevies = "levies"

const levyColumns = `id, tender_id, tender_title, bid_id, supplier_id, supplier_name, supplier_sector, billing_email,
	award_value_pence, basis_points, cap_pence, amount_pence, status, waived_reason,
	stripe_customer_id, stripe_invoice_id, hosted_invoice_url, step, attempts, next_attempt_at, last_error,
	created_at, updated_at`

func scanLevy(sc scanner) (market.Levy, error) {
	var l market.Levy
	err := sc.Scan(&l.ID, &l.TenderID, &l.TenderTitle, &l.BidID, &l.SupplierID, &l.SupplierName, &l.SupplierSector, &l.BillingEmail,
		&l.AwardValuePence, &l.BasisPoints, &l.CapPence, &l.AmountPence, &l.Status, &l.WaivedReason,
		&l.StripeCustomerID, &l.StripeInvoiceID, &l.HostedInvoiceURL, &l.Step, &l.Attempts, nullTimeCol{&l.NextAttemptAt}, &l.LastError,
		timeCol{&l.CreatedAt}, timeCol{&l.UpdatedAt})
	return l, err
}

// insertLevy stores a new levy and its history.
func insertLevy(ctx context.Context, tx *Tx, l *market.Levy) error {
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC().Truncate(time.Microsecond), l.UpdatedAt.UTC().Truncate(time.Microsecond)
	_, err := tx.ExecContext(ctx, "INSERT INTO levies ("+levyColumns+`) VALUES
		(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.TenderID, l.TenderTitle, l.BidID, l.SupplierID, l.SupplierName, string(l.SupplierSector), l.BillingEmail,
		l.AwardValuePence, l.BasisPoints, l.CapPence, l.AmountPence, string(l.Status), l.WaivedReason,
		l.StripeCustomerID, l.StripeInvoiceID, l.HostedInvoiceURL, string(l.Step), l.Attempts, tx.db.nullTimeArg(l.NextAttemptAt), l.LastError,
		tx.db.timeArg(l.CreatedAt), tx.db.timeArg(l.UpdatedAt))
	if err != nil {
		return err
	}
	return writeHistory(ctx, tx, l, 0)
}

// writeHistory stores l's history entries from index from on.
func writeHistory(ctx context.Context, tx *Tx, l *market.Levy, from int) error {
	for i := from; i < len(l.History); i++ {
		h := &l.History[i]
		h.At = h.At.UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, "INSERT INTO levy_history (levy_id, seq, at, status, note) VALUES (?, ?, ?, ?, ?)",
			l.ID, i+1, tx.db.timeArg(h.At), string(h.Status), h.Note); err != nil {
			return err
		}
	}
	return nil
}

// updateLevyRow writes l's mutable fields and its new history entries.
func updateLevyRow(ctx context.Context, tx *Tx, l *market.Levy, historyFrom int) error {
	l.UpdatedAt = l.UpdatedAt.UTC().Truncate(time.Microsecond)
	_, err := tx.ExecContext(ctx, `UPDATE levies SET status = ?, stripe_customer_id = ?, stripe_invoice_id = ?,
		hosted_invoice_url = ?, step = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?
		WHERE id = ?`,
		string(l.Status), l.StripeCustomerID, l.StripeInvoiceID, l.HostedInvoiceURL, string(l.Step), l.Attempts,
		tx.db.nullTimeArg(l.NextAttemptAt), l.LastError, tx.db.timeArg(l.UpdatedAt), l.ID)
	if err != nil {
		return err
	}
	return writeHistory(ctx, tx, l, historyFrom)
}

// loadHistory reads the history of each levy in ls.
func loadHistory(ctx context.Context, q Queryer, ls []market.Levy) error {
	if len(ls) == 0 {
		return nil
	}
	at := make(map[string]int, len(ls))
	args := make([]any, len(ls))
	for i := range ls {
		at[ls[i].ID], args[i] = i, ls[i].ID
		ls[i].History = []market.LevyChange{}
	}
	return eachRow(ctx, q, "SELECT levy_id, at, status, note FROM levy_history WHERE levy_id IN ("+placeholders(len(ls))+") ORDER BY levy_id, seq",
		args, func(sc scanner) error {
			var (
				id string
				h  market.LevyChange
			)
			if err := sc.Scan(&id, timeCol{&h.At}, &h.Status, &h.Note); err != nil {
				return err
			}
			i := at[id]
			ls[i].History = append(ls[i].History, h)
			return nil
		})
}

// getLevy reads one levy with its history; forUpdate holds its row on
// PostgreSQL until the transaction ends (SQLite's writer holds every row).
func getLevy(ctx context.Context, q Queryer, engine, id string, forUpdate bool) (market.Levy, error) {
	query := "SELECT " + levyColumns + " FROM levies WHERE id = ?"
	if forUpdate && engine == EnginePostgres {
		query += " FOR UPDATE"
	}
	l, err := scanLevy(q.QueryRowContext(ctx, query, id))
	if isNoRows(err) {
		return market.Levy{}, errNoLevy
	} else if err != nil {
		return market.Levy{}, err
	}
	ls := []market.Levy{l}
	if err := loadHistory(ctx, q, ls); err != nil {
		return market.Levy{}, err
	}
	return ls[0], nil
}

// GetLevy returns a levy with its history. ENOTFOUND.
func (s *LevyStore) GetLevy(ctx context.Context, id string) (market.Levy, error) {
	l, err := getLevy(ctx, s.db, s.db.engine, id, false)
	return l, s.db.translate(err)
}

// ListLevies pages levies matching f, newest first (then by ID).
func (s *LevyStore) ListLevies(ctx context.Context, f market.LevyFilter) (market.LevyPage, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)
	var (
		b    strings.Builder
		args []any
	)
	b.WriteString("SELECT " + levyColumns + " FROM levies WHERE 1 = 1")
	if f.SupplierID != "" {
		b.WriteString(" AND supplier_id = ?")
		args = append(args, f.SupplierID)
	}
	if f.Status != "" {
		b.WriteString(" AND status = ?")
		args = append(args, string(f.Status))
	}
	if !f.From.IsZero() {
		b.WriteString(" AND created_at >= ?")
		args = append(args, s.db.timeArg(f.From))
	}
	if !f.To.IsZero() {
		b.WriteString(" AND created_at < ?")
		args = append(args, s.db.timeArg(f.To))
	}
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return market.LevyPage{}, err
		}
		if len(keys) != 3 || keys[0] != cursorLevies {
			return market.LevyPage{}, market.Invalid("cursor", "does not belong to this list")
		}
		at, err := time.Parse(time.RFC3339Nano, keys[1])
		if err != nil {
			return market.LevyPage{}, market.Invalid("cursor", "is not a cursor this API gave out")
		}
		b.WriteString(" AND (created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, s.db.timeArg(at), s.db.timeArg(at), keys[2])
	}
	b.WriteString(" ORDER BY created_at DESC, id DESC")
	if !f.All {
		b.WriteString(" LIMIT ?")
		args = append(args, pageSize+1)
	}
	page := market.LevyPage{Items: []market.Levy{}}
	err := eachRow(ctx, s.db, b.String(), args, func(sc scanner) error {
		l, err := scanLevy(sc)
		page.Items = append(page.Items, l)
		return err
	})
	if err != nil {
		return market.LevyPage{}, s.db.translate(err)
	}
	if !f.All && len(page.Items) > pageSize {
		page.Items = page.Items[:pageSize]
		last := page.Items[pageSize-1]
		page.NextCursor = market.EncodeCursor(cursorLevies, last.CreatedAt.UTC().Format(time.RFC3339Nano), last.ID)
	}
	if err := loadHistory(ctx, s.db, page.Items); err != nil {
		return market.LevyPage{}, s.db.translate(err)
	}
	return page, nil
}

// UpdateLevy applies change to the levy in a transaction holding its row.
func (s *LevyStore) UpdateLevy(ctx context.Context, id string, change func(l *market.Levy) (*market.AuditEvent, error)) (market.Levy, error) {
	var out market.Levy
	err := s.db.InTx(ctx, func(tx *Tx) error {
		l, err := s.applyChange(ctx, tx, id, change)
		out = l
		return err
	})
	if err != nil {
		return market.Levy{}, s.db.translate(err)
	}
	return out, nil
}

// applyChange loads the levy with its row held, lets change decide, and
// saves it, with the audit event change returns when there is one.
func (s *LevyStore) applyChange(ctx context.Context, tx *Tx, id string, change func(l *market.Levy) (*market.AuditEvent, error)) (market.Levy, error) {
	l, err := getLevy(ctx, tx, s.db.engine, id, true)
	if err != nil {
		return market.Levy{}, err
	}
	n := len(l.History)
	ev, err := change(&l)
	if err != nil {
		return l, err
	}
	if err := updateLevyRow(ctx, tx, &l, n); err != nil {
		return market.Levy{}, err
	}
	if ev == nil {
		return l, nil
	}
	return l, tx.appendEvent(ctx, s.clock, *ev, l.ID, l.TenderID)
}

// claimDue leases to owner, until leaseUntil, the pending row of table
// (levies or email_outbox) due soonest at nowAt, and returns its ID. The
// row is chosen and leased in one transaction; on PostgreSQL FOR UPDATE
// SKIP LOCKED lets replicas claiming at once pass over each other's rows
// instead of waiting, and on SQLite the writer lock lets one claim at a
// time. none is the error when no row is due.
func claimDue(ctx context.Context, tx *Tx, table, owner string, nowAt, leaseUntil time.Time, none error) (string, error) {
	lock := ""
	if tx.db.engine == EnginePostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM `+table+`
		WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
		ORDER BY next_attempt_at, id LIMIT 1`+lock, tx.db.timeArg(nowAt), tx.db.timeArg(nowAt)).Scan(&id)
	if isNoRows(err) {
		return "", none
	} else if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, "UPDATE "+table+" SET lease_owner = ?, lease_until = ? WHERE id = ?",
		owner, tx.db.timeArg(leaseUntil), id)
	return id, err
}

// ClaimLevy leases the pending levy due soonest (see claimDue).
func (s *LevyStore) ClaimLevy(ctx context.Context, owner string, nowAt, leaseUntil time.Time) (market.Levy, error) {
	var out market.Levy
	err := s.db.InTx(ctx, func(tx *Tx) error {
		id, err := claimDue(ctx, tx, "levies", owner, nowAt, leaseUntil, market.Errorf(market.ENOTFOUND, "No levy is due."))
		if err != nil {
			return err
		}
		out, err = getLevy(ctx, tx, s.db.engine, id, false)
		return err
	})
	if err != nil {
		return market.Levy{}, s.db.translate(err)
	}
	return out, nil
}

// WorkLevy applies the worker's change to a levy whose lease owner holds.
func (s *LevyStore) WorkLevy(ctx context.Context, id, owner string, release bool, change func(l *market.Levy) (*market.AuditEvent, error)) (market.Levy, error) {
	var out market.Levy
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var held string
		q := "SELECT lease_owner FROM levies WHERE id = ?"
		if s.db.engine == EnginePostgres {
			q += " FOR UPDATE"
		}
		if err := tx.QueryRowContext(ctx, q, id).Scan(&held); isNoRows(err) {
			return errNoLevy
		} else if err != nil {
			return err
		}
		if held != owner {
			return market.Errorf(market.ECONFLICT, "The lease of levy %s has passed to another worker.", id)
		}
		l, err := s.applyChange(ctx, tx, id, change)
		if err != nil {
			return err
		}
		out = l
		if release {
			_, err = tx.ExecContext(ctx, "UPDATE levies SET lease_owner = '', lease_until = NULL WHERE id = ?", id)
		}
		return err
	})
	if err != nil {
		return market.Levy{}, s.db.translate(err)
	}
	return out, nil
}

// RecordStripeEvent stores the event's ID once and applies it to the levy
// in the same transaction.
func (s *LevyStore) RecordStripeEvent(ctx context.Context, eventID, eventType, levyID string, change func(l *market.Levy) (*market.AuditEvent, error)) error {
	err := s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO stripe_events (id, type, levy_id, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			eventID, eventType, nullStringArg(levyID), s.db.timeArg(now(s.clock)))
		if err != nil {
			return err
		}
		if err := oneRow(res, func() error {
			return market.Errorf(market.ECONFLICT, "Stripe event %s was processed before.", eventID)
		}); err != nil {
			return err
		}
		if levyID == "" {
			return nil
		}
		_, err = s.applyChange(ctx, tx, levyID, change)
		if market.ErrorCode(err) == market.ENOTFOUND {
			return nil // an invoice of another system on the same account
		}
		return err
	})
	return s.db.translate(err)
}

// StripeCustomer returns the Stripe customer recorded for orgID.
func (s *LevyStore) StripeCustomer(ctx context.Context, orgID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, "SELECT customer_id FROM stripe_customers WHERE organisation_id = ?", orgID).Scan(&id)
	if isNoRows(err) {
		return "", market.Errorf(market.ENOTFOUND, "No Stripe customer is recorded for organisation %s.", orgID)
	}
	return id, s.db.translate(err)
}

// SetStripeCustomer records orgID's Stripe customer unless one is already
// recorded, and returns the one kept.
func (s *LevyStore) SetStripeCustomer(ctx context.Context, orgID, customerID string) (string, error) {
	if _, err := s.db.ExecContext(ctx, "INSERT INTO stripe_customers (organisation_id, customer_id, created_at) VALUES (?, ?, ?) ON CONFLICT (organisation_id) DO NOTHING",
		orgID, customerID, s.db.timeArg(now(s.clock))); err != nil {
		return "", s.db.translate(err)
	}
	return s.StripeCustomer(ctx, orgID)
}
