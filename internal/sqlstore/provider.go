package sqlstore

import (
	"cmp"
	"context"
	"math"
	"slices"
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

// searchWindow is how many matches a search ranks at once. Ranking costs
// the engines' relevance function on every row ranked, so a search ranks
// the searchWindow newest matching listings (by lid), pages through them
// by relevance, then ranks the next window of older ones: a common word
// costs what a rare one does, and every match is reached by paging. A
// search with no more matches than this ranks them all at once, as one
// ordering by relevance.
const searchWindow = 500

// ListProviders returns one page of active suppliers matching f. Without
// search terms they are ordered by name then ID; with terms, by relevance
// then ID, within windows of searchWindow matches, newest first. A q with
// no words in it (only punctuation) filters nothing.
func (s *ProviderStore) ListProviders(ctx context.Context, f market.ProviderFilter) (market.ProviderPage, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)
	terms := searchTerms(f.Q)
	var (
		page market.ProviderPage
		ids  []string
		err  error
	)
	if len(terms) > 0 {
		ids, page.NextCursor, err = s.search(ctx, f, terms, pageSize)
	} else {
		ids, page.NextCursor, err = s.byName(ctx, f, pageSize)
	}
	if err != nil {
		return market.ProviderPage{}, err
	}
	page.Items, err = getProviders(ctx, s.db, ids, true)
	if err != nil {
		return market.ProviderPage{}, s.db.translate(err)
	}
	return page, nil
}

// byName finds the IDs of a page in name order, and the next cursor. The
// page is found on the sort keys alone; its rows are read after, by ID.
func (s *ProviderStore) byName(ctx context.Context, f market.ProviderFilter, pageSize int) ([]string, string, error) {
	query, args, err := s.nameQuery(f, pageSize)
	if err != nil {
		return nil, "", err
	}
	var ids, keys []string
	err = eachRow(ctx, s.db, query, args, func(sc scanner) error {
		var id, nameKey string
		if err := sc.Scan(&id, &nameKey); err != nil {
			return err
		}
		ids = append(ids, id)
		keys = append(keys, nameKey)
		return nil
	})
	if err != nil {
		return nil, "", s.db.translate(err)
	}
	if len(ids) <= pageSize {
		return ids, "", nil
	}
	return ids[:pageSize], market.EncodeCursor(cursorByName, keys[pageSize-1], ids[pageSize-1]), nil
}

// nameQuery builds the page query of byName: the filters, the keyset
// condition after f's cursor, and one row more than a page.
func (s *ProviderStore) nameQuery(f market.ProviderFilter, pageSize int) (string, []any, error) {
	var after []string
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		if len(keys) != 3 || keys[0] != cursorByName {
			return "", nil, market.Invalid("cursor", "does not belong to this search")
		}
		after = keys[1:]
	}
	var b strings.Builder
	b.WriteString("SELECT o.id, o.name_key FROM organisations o JOIN listings l ON l.org_id = o.id WHERE " + inDirectory)
	args := filterSQL(&b, f)
	if after != nil {
		// A row-value comparison, which both planners turn into one
		// index range.
		b.WriteString(" AND (o.name_key, o.id) > (?, ?)")
		args = append(args, after[0], after[1])
	}
	b.WriteString(" ORDER BY o.name_key, o.id LIMIT ?")
	args = append(args, pageSize+1)
	return b.String(), args, nil
}

// filterSQL writes f's filters on organisations o and listings l, each
// after " AND ", and returns their arguments.
func filterSQL(b *strings.Builder, f market.ProviderFilter) []any {
	var args []any
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
	return args
}

// searchAfter is where a page of a search starts: in the window of
// listings below lid hi (0: the newest window), after the row of score and
// id (none when !set).
type searchAfter struct {
	hi    int64
	set   bool
	score float64
	id    string
}

// decodeSearchCursor reads a search cursor: "r", the window, the score and
// the ID of the last row. A cursor of before windows ("r", score, ID) is
// read as one in the newest window.
func decodeSearchCursor(cursor string) (searchAfter, error) {
	if cursor == "" {
		return searchAfter{}, nil
	}
	keys, err := market.DecodeCursor(cursor)
	if err != nil {
		return searchAfter{}, err
	}
	if len(keys) < 3 || len(keys) > 4 || keys[0] != cursorByScore {
		return searchAfter{}, market.Invalid("cursor", "does not belong to this search")
	}
	bad := market.Invalid("cursor", "is not a cursor this API gave out")
	a := searchAfter{set: true, id: keys[len(keys)-1]}
	if len(keys) == 4 {
		if a.hi, err = strconv.ParseInt(keys[1], 10, 64); err != nil || a.hi < 0 {
			return searchAfter{}, bad
		}
	}
	a.score, err = strconv.ParseFloat(keys[len(keys)-2], 64)
	if err != nil || math.IsNaN(a.score) || math.IsInf(a.score, 0) {
		return searchAfter{}, bad
	}
	return a, nil
}

// pgLiteral quotes s as a PostgreSQL string literal.
func pgLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// candidate is a match of a search window: its listing, its relevance,
// and its organisation's ID when it is in the directory and passes the
// filters ("" otherwise).
type candidate struct {
	lid   int64
	score float64
	id    string
}

