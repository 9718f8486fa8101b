package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// OrganisationStore keeps organisations; registration and seeding use it.
type OrganisationStore struct {
	db    *DB
	clock market.Clock
}

var _ market.OrganisationStore = (*OrganisationStore)(nil)

// NewOrganisationStore returns the organisations kept in db.
func NewOrganisationStore(db *DB, clock market.Clock) *OrganisationStore {
	return &OrganisationStore{db: db, clock: clock}
}

// CreateOrganisation stores o, its identifiers and regions, and for a
// supplier its listing (l, or market.EmptyListing when l is nil), in one
// transaction. On success it sets o.ID, the timestamps, a default status
// of active, and l's version (1) and time.
func (s *OrganisationStore) CreateOrganisation(ctx context.Context, o *market.Organisation, l *market.Listing) error {
	if l != nil && o.Kind != market.KindSupplier {
		return market.Invalid("listing", "only a supplier has a listing")
	}
	org, listing := s.prepare(o, l, now(s.clock))
	ls := listingsOf(&org, &listing)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		ins := s.db.inserter(ctx, tx)
		if err := writeOrganisations(ins, s.db.timeArg, []*market.Organisation{&org}); err != nil {
			return err
		}
		return writeListings(ins, s.db.timeArg, []*market.Organisation{&org}, ls)
	})
	if err != nil {
		return s.conflict(ctx, s.db.translate(err), []*market.Organisation{&org})
	}
	*o = org
	if l != nil {
		*l = listing
	}
	return nil
}

// prepare returns copies of o and its listing as they will be stored: l,
// or for a supplier given none market.EmptyListing, so that every
// supplier is in the directory from the start.
func (s *OrganisationStore) prepare(o *market.Organisation, l *market.Listing, t time.Time) (market.Organisation, market.Listing) {
	org := *o
	org.ID = newID()
	org.CreatedAt, org.UpdatedAt = t, t
	if org.Status == "" {
		org.Status = market.StatusActive
	}
	var listing market.Listing
	switch {
	case l != nil:
		listing = *l
	case org.Kind == market.KindSupplier:
		listing = market.EmptyListing(org)
	default:
		return org, listing
	}
	listing.Version = 1
	listing.UpdatedAt = t
	return org, listing
}

// listingsOf is what writeListings stores for org prepared with listing:
// a supplier's listing, and nothing for other kinds.
func listingsOf(org *market.Organisation, listing *market.Listing) []*market.Listing {
	if org.Kind != market.KindSupplier {
		return nil
	}
	return []*market.Listing{listing}
}

