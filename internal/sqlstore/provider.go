package sqlstore

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
)

// ProviderStore keeps the provider directory.
type ProviderStore struct {
	db    *DB
	clock market.Clock
}

var _ market.ProviderStore = (*ProviderStore)(nil)

// NewProviderStore returns the directory kept in db.
func NewProviderStore(db *DB, clock market.Clock) *ProviderStore {
	return &ProviderStore{db: db, clock: clock}
}

// providerColumns are read by providerRow, in this order, from
// organisations o joined with listings l.
const providerColumns = orgColumns + `,
	l.summary, l.size, l.day_rate_min_pence, l.day_rate_max_pence,
	l.accreditations, l.case_studies, l.contact, l.version, l.updated_at`

// inDirectory is the condition for an organisation to be listed. It is
// written out, not bound, so that the planners can use the partial indexes.
const inDirectory = `o.kind = 'supplier' AND o.status = 'active'`

// Cursor kinds: a page ordered by name, or by relevance to q.
const (
	cursorByName  = "n"
	cursorByScore = "r"
)

// ListProviders returns one page of active suppliers matching f. Without
// search terms they are ordered by name then ID; with terms, by relevance
// then ID. A q with no words in it (only punctuation) filters nothing.
func (s *ProviderStore) ListProviders(ctx context.Context, f market.ProviderFilter) (market.ProviderPage, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)
	terms := searchTerms(f.Q)

	var after []string
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return market.ProviderPage{}, err
		}
		want := cursorByName
		if len(terms) > 0 {
			want = cursorByScore
		}
		if len(keys) != 3 || keys[0] != want {
			return market.ProviderPage{}, market.Invalid("cursor", "does not belong to this search")
		}
		after = keys[1:]
	}

	// The page is found on the sort keys alone, so that a search or filter
	// matching many rows sorts small tuples; the rows of the page are read
	// after, by ID.
	query, args, err := s.listQuery(f, terms, after, pageSize)
	if err != nil {
		return market.ProviderPage{}, err
	}
	var ids, keys []string
	err = eachRow(ctx, s.db, query, args, func(sc scanner) error {
		var id, nameKey string
		var score float64
		dest := []any{&id, &nameKey}
		if len(terms) > 0 {
			dest[1] = &score
		}
		if err := sc.Scan(dest...); err != nil {
			return err
		}
		if len(terms) > 0 {
			// The shortest form that parses back to the same float64, so
			// the next page starts exactly after this row.
			nameKey = strconv.FormatFloat(score, 'g', -1, 64)
		}
		ids = append(ids, id)
		keys = append(keys, nameKey)
		return nil
	})
	if err != nil {
		return market.ProviderPage{}, s.db.translate(err)
	}

	var page market.ProviderPage
	if len(ids) > pageSize {
		ids = ids[:pageSize]
		kind := cursorByName
		if len(terms) > 0 {
			kind = cursorByScore
		}
		page.NextCursor = market.EncodeCursor(kind, keys[pageSize-1], ids[pageSize-1])
	}
	page.Items, err = getProviders(ctx, s.db, ids, true)
	if err != nil {
		return market.ProviderPage{}, s.db.translate(err)
	}
	return page, nil
}

