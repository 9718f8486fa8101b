package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// TenderStore keeps tenders, their questions and bids. Every write stores
// its audit event in the same transaction, so the trail never misses a
// change nor records one that was rolled back.
type TenderStore struct {
	db    *DB
	clock market.Clock
}

var _ market.TenderStore = (*TenderStore)(nil)

// NewTenderStore returns the tenders kept in db.
func NewTenderStore(db *DB, clock market.Clock) *TenderStore {
	return &TenderStore{db: db, clock: clock}
}

var errNoTender = market.Errorf(market.ENOTFOUND, "No such tender.")

// The JSON forms of the tender parts kept as text columns. The domain
// structs carry no tags, so the stored form is fixed here.
type (
	criterionJSON struct {
		Key         string               `json:"key"`
		Name        string               `json:"name"`
		Kind        market.CriterionKind `json:"kind"`
		Weight      int                  `json:"weight"`
		Description string               `json:"description,omitempty"`
	}
	baselineJSON struct {
		PricePence int64          `json:"price_pence"`
		Scores     map[string]int `json:"scores"`
	}
)

// tenderColumns are read by tenderRow, in this order, from tenders t.
const tenderColumns = `t.id, t.buyer_id, t.created_by, t.title, t.description, t.contract_months,
	t.budget_pence, t.clarification_deadline, t.bid_deadline, t.criteria, t.baseline,
	t.published_at, t.cancelled_at, t.cancel_reason, t.unsuccessful_at, t.unsuccessful_note,
	t.awarded_at, t.award_bid_id, t.award_reason, t.standstill_ends_at, t.award_confirmed_at, t.version,
	t.created_at, t.updated_at`

// tenderRow receives one row of tenderColumns.
type tenderRow struct {
	t        market.Tender
	criteria string
	baseline sql.NullString
}

func (r *tenderRow) dest() []any {
	t := &r.t
	return []any{&t.ID, &t.BuyerID, &t.CreatedBy, &t.Title, &t.Description, &t.ContractMonths,
		&t.BudgetPence, nullTimeCol{&t.ClarificationDeadline}, nullTimeCol{&t.BidDeadline}, &r.criteria, &r.baseline,
		nullTimeCol{&t.PublishedAt}, nullTimeCol{&t.CancelledAt}, &t.CancelReason, nullTimeCol{&t.UnsuccessfulAt},
		&t.UnsuccessfulNote, nullTimeCol{&t.AwardedAt}, nullString{&t.AwardBidID}, &t.AwardReason, nullTimeCol{&t.StandstillEndsAt},
		nullTimeCol{&t.AwardConfirmedAt}, &t.Version, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}}
}

func (r *tenderRow) finish() error {
	var cs []criterionJSON
	if err := json.Unmarshal([]byte(r.criteria), &cs); err != nil {
		return fmt.Errorf("sqlstore: tender criteria: %w", err)
	}
	r.t.Criteria = make([]market.Criterion, len(cs))
	for i, c := range cs {
		r.t.Criteria[i] = market.Criterion(c)
	}
	if r.baseline.Valid {
		var b baselineJSON
		if err := json.Unmarshal([]byte(r.baseline.String), &b); err != nil {
			return fmt.Errorf("sqlstore: tender baseline: %w", err)
		}
		bl := market.Baseline(b)
		r.t.Baseline = &bl
	}
	return nil
}