// search finds the IDs of a page of a search, window after window until
// the page is full or the matches run out, and the next cursor.
func (s *ProviderStore) search(ctx context.Context, f market.ProviderFilter, terms []string, pageSize int) ([]string, string, error) {
	after, err := decodeSearchCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var (
		page []candidate
		his  []int64 // the window of each row of page
	)
	for {
		query, args := s.windowQuery(f, terms, after.hi)
		var cands []candidate
		var raw int
		lowest := int64(math.MaxInt64)
		err := eachRow(ctx, s.db, query, args, func(sc scanner) error {
			var c candidate
			if err := sc.Scan(&c.lid, &c.score, &c.id); err != nil {
				return err
			}
			raw++
			lowest = min(lowest, c.lid)
			if c.id != "" {
				cands = append(cands, c)
			}
			return nil
		})
		if err != nil {
			return nil, "", s.db.translate(err)
		}
		slices.SortFunc(cands, func(a, b candidate) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		for _, c := range cands {
			if after.set && (c.score > after.score || (c.score == after.score && c.id <= after.id)) {
				continue
			}
			page = append(page, c)
			his = append(his, after.hi)
			if len(page) > pageSize {
				break
			}
		}
		if len(page) > pageSize || raw < searchWindow {
			break
		}
		after = searchAfter{hi: lowest}
	}
	ids := make([]string, 0, min(len(page), pageSize))
	for _, c := range page[:min(len(page), pageSize)] {
		ids = append(ids, c.id)
	}
	if len(page) <= pageSize {
		return ids, "", nil
	}
	last := page[pageSize-1]
	// The shortest form that parses back to the same float64, so the next
	// page starts exactly after this row.
	return ids, market.EncodeCursor(cursorByScore, strconv.FormatInt(his[pageSize-1], 10),
		strconv.FormatFloat(last.score, 'g', -1, 64), last.id), nil
}

// windowQuery builds the query of one window of a search: the
// searchWindow newest listings below lid hi (any, when 0) that match the
// terms and carry the filters' facets, each with its relevance and, when
// it is in the directory and passes the filters, its organisation's ID.
// Only the window is ranked: the relevance function runs on its rows
// alone.
func (s *ProviderStore) windowQuery(f market.ProviderFilter, terms []string, hi int64) (string, []any) {
	var (
		b    strings.Builder
		args []any
	)
	var caps, regions []string
	if f.Capability != "" {
		caps = []string{f.Capability}
	}
	if f.Region != "" {
		regions = []string{f.Region}
	}
	facets := facetTokens(f.Sector, f.Size, caps, regions)
	if s.db.engine == EnginePostgres {
		// The window's terms, facets and bounds are written into the
		// statement, not bound: a prepared statement's generic plan knows
		// neither how common the words are nor how small the window is,
		// and picks one plan for all (ranking every match of a common word,
		// or reading every listing for a rare one), where the planner,
		// told, reads the newest listings until the window fills or ranks
		// the few matches of a rare word. The terms and facets hold
		// letters, digits, ':' and '_' only (searchTerms, validated keys),
		// and quotes are doubled all the same.
		tq := pgLiteral(tsQueryPostgres(terms))
		b.WriteString(`SELECT l.lid, ts_rank(l.search, to_tsquery('english', ` + tq + `))::float8, COALESCE(o.id, '')
			FROM (SELECT lid FROM listings WHERE search @@ to_tsquery('english', ` + tq + `)`)
		if len(facets) > 0 {
			quoted := make([]string, len(facets))
			for i, f := range facets {
				quoted[i] = pgLiteral(f)
			}
			b.WriteString(" AND string_to_array(search_facets, ' ') @> ARRAY[" + strings.Join(quoted, ", ") + "]::text[]")
		}
		if hi > 0 {
			b.WriteString(" AND lid < " + strconv.FormatInt(hi, 10))
		}
		b.WriteString(" ORDER BY lid DESC LIMIT " + strconv.Itoa(searchWindow) + ") w")
	} else {
		b.WriteString(`SELECT w.lid, w.score, COALESCE(o.id, '')
			FROM (SELECT rowid AS lid, -bm25(listing_fts, 10.0, 5.0, 2.0, 1.0) AS score
				FROM listing_fts WHERE listing_fts MATCH ?`)
		args = append(args, ftsQuerySQLite(terms))
		if len(facets) > 0 {
			// The facets' rows are looked up, not given to FTS5 as the
			// rows to search (the unary +), which would run the text
			// query once for each and lose the rowid order.
			b.WriteString(" AND +rowid IN (SELECT rowid FROM listing_facets WHERE listing_facets MATCH ?)")
			args = append(args, ftsFacetsSQLite(facets))
		}
		if hi > 0 {
			b.WriteString(" AND rowid < ?")
			args = append(args, hi)
		}
		b.WriteString(" ORDER BY rowid DESC LIMIT ?) w")
		args = append(args, searchWindow)
	}
	// The filters are tested again on the window's rows: the facets find
	// them, the tables decide.
	b.WriteString(" JOIN listings l ON l.lid = w.lid LEFT JOIN organisations o ON o.id = l.org_id AND " + inDirectory)
	args = append(args, filterSQL(&b, f)...)
	return b.String(), args
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
		var sector market.Sector
		err := tx.QueryRowContext(ctx, "SELECT sector FROM organisations WHERE id = ? AND kind = 'supplier'", id).Scan(&sector)
		if isNoRows(err) {
			return market.Errorf(market.ENOTFOUND, "No provider %q.", id)
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE listings SET summary = ?, size = ?,
			day_rate_min_pence = ?, day_rate_max_pence = ?, accreditations = ?, case_studies = ?,
			contact = ?, search_capabilities = ?, search_case_studies = ?, search_facets = ?,
			version = version + 1, updated_at = ?
			WHERE org_id = ? AND version = ?`,
			l.Summary, string(l.Size), l.DayRateMinPence, l.DayRateMaxPence, row.accreditations,
			row.caseStudies, row.contact, row.searchCapabilities, row.searchCaseStudies, searchFacets(sector, &l),
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