// getProviders reads the suppliers ids with their listings, in the order
// of ids, leaving out any that is missing (or not active, if activeOnly).
func getProviders(ctx context.Context, q Queryer, ids []string, activeOnly bool) ([]market.Provider, error) {
	items := make([]market.Provider, 0, len(ids))
	if len(ids) == 0 {
		return items, nil
	}
	cond := "o.kind = 'supplier'"
	if activeOnly {
		cond = inDirectory
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	byID := make(map[string]market.Provider, len(ids))
	err := eachRow(ctx, q, "SELECT "+providerColumns+` FROM organisations o
		JOIN listings l ON l.org_id = o.id WHERE o.id IN (`+placeholders(len(ids))+") AND "+cond, args,
		func(sc scanner) error {
			var r providerRow
			if err := sc.Scan(r.dest()...); err != nil {
				return err
			}
			if err := r.finish(); err != nil {
				return err
			}
			byID[r.p.Organisation.ID] = r.p
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			items = append(items, p)
		}
	}
	if err := fillProviders(ctx, q, items); err != nil {
		return nil, err
	}
	return items, nil
}

// providerRow receives one row of providerColumns.
type providerRow struct {
	p                     market.Provider
	acc, studies, contact string
}

func (r *providerRow) dest() []any {
	l := &r.p.Listing
	return append(orgDest(&r.p.Organisation),
		&l.Summary, &l.Size, &l.DayRateMinPence, &l.DayRateMaxPence,
		&r.acc, &r.studies, &r.contact, &l.Version, timeCol{&l.UpdatedAt})
}

func (r *providerRow) finish() error {
	return fromListingJSON(&r.p.Listing, r.acc, r.studies, r.contact)
}

// fillProviders loads the identifier, region and capability rows of ps.
func fillProviders(ctx context.Context, q Queryer, ps []market.Provider) error {
	orgs := make(map[string]*market.Organisation, len(ps))
	ls := make(map[string]*market.Listing, len(ps))
	for i := range ps {
		orgs[ps[i].Organisation.ID] = &ps[i].Organisation
		ls[ps[i].Organisation.ID] = &ps[i].Listing
	}
	if err := loadOrgParts(ctx, q, orgs); err != nil {
		return err
	}
	return loadListingParts(ctx, q, ls)
}

// GetProvider returns an active supplier with its listing.
func (s *ProviderStore) GetProvider(ctx context.Context, id string) (market.Provider, error) {
	p, err := s.getProvider(ctx, s.db, id, true)
	if err != nil {
		return market.Provider{}, s.db.translate(err)
	}
	return p, nil
}

func (s *ProviderStore) getProvider(ctx context.Context, q Queryer, id string, activeOnly bool) (market.Provider, error) {
	items, err := getProviders(ctx, q, []string{id}, activeOnly)
	if err != nil {
		return market.Provider{}, err
	}
	if len(items) == 0 {
		return market.Provider{}, market.Errorf(market.ENOTFOUND, "No provider %q.", id)
	}
	return items[0], nil
}

// UpdateListing replaces the listing of supplier id, with its capability and
// region rows and its search text, when its version is still ifVersion. The
// version check and the bump are one UPDATE, so of two writers holding the
// same version exactly one succeeds. Every supplier has a listing row from
// its creation (market.EmptyListing until it writes one), so a first edit
// is this same update of version 1.
func (s *ProviderStore) UpdateListing(ctx context.Context, id string, l market.Listing, ifVersion int64) (market.Provider, error) {
	var p market.Provider
	err := s.db.InTx(ctx, func(tx *Tx) error {
		row := toListingRow(&l)
		res, err := tx.ExecContext(ctx, `UPDATE listings SET summary = ?, size = ?,
			day_rate_min_pence = ?, day_rate_max_pence = ?, accreditations = ?, case_studies = ?,
			contact = ?, search_capabilities = ?, search_case_studies = ?,
			version = version + 1, updated_at = ?
			WHERE org_id = ? AND version = ?`,
			l.Summary, string(l.Size), l.DayRateMinPence, l.DayRateMaxPence, row.accreditations,
			row.caseStudies, row.contact, row.searchCapabilities, row.searchCaseStudies,
			s.db.timeArg(now(s.clock)), id, ifVersion)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var current int64
			err := tx.QueryRowContext(ctx, `SELECT version FROM listings WHERE org_id = ?`, id).Scan(&current)
			if isNoRows(err) {
				return market.Errorf(market.ENOTFOUND, "No provider %q.", id)
			} else if err != nil {
				return err
			}
			return market.Errorf(market.EPRECONDITION, "The listing has changed since version %d; it is now at version %d.", ifVersion, current)
		}
		for _, table := range []string{"listing_capabilities", "listing_regions"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE org_id = ?", id); err != nil {
				return err
			}
		}
		if err := writeListingParts(s.db.inserter(ctx, tx), []string{id}, []*market.Listing{&l}); err != nil {
			return err
		}
		p, err = s.getProvider(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return market.Provider{}, s.db.translate(err)
	}
	return p, nil
}

// listQuery builds the page query of ListProviders: the filters, the
// keyset condition after the cursor's keys, and one row more than a page.
func (s *ProviderStore) listQuery(f market.ProviderFilter, terms, after []string, pageSize int) (string, []any, error) {
	var (
		b    strings.Builder
		args []any
	)
	// score is the relevance of a row, higher first. On PostgreSQL it is
	// computed in the outer query, so only for rows that pass the filters.
	score := "s.score"
	switch {
	case len(terms) == 0:
		b.WriteString("SELECT o.id, o.name_key FROM organisations o JOIN listings l ON l.org_id = o.id")
	case s.db.engine == EnginePostgres:
		score = "ts_rank(l.search, tq)::float8"
		b.WriteString("SELECT o.id, " + score + ` FROM to_tsquery('english', ?) tq
			JOIN listings l ON l.search @@ tq JOIN organisations o ON o.id = l.org_id`)
		args = append(args, tsQueryPostgres(terms))
	default:
		b.WriteString(`SELECT o.id, s.score FROM (SELECT rowid AS lid, -bm25(listing_fts, 10.0, 5.0, 2.0, 1.0) AS score
			FROM listing_fts WHERE listing_fts MATCH ?) s
			JOIN listings l ON l.lid = s.lid JOIN organisations o ON o.id = l.org_id`)
		args = append(args, ftsQuerySQLite(terms))
	}
	b.WriteString(" WHERE " + inDirectory)
	if f.Sector != "" {
		b.WriteString(" AND o.sector = ?")
		args = append(args, string(f.Sector))
	}
	if f.Size != "" {
		b.WriteString(" AND l.size = ?")
		args = append(args, string(f.Size))
	}
	if f.Capability != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM listing_capabilities lc WHERE lc.org_id = o.id AND lc.capability = ?)")
		args = append(args, f.Capability)
	}
	if f.Region != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM listing_regions lr WHERE lr.org_id = o.id AND lr.region = ?)")
		args = append(args, f.Region)
	}
	if len(terms) > 0 {
		if after != nil {
			last, err := strconv.ParseFloat(after[0], 64)
			if err != nil || math.IsNaN(last) || math.IsInf(last, 0) {
				return "", nil, market.Invalid("cursor", "is not a cursor this API gave out")
			}
			b.WriteString(" AND (" + score + " < ? OR (" + score + " = ? AND o.id > ?))")
			args = append(args, last, last, after[1])
		}
		b.WriteString(" ORDER BY " + score + " DESC, o.id")
	} else {
		if after != nil {
			// A row-value comparison, which both planners turn into one
			// index range.
			b.WriteString(" AND (o.name_key, o.id) > (?, ?)")
			args = append(args, after[0], after[1])
		}
		b.WriteString(" ORDER BY o.name_key, o.id")
	}
	b.WriteString(" LIMIT ?")
	args = append(args, pageSize+1)

	return b.String(), args, nil
}