// utcMicro returns t in UTC at the precision both engines keep, the zero
// time staying zero, so that what a method returns equals a later read.
func utcMicro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// prepareTender returns a copy of t as it will be stored.
func prepareTender(t *market.Tender) market.Tender {
	c := *t
	for _, p := range []*time.Time{&c.ClarificationDeadline, &c.BidDeadline, &c.PublishedAt, &c.CancelledAt,
		&c.UnsuccessfulAt, &c.AwardedAt, &c.StandstillEndsAt, &c.AwardConfirmedAt, &c.CreatedAt, &c.UpdatedAt} {
		*p = utcMicro(*p)
	}
	if c.Capabilities == nil {
		c.Capabilities = []string{}
	}
	if c.Regions == nil {
		c.Regions = []string{}
	}
	if c.JointCommissioners == nil {
		c.JointCommissioners = []string{}
	}
	if c.Criteria == nil {
		c.Criteria = []market.Criterion{}
	}
	if c.Baseline != nil {
		b := *c.Baseline
		c.Baseline = &b
	}
	return c
}

// tenderJSON returns the stored forms of t's criteria and baseline.
func tenderJSON(t *market.Tender) (criteria string, baseline any) {
	cs := make([]criterionJSON, len(t.Criteria))
	for i, c := range t.Criteria {
		cs[i] = criterionJSON(c)
	}
	criteria = mustJSON(cs)
	if t.Baseline != nil {
		baseline = mustJSON(baselineJSON(*t.Baseline))
	}
	return criteria, baseline
}

// CreateTender stores a new tender with its capability, region and joint
// commissioner rows and its event, setting its ID, version (1) and times.
// On failure t is unchanged.
func (s *TenderStore) CreateTender(ctx context.Context, t *market.Tender, ev market.AuditEvent) error {
	at := now(s.clock)
	c := prepareTender(t)
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = newID(), 1, at, at
	criteria, baseline := tenderJSON(&c)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenders (id, buyer_id, created_by, title, description,
			contract_months, budget_pence, clarification_deadline, bid_deadline, criteria, baseline,
			published_at, cancelled_at, cancel_reason, unsuccessful_at, unsuccessful_note, awarded_at,
			award_bid_id, award_reason, standstill_ends_at, award_confirmed_at, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.BuyerID, c.CreatedBy, c.Title, c.Description, c.ContractMonths, c.BudgetPence,
			s.db.nullTimeArg(c.ClarificationDeadline), s.db.nullTimeArg(c.BidDeadline), criteria, baseline,
			s.db.nullTimeArg(c.PublishedAt), s.db.nullTimeArg(c.CancelledAt), c.CancelReason,
			s.db.nullTimeArg(c.UnsuccessfulAt), c.UnsuccessfulNote, s.db.nullTimeArg(c.AwardedAt),
			nullStringArg(c.AwardBidID), c.AwardReason, s.db.nullTimeArg(c.StandstillEndsAt),
			s.db.nullTimeArg(c.AwardConfirmedAt), c.Version,
			s.db.timeArg(c.CreatedAt), s.db.timeArg(c.UpdatedAt))
		if err != nil {
			return err
		}
		if err := writeTenderParts(ctx, tx, &c); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, ev, c.ID, c.ID)
	})
	if err != nil {
		return s.db.translate(err)
	}
	*t = c
	return nil
}