// conflict names the identifier behind a unique violation, which the
// engines report only by constraint. It runs after the failed transaction
// has been rolled back, so it sees what stood in the way.
func (s *OrganisationStore) conflict(ctx context.Context, err error, orgs []*market.Organisation) error {
	if market.ErrorCode(err) != market.ECONFLICT {
		return err
	}
	var ids []market.Identifier
	for _, o := range orgs {
		ids = append(ids, o.Identifiers...)
	}
	const per = 400
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, id.Scheme, id.ID)
		}
		var found market.Identifier
		qerr := s.db.QueryRowContext(ctx, `SELECT scheme, ident FROM organisation_identifiers
			WHERE (scheme, ident) IN (VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")+`)
			LIMIT 1`, args...).Scan(&found.Scheme, &found.ID)
		if qerr == nil {
			return identifierConflict(found, orgs)
		} else if !isNoRows(qerr) {
			break
		}
	}
	return market.Errorf(market.ECONFLICT, "An identifier is already registered.")
}

// identifierConflict names the taken identifier; for a single organisation
// (a registration) it also names the request field that holds it.
func identifierConflict(found market.Identifier, orgs []*market.Organisation) error {
	e := market.Errorf(market.ECONFLICT, "Identifier %s is already registered.", found)
	if len(orgs) == 1 {
		for i, id := range orgs[0].Identifiers {
			if id == found {
				e.Fields = []market.FieldError{{Field: fmt.Sprintf("organisation.identifiers[%d]", i), Message: "is already registered"}}
			}
		}
	}
	return e
}

// ImportProviders stores many suppliers with their listings in one
// transaction: on PostgreSQL with COPY, on SQLite with multi-row INSERTs.
// Nothing is stored when any identifier is taken or given twice. On
// success it sets each provider's IDs, timestamps and listing version.
func (s *OrganisationStore) ImportProviders(ctx context.Context, ps []market.Provider) error {
	if len(ps) == 0 {
		return nil
	}
	t := now(s.clock)
	orgs := make([]market.Organisation, len(ps))
	listings := make([]market.Listing, len(ps))
	orgPtrs := make([]*market.Organisation, len(ps))
	listingPtrs := make([]*market.Listing, len(ps))
	seen := make(map[market.Identifier]bool, len(ps))
	for i := range ps {
		if k := ps[i].Organisation.Kind; k != "" && k != market.KindSupplier {
			return market.Invalid(fmt.Sprintf("providers[%d].kind", i), "must be supplier")
		}
		orgs[i], listings[i] = s.prepare(&ps[i].Organisation, &ps[i].Listing, t)
		orgs[i].Kind = market.KindSupplier
		for _, id := range orgs[i].Identifiers {
			if seen[id] {
				return market.Errorf(market.ECONFLICT, "Identifier %s is given twice.", id)
			}
			seen[id] = true
		}
		orgPtrs[i], listingPtrs[i] = &orgs[i], &listings[i]
	}

	var err error
	if s.db.engine == EnginePostgres {
		err = s.db.inPgxTx(ctx, func(ins bulkInsert) error {
			if err := writeOrganisations(ins, s.db.timeArg, orgPtrs); err != nil {
				return err
			}
			return writeListings(ins, s.db.timeArg, orgPtrs, listingPtrs)
		})
	} else {
		err = s.db.InTx(ctx, func(tx *Tx) error {
			ins := s.db.inserter(ctx, tx)
			if err := writeOrganisations(ins, s.db.timeArg, orgPtrs); err != nil {
				return err
			}
			return writeListings(ins, s.db.timeArg, orgPtrs, listingPtrs)
		})
	}
	if err != nil {
		return s.conflict(ctx, s.db.translate(err), orgPtrs)
	}
	// Fresh statistics, or the planners may not see that the directory
	// indexes now cover many rows.
	if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
		return s.db.translate(err)
	}
	for i := range ps {
		ps[i].Organisation, ps[i].Listing = orgs[i], listings[i]
	}
	return nil
}

// GetOrganisation returns any organisation, whatever its kind or status.
func (s *OrganisationStore) GetOrganisation(ctx context.Context, id string) (market.Organisation, error) {
	var o market.Organisation
	err := s.db.QueryRowContext(ctx, "SELECT "+orgColumns+" FROM organisations o WHERE o.id = ?", id).Scan(orgDest(&o)...)
	if isNoRows(err) {
		return market.Organisation{}, market.Errorf(market.ENOTFOUND, "No organisation %q.", id)
	} else if err != nil {
		return market.Organisation{}, s.db.translate(err)
	}
	if err := loadOrgParts(ctx, s.db, map[string]*market.Organisation{o.ID: &o}); err != nil {
		return market.Organisation{}, s.db.translate(err)
	}
	return o, nil
}

// orgBatch is how many organisations one statement of GetOrganisations
// reads, well within either engine's limit on bound parameters.
const orgBatch = 500

// GetOrganisations returns the organisations of ids that exist, whatever
// their kind or status, orgBatch to a statement.
func (s *OrganisationStore) GetOrganisations(ctx context.Context, ids []string) (map[string]market.Organisation, error) {
	byID := make(map[string]*market.Organisation, len(ids))
	for part := range slices.Chunk(ids, orgBatch) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		err := eachRow(ctx, s.db, "SELECT "+orgColumns+" FROM organisations o WHERE o.id IN ("+placeholders(len(part))+")", args,
			func(sc scanner) error {
				o := new(market.Organisation)
				if err := sc.Scan(orgDest(o)...); err != nil {
					return err
				}
				byID[o.ID] = o
				return nil
			})
		if err != nil {
			return nil, s.db.translate(err)
		}
	}
	if err := loadOrgParts(ctx, s.db, byID); err != nil {
		return nil, s.db.translate(err)
	}
	out := make(map[string]market.Organisation, len(byID))
	for id, o := range byID {
		out[id] = *o
	}
	return out, nil
}

// CountOrganisations returns how many organisations of kind are stored,
// whatever their status; an empty kind counts them all.
func (s *OrganisationStore) CountOrganisations(ctx context.Context, kind market.OrgKind) (int, error) {
	var n int
	var err error
	if kind == "" {
		err = s.db.QueryRowContext(ctx, "SELECT count(*) FROM organisations").Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, "SELECT count(*) FROM organisations WHERE kind = ?", string(kind)).Scan(&n)
	}
	if err != nil {
		return 0, s.db.translate(err)
	}
	return n, nil
}

// bulkInsert writes n rows into table, row(i) giving row i's values in the
// order of cols. It is a multi-row INSERT or a COPY, by engine.
type bulkInsert func(table string, cols []string, n int, row func(i int) []any) error

// inserter returns a bulkInsert of multi-row INSERTs on q.
func (db *DB) inserter(ctx context.Context, q Queryer) bulkInsert {
	return func(table string, cols []string, n int, row func(i int) []any) error {
		return insertRows(ctx, q, table, cols, n, row)
	}
}

// inPgxTx runs fn in a pgx transaction on one pooled connection, with a
// bulkInsert that uses COPY, many times faster than INSERT for large loads.
func (db *DB) inPgxTx(ctx context.Context, fn func(ins bulkInsert) error) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: driver connection is %T, not pgx", driverConn)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
		ins := func(table string, cols []string, n int, row func(i int) []any) error {
			if n == 0 {
				return nil
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				return row(i), nil
			}))
			return err
		}
		if err := fn(ins); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// writeOrganisations writes the rows of orgs: organisation, identifiers,
// regions.
func writeOrganisations(ins bulkInsert, timeArg func(time.Time) any, orgs []*market.Organisation) error {
	err := ins("organisations", []string{"id", "kind", "name", "name_key", "status", "sector",
		"population", "running_cost_allowance_per_head_pence", "created_at", "updated_at"}, len(orgs),
		func(i int) []any {
			o := orgs[i]
			return []any{o.ID, string(o.Kind), o.Name, nameKey(o.Name), string(o.Status), string(o.Sector),
				o.Population, o.RunningCostAllowancePerHeadPence, timeArg(o.CreatedAt), timeArg(o.UpdatedAt)}
		})
	if err != nil {
		return err
	}
	type ref struct {
		o *market.Organisation
		i int
	}
	var ids, regions []ref
	for _, o := range orgs {
		for i := range o.Identifiers {
			ids = append(ids, ref{o, i})
		}
		for i := range o.Regions {
			regions = append(regions, ref{o, i})
		}
	}
	err = ins("organisation_identifiers", []string{"org_id", "position", "scheme", "ident"}, len(ids), func(i int) []any {
		r := ids[i]
		return []any{r.o.ID, r.i, r.o.Identifiers[r.i].Scheme, r.o.Identifiers[r.i].ID}
	})
	if err != nil {
		return err
	}
	return ins("organisation_regions", []string{"org_id", "position", "region"}, len(regions), func(i int) []any {
		r := regions[i]
		return []any{r.o.ID, r.i, r.o.Regions[r.i]}
	})
}

// writeListings writes the rows of listings ls[i] of organisations orgs[i]:
// listing (with its search text), capabilities, regions.
func writeListings(ins bulkInsert, timeArg func(time.Time) any, orgs []*market.Organisation, ls []*market.Listing) error {
	err := ins("listings", []string{"org_id", "summary", "size", "day_rate_min_pence", "day_rate_max_pence",
		"accreditations", "case_studies", "contact", "search_name", "search_capabilities",
		"search_case_studies", "search_facets", "version", "updated_at"}, len(ls),
		func(i int) []any {
			o, l := orgs[i], ls[i]
			r := toListingRow(l)
			return []any{o.ID, l.Summary, string(l.Size), l.DayRateMinPence, l.DayRateMaxPence,
				r.accreditations, r.caseStudies, r.contact, o.Name, r.searchCapabilities,
				r.searchCaseStudies, searchFacets(o.Sector, l), l.Version, timeArg(l.UpdatedAt)}
		})
	if err != nil {
		return err
	}
	ids := make([]string, len(ls))
	for i := range ls {
		ids[i] = orgs[i].ID
	}
	return writeListingParts(ins, ids, ls)
}

// writeListingParts writes the capability and region rows of listings
// ls[i] of organisations orgIDs[i].
func writeListingParts(ins bulkInsert, orgIDs []string, ls []*market.Listing) error {
	type ref struct{ l, i int }
	var caps, regions []ref
	for li, l := range ls {
		for i := range l.Capabilities {
			caps = append(caps, ref{li, i})
		}
		for i := range l.Regions {
			regions = append(regions, ref{li, i})
		}
	}
	err := ins("listing_capabilities", []string{"org_id", "position", "capability"}, len(caps), func(i int) []any {
		r := caps[i]
		return []any{orgIDs[r.l], r.i, ls[r.l].Capabilities[r.i]}
	})
	if err != nil {
		return err
	}
	return ins("listing_regions", []string{"org_id", "position", "region"}, len(regions), func(i int) []any {
		r := regions[i]
		return []any{orgIDs[r.l], r.i, ls[r.l].Regions[r.i]}
	})
}
