package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/google/uuid"
)

// newID returns a time-ordered ID (UUID v7), so that rows inserted together
// sit together in indexes.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// nameKey is the sort key of an organisation's name in the directory.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// maxParams keeps a multi-row statement under both engines' limits on bound
// parameters (SQLite 32766, PostgreSQL 65535) with room to spare.
const (
	maxParams    = 30000
	maxBatchRows = 500
)

// insertRows inserts n rows into table, row(i) giving the values of row i in
// the order of cols, with as few statements as the parameter limit allows.
func insertRows(ctx context.Context, q Queryer, table string, cols []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	per := min(maxBatchRows, maxParams/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	args := make([]any, 0, per*len(cols))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		var b strings.Builder
		b.Grow(len(head) + (end-start)*(len(one)+2))
		b.WriteString(head)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, row(i)...)
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// The JSON forms of the listing parts kept as text columns. The domain
// structs carry no tags, so the stored form is fixed here.
type (
	caseStudyJSON struct {
		Title   string `json:"title"`
		Client  string `json:"client,omitempty"`
		Summary string `json:"summary,omitempty"`
	}
	contactJSON struct {
		Name    string `json:"name,omitempty"`
		Email   string `json:"email,omitempty"`
		Phone   string `json:"phone,omitempty"`
		Website string `json:"website,omitempty"`
	}
)

// listingRow holds a listing's column values as stored.
type listingRow struct {
	accreditations, caseStudies, contact  string
	searchCapabilities, searchCaseStudies string
}

func toListingRow(l *market.Listing) listingRow {
	acc := l.Accreditations
	if acc == nil {
		acc = []string{}
	}
	cs := make([]caseStudyJSON, len(l.CaseStudies))
	var csText []string
	for i, c := range l.CaseStudies {
		cs[i] = caseStudyJSON(c)
		csText = append(csText, c.Title, c.Client, c.Summary)
	}
	var capText []string
	for _, key := range l.Capabilities {
		if c, ok := market.CapabilityByKey(key); ok {
			capText = append(capText, c.Name)
		}
	}
	return listingRow{
		accreditations:     mustJSON(acc),
		caseStudies:        mustJSON(cs),
		contact:            mustJSON(contactJSON(l.Contact)),
		searchCapabilities: strings.Join(capText, ". "),
		searchCaseStudies:  strings.Join(csText, ". "),
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain strings and structs of strings are marshalled
	}
	return string(b)
}

// fromListingJSON fills the JSON-kept parts of l.
func fromListingJSON(l *market.Listing, acc, cs, contact string) error {
	if err := json.Unmarshal([]byte(acc), &l.Accreditations); err != nil {
		return fmt.Errorf("sqlstore: listing accreditations: %w", err)
	}
	var studies []caseStudyJSON
	if err := json.Unmarshal([]byte(cs), &studies); err != nil {
		return fmt.Errorf("sqlstore: listing case studies: %w", err)
	}
	l.CaseStudies = make([]market.CaseStudy, len(studies))
	for i, s := range studies {
		l.CaseStudies[i] = market.CaseStudy(s)
	}
	var c contactJSON
	if err := json.Unmarshal([]byte(contact), &c); err != nil {
		return fmt.Errorf("sqlstore: listing contact: %w", err)
	}
	l.Contact = market.Contact(c)
	if l.Accreditations == nil {
		l.Accreditations = []string{}
	}
	return nil
}

// orgColumns are read by scanOrg, in this order, from organisations o.
const orgColumns = `o.id, o.kind, o.name, o.status, o.sector, o.population,
	o.running_cost_allowance_per_head_pence, o.created_at, o.updated_at`

type scanner interface{ Scan(dest ...any) error }

func orgDest(o *market.Organisation) []any {
	return []any{&o.ID, &o.Kind, &o.Name, &o.Status, &o.Sector, &o.Population,
		&o.RunningCostAllowancePerHeadPence, timeCol{&o.CreatedAt}, timeCol{&o.UpdatedAt}}
}

// loadOrgParts fills the identifiers and regions of orgs, keyed by ID.
func loadOrgParts(ctx context.Context, q Queryer, orgs map[string]*market.Organisation) error {
	if len(orgs) == 0 {
		return nil
	}
	ids := make([]any, 0, len(orgs))
	for id, o := range orgs {
		ids = append(ids, id)
		o.Identifiers = []market.Identifier{}
		o.Regions = []string{}
	}
	in := placeholders(len(ids))
	err := eachRow(ctx, q, `SELECT org_id, scheme, ident FROM organisation_identifiers
		WHERE org_id IN (`+in+`) ORDER BY org_id, position`, ids, func(s scanner) error {
		var id string
		var ident market.Identifier
		if err := s.Scan(&id, &ident.Scheme, &ident.ID); err != nil {
			return err
		}
		orgs[id].Identifiers = append(orgs[id].Identifiers, ident)
		return nil
	})
	if err != nil {
		return err
	}
	return eachRow(ctx, q, `SELECT org_id, region FROM organisation_regions
		WHERE org_id IN (`+in+`) ORDER BY org_id, position`, ids, func(s scanner) error {
		var id, region string
		if err := s.Scan(&id, &region); err != nil {
			return err
		}
		orgs[id].Regions = append(orgs[id].Regions, region)
		return nil
	})
}

// loadListingParts fills the capabilities and regions of listings, keyed
// by organisation ID.
func loadListingParts(ctx context.Context, q Queryer, ls map[string]*market.Listing) error {
	if len(ls) == 0 {
		return nil
	}
	ids := make([]any, 0, len(ls))
	for id, l := range ls {
		ids = append(ids, id)
		l.Capabilities = []string{}
		l.Regions = []string{}
	}
	in := placeholders(len(ids))
	err := eachRow(ctx, q, `SELECT org_id, capability FROM listing_capabilities
		WHERE org_id IN (`+in+`) ORDER BY org_id, position`, ids, func(s scanner) error {
		var id, c string
		if err := s.Scan(&id, &c); err != nil {
			return err
		}
		ls[id].Capabilities = append(ls[id].Capabilities, c)
		return nil
	})
	if err != nil {
		return err
	}
	return eachRow(ctx, q, `SELECT org_id, region FROM listing_regions
		WHERE org_id IN (`+in+`) ORDER BY org_id, position`, ids, func(s scanner) error {
		var id, r string
		if err := s.Scan(&id, &r); err != nil {
			return err
		}
		ls[id].Regions = append(ls[id].Regions, r)
		return nil
	})
}

// eachRow runs query and calls fn for each row.
func eachRow(ctx context.Context, q Queryer, query string, args []any, fn func(scanner) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