// writeTenderParts writes the capability, region and joint commissioner
// rows of t, which has none yet.
func writeTenderParts(ctx context.Context, q Queryer, t *market.Tender) error {
	parts := []struct {
		table, col string
		vals       []string
	}{
		{"tender_capabilities", "capability", t.Capabilities},
		{"tender_regions", "region", t.Regions},
		{"tender_commissioners", "org_id", t.JointCommissioners},
	}
	for _, p := range parts {
		err := insertRows(ctx, q, p.table, []string{"tender_id", "position", p.col}, len(p.vals), func(i int) []any {
			return []any{t.ID, i, p.vals[i]}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// GetTender returns a tender by ID. ENOTFOUND.
func (s *TenderStore) GetTender(ctx context.Context, id string) (market.Tender, error) {
	ts, err := s.queryTenders(ctx, s.db, "SELECT "+tenderColumns+" FROM tenders t WHERE t.id = ?", []any{id})
	if err != nil {
		return market.Tender{}, s.db.translate(err)
	}
	if len(ts) == 0 {
		return market.Tender{}, errNoTender
	}
	return ts[0], nil
}

// queryTenders runs a query of tenderColumns and loads the rows' parts.
func (s *TenderStore) queryTenders(ctx context.Context, q Queryer, query string, args []any) ([]market.Tender, error) {
	ts := []market.Tender{}
	err := eachRow(ctx, q, query, args, func(sc scanner) error {
		var r tenderRow
		if err := sc.Scan(r.dest()...); err != nil {
			return err
		}
		if err := r.finish(); err != nil {
			return err
		}
		ts = append(ts, r.t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ts, loadTenderParts(ctx, q, ts)
}

// loadTenderParts fills the capabilities, regions and joint commissioners
// of ts.
func loadTenderParts(ctx context.Context, q Queryer, ts []market.Tender) error {
	if len(ts) == 0 {
		return nil
	}
	byID := make(map[string]*market.Tender, len(ts))
	ids := make([]any, len(ts))
	for i := range ts {
		t := &ts[i]
		t.Capabilities, t.Regions, t.JointCommissioners = []string{}, []string{}, []string{}
		byID[t.ID] = t
		ids[i] = t.ID
	}
	in := placeholders(len(ids))
	parts := []struct {
		table, col string
		field      func(t *market.Tender) *[]string
	}{
		{"tender_capabilities", "capability", func(t *market.Tender) *[]string { return &t.Capabilities }},
		{"tender_regions", "region", func(t *market.Tender) *[]string { return &t.Regions }},
		{"tender_commissioners", "org_id", func(t *market.Tender) *[]string { return &t.JointCommissioners }},
	}
	for _, p := range parts {
		err := eachRow(ctx, q, "SELECT tender_id, "+p.col+" FROM "+p.table+" WHERE tender_id IN ("+in+
			") ORDER BY tender_id, position", ids, func(sc scanner) error {
			var id, v string
			if err := sc.Scan(&id, &v); err != nil {
				return err
			}
			f := p.field(byID[id])
			*f = append(*f, v)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SaveTender replaces the stored tender's fields, its capability, region
// and joint commissioner rows and (through the engine's index) its search
// entry, when its version is still ifVersion; the version check and the
// bump are one UPDATE, so of two writers holding one version exactly one
// succeeds. The ID, lead, author and creation time never change. On
// success it sets t's version and UpdatedAt. EPRECONDITION when the
// version moved; ENOTFOUND.
func (s *TenderStore) SaveTender(ctx context.Context, t *market.Tender, ifVersion int64, ev market.AuditEvent) error {
	return s.saveTender(ctx, t, ifVersion, ev, nil)
}

// ConfirmAward saves t as SaveTender does and records the levy l with
// levyEv in the same transaction. ECONFLICT when the tender has a levy.
func (s *TenderStore) ConfirmAward(ctx context.Context, t *market.Tender, ifVersion int64, ev market.AuditEvent, l *market.Levy, levyEv market.AuditEvent) error {
	rec := *l
	rec.ID = newID()
	err := s.saveTender(ctx, t, ifVersion, ev, func(tx *Tx) error {
		if err := insertLevy(ctx, tx, &rec); err != nil {
			return err
		}
		return tx.appendEvent(ctx, s.clock, levyEv, rec.ID, rec.TenderID)
	})
	if err != nil {
		return err
	}
	*l = rec
	return nil
}

// saveTender is SaveTender, running also (when not nil) in its
// transaction.
func (s *TenderStore) saveTender(ctx context.Context, t *market.Tender, ifVersion int64, ev market.AuditEvent, also func(tx *Tx) error) error {
	c := prepareTender(t)
	c.Version, c.UpdatedAt = ifVersion+1, now(s.clock)
	criteria, baseline := tenderJSON(&c)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tenders SET title = ?, description = ?, contract_months = ?,
			budget_pence = ?, clarification_deadline = ?, bid_deadline = ?, criteria = ?, baseline = ?,
			published_at = ?, cancelled_at = ?, cancel_reason = ?, unsuccessful_at = ?, unsuccessful_note = ?,
			awarded_at = ?, award_bid_id = ?, award_reason = ?, standstill_ends_at = ?, award_confirmed_at = ?,
			version = ?, updated_at = ?
			WHERE id = ? AND version = ?`,
			c.Title, c.Description, c.ContractMonths, c.BudgetPence,
			s.db.nullTimeArg(c.ClarificationDeadline), s.db.nullTimeArg(c.BidDeadline), criteria, baseline,
			s.db.nullTimeArg(c.PublishedAt), s.db.nullTimeArg(c.CancelledAt), c.CancelReason,
			s.db.nullTimeArg(c.UnsuccessfulAt), c.UnsuccessfulNote, s.db.nullTimeArg(c.AwardedAt),
			nullStringArg(c.AwardBidID), c.AwardReason, s.db.nullTimeArg(c.StandstillEndsAt),
			s.db.nullTimeArg(c.AwardConfirmedAt), c.Version,
			s.db.timeArg(c.UpdatedAt), c.ID, ifVersion)
		if err != nil {
			return err
		}
		if err := oneRow(res, func() error {
			var current int64
			err := tx.QueryRowContext(ctx, "SELECT version FROM tenders WHERE id = ?", c.ID).Scan(&current)
			if isNoRows(err) {
				return errNoTender
			} else if err != nil {
				return err
			}
			return market.Errorf(market.EPRECONDITION, "The tender has changed since version %d; it is now at version %d.", ifVersion, current)
		}); err != nil {
			return err
		}
		for _, table := range []string{"tender_capabilities", "tender_regions", "tender_commissioners"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE tender_id = ?", c.ID); err != nil {
				return err
			}
		}
		if err := writeTenderParts(ctx, tx, &c); err != nil {
			return err
		}
		if err := tx.appendEvent(ctx, s.clock, ev, c.ID, c.ID); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	if err != nil {
		return s.db.translate(err)
	}
	*t = c
	return nil
}

// oneRow checks that res changed a row, calling why for the error when it
// changed none.
func oneRow(res sql.Result, why func() error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return why()
	}
	return nil
}

// cursorTenders marks a cursor of ListTenders, so that a cursor of another
// list is refused.
const cursorTenders = "t"

// tenderStatusSQL derives a tender's status in SQL exactly as
// market.Tender.Status does in Go, with ? bound to the time it is derived
// at. A published tender lacking a bid deadline is closed in both.
const tenderStatusSQL = `CASE
	WHEN t.cancelled_at IS NOT NULL THEN 'cancelled'
	WHEN t.unsuccessful_at IS NOT NULL THEN 'unsuccessful'
	WHEN t.award_confirmed_at IS NOT NULL THEN 'awarded'
	WHEN t.awarded_at IS NOT NULL THEN 'standstill'
	WHEN t.published_at IS NULL THEN 'draft'
	WHEN ? < t.bid_deadline THEN 'open'
	ELSE 'closed' END`

// ListTenders returns one page of the tenders matching f: the published
// ones, and every unpublished one led or jointly commissioned by one of
// f.BuyerIDs, with status derived at f.Now. They are ordered newest first
// by publication, else creation, then by ID. A q with no words in it
// filters nothing. EINVALID naming "cursor" for a cursor this list did not
// give out.
func (s *TenderStore) ListTenders(ctx context.Context, f market.TenderFilter) (market.TenderPage, error) {
	query, args, pageSize, err := s.listQuery(f)
	if err != nil {
		return market.TenderPage{}, err
	}

	return s.tenderPage(ctx, query, args, pageSize, cursorTenders)
}

// tenderPage runs a page query of tenders whose rows end with the time
// they are listed by, and returns the page with its next cursor of kind
// (a page holds pageSize; the query asks for one more to know there is a
// next).
func (s *TenderStore) tenderPage(ctx context.Context, query string, args []any, pageSize int, kind string) (market.TenderPage, error) {
	var (
		items  []market.Tender
		listed []time.Time
	)
	err := eachRow(ctx, s.db, query, args, func(sc scanner) error {
		var r tenderRow
		var at time.Time
		if err := sc.Scan(append(r.dest(), timeCol{&at})...); err != nil {
			return err
		}
		if err := r.finish(); err != nil {
			return err
		}
		items = append(items, r.t)
		listed = append(listed, at)
		return nil
	})
	if err != nil {
		return market.TenderPage{}, s.db.translate(err)
	}
	var page market.TenderPage
	if len(items) > pageSize {
		items = items[:pageSize]
		page.NextCursor = market.EncodeCursor(kind, listed[pageSize-1].Format(timeLayout), items[pageSize-1].ID)
	}
	if items == nil {
		items = []market.Tender{}
	}
	if err := loadTenderParts(ctx, s.db, items); err != nil {
		return market.TenderPage{}, s.db.translate(err)
	}
	page.Items = items
	return page, nil
}

// listQuery builds the page query of ListTenders: the filters, the keyset
// condition after f's cursor, and one row more than the page size it
// returns.
func (s *TenderStore) listQuery(f market.TenderFilter) (string, []any, int, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)

	var (
		b    strings.Builder
		args []any
	)
	b.WriteString("SELECT " + tenderColumns + ", t.listed_at FROM tenders t WHERE (t.published_at IS NOT NULL")
	if len(f.BuyerIDs) > 0 {
		in := placeholders(len(f.BuyerIDs))
		b.WriteString(" OR t.buyer_id IN (" + in + ") OR EXISTS (SELECT 1 FROM tender_commissioners tc WHERE tc.tender_id = t.id AND tc.org_id IN (" + in + "))")
		for range 2 {
			for _, id := range f.BuyerIDs {
				args = append(args, id)
			}
		}
	}
	b.WriteString(")")
	if f.Status != "" {
		b.WriteString(" AND " + tenderStatusSQL + " = ?")
		args = append(args, s.db.timeArg(utcMicro(f.Now)), string(f.Status))
	}
	if f.Capability != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM tender_capabilities x WHERE x.tender_id = t.id AND x.capability = ?)")
		args = append(args, f.Capability)
	}
	if f.Region != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM tender_regions x WHERE x.tender_id = t.id AND x.region = ?)")
		args = append(args, f.Region)
	}
	if terms := searchTerms(f.Q); len(terms) > 0 {
		if s.db.engine == EnginePostgres {
			b.WriteString(" AND t.search @@ to_tsquery('english', ?)")
			args = append(args, tsQueryPostgres(terms))
		} else {
			// A lookup in the matches (the unary +), so that the list is
			// read in its order from tenders_public and stops at the
			// page, rather than every match fetched and sorted.
			b.WriteString(" AND +t.tid IN (SELECT rowid FROM tender_fts WHERE tender_fts MATCH ?)")
			args = append(args, ftsQuerySQLite(terms))
		}
	}
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		if len(keys) != 3 || keys[0] != cursorTenders {
			return "", nil, 0, market.Invalid("cursor", "does not belong to this list")
		}
		after, err := time.Parse(timeLayout, keys[1])
		if err != nil {
			return "", nil, 0, market.Invalid("cursor", "is not a cursor this API gave out")
		}
		b.WriteString(" AND (t.listed_at, t.id) < (?, ?)")
		args = append(args, s.db.timeArg(after), keys[2])
	}
	b.WriteString(" ORDER BY t.listed_at DESC, t.id DESC LIMIT ?")
	args = append(args, pageSize+1)
	return b.String(), args, pageSize, nil
}

// nullStringArg converts s to a nullable column's value, "" to NULL.
func nullStringArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}
