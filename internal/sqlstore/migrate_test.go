package sqlstore_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestMigrateEmptyListings migrates a directory written before every
// supplier had a listing: a supplier registered without one gets an empty
// listing in its organisation's regions and joins the directory, and the
// listings already there (rebuilt on SQLite) keep their rows and stay
// searchable.
func TestMigrateEmptyListings(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db, err := sqlstore.Open(ctx, sqlstoretest.MustURL(t, engine))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := sqlstore.MigrateTo(ctx, db, 6); err != nil {
				t.Fatalf("MigrateTo(6): %v", err)
			}
			at := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
			exec := func(query string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, query, args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			}
			org := func(id, kind, name, sector string, regions ...string) {
				exec(`INSERT INTO organisations (id, kind, name, name_key, status, sector, created_at, updated_at)
					VALUES (?, ?, ?, ?, 'active', ?, ?, ?)`, id, kind, name, name, sector, dbTime(db, at), dbTime(db, at))
				for i, r := range regions {
					exec(`INSERT INTO organisation_regions (org_id, position, region) VALUES (?, ?, ?)`, id, i, r)
				}
			}
			const listless, listed, ccg = "0190f000-0000-7000-8000-0000000000a1", "0190f000-0000-7000-8000-0000000000a2", "0190f000-0000-7000-8000-0000000000a3"
			org(listless, "supplier", "Listless Community Trust", "third_sector", "north_west", "london")
			org(listed, "supplier", "Quokka Analytics Ltd", "independent", "midlands")
			org(ccg, "buyer", "NHS Legacy CCG", "", "midlands")
			exec(`INSERT INTO listings (org_id, summary, size, day_rate_min_pence, day_rate_max_pence,
				search_name, search_capabilities, version, updated_at) VALUES (?, 'Marsupial benchmarking.', 'small', 100, 200,
				'Quokka Analytics Ltd', 'Finance', 3, ?)`, listed, dbTime(db, at.Add(time.Hour)))
			exec(`INSERT INTO listing_capabilities (org_id, position, capability) VALUES (?, 0, 'finance')`, listed)
			exec(`INSERT INTO listing_regions (org_id, position, region) VALUES (?, 0, 'midlands')`, listed)

			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			clock := &testClock{t: at.Add(24 * time.Hour)}
			ps := sqlstore.NewProviderStore(db, clock)
			found := func(t *testing.T, id string, f market.ProviderFilter) bool {
				t.Helper()
				f.PageSize = 100
				page, err := ps.ListProviders(ctx, f)
				if err != nil {
					t.Fatalf("ListProviders(%+v): %v", f, err)
				}
				return slices.ContainsFunc(page.Items, func(p market.Provider) bool { return p.Organisation.ID == id })
			}

			t.Run("ListlessSupplierListed", func(t *testing.T) {
				p, err := ps.GetProvider(ctx, listless)
				if err != nil {
					t.Fatalf("GetProvider: %v", err)
				}
				want := market.Listing{Capabilities: []string{}, Regions: []string{"north_west", "london"},
					Accreditations: []string{}, CaseStudies: []market.CaseStudy{}, Version: 1, UpdatedAt: at}
				if !reflect.DeepEqual(p.Listing, want) {
					t.Errorf("listing %+v, want %+v", p.Listing, want)
				}
				for _, f := range []market.ProviderFilter{{Q: "listless"}, {Sector: market.SectorThirdSector}, {Region: "north_west"},
					{Q: "listless", Sector: market.SectorThirdSector}, {Q: "listless", Region: "london"}} {
					if !found(t, listless, f) {
						t.Errorf("not found by %+v", f)
					}
				}
			})
			t.Run("ListingKept", func(t *testing.T) {
				p, err := ps.GetProvider(ctx, listed)
				if err != nil {
					t.Fatalf("GetProvider: %v", err)
				}
				l := p.Listing
				if l.Summary != "Marsupial benchmarking." || l.Size != market.SizeSmall || l.Version != 3 ||
					!slices.Equal(l.Capabilities, []string{"finance"}) || !slices.Equal(l.Regions, []string{"midlands"}) {
					t.Errorf("listing %+v changed", l)
				}
				for _, f := range []market.ProviderFilter{{Q: "marsupial"}, {Q: "quokka"}, {Capability: "finance"}, {Region: "midlands"}, {Size: market.SizeSmall},
					// A search with filters finds its matches by the facets
					// the migration to windows wrote.
					{Q: "quokka", Capability: "finance", Region: "midlands", Size: market.SizeSmall, Sector: market.SectorIndependent}} {
					if !found(t, listed, f) {
						t.Errorf("not found by %+v", f)
					}
				}
			})
			t.Run("NoListingForABuyer", func(t *testing.T) {
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM listings WHERE org_id = ?", ccg).Scan(&n); err != nil || n != 0 {
					t.Errorf("%d listing rows for the buyer (%v), want none", n, err)
				}
			})
			t.Run("WritesAfter", func(t *testing.T) {
				l := market.Listing{Summary: "Wombat workforce planning.", Capabilities: []string{"hr_od"}, Regions: []string{"london"}, Size: market.SizeMicro}
				if p, err := ps.UpdateListing(ctx, listless, l, 1); err != nil || p.Listing.Version != 2 {
					t.Fatalf("first edit = version %d, %v; want 2", p.Listing.Version, err)
				}
				o, nl := supplier("Numbat Partners", "07777777")
				if err := sqlstore.NewOrganisationStore(db, clock).CreateOrganisation(ctx, &o, &nl); err != nil {
					t.Fatalf("CreateOrganisation: %v", err)
				}
				for id, q := range map[string]string{listless: "wombat", o.ID: "numbat"} {
					if !found(t, id, market.ProviderFilter{Q: q}) {
						t.Errorf("%s not found after the migration", q)
					}
				}
				if found(t, listless, market.ProviderFilter{Region: "north_west"}) || found(t, listless, market.ProviderFilter{Q: "wombat", Region: "north_west"}) {
					t.Errorf("the edited listing is still in its organisation's other region")
				}
				if !found(t, listless, market.ProviderFilter{Q: "wombat", Region: "london", Capability: "hr_od", Size: market.SizeMicro}) {
					t.Errorf("the edited listing is not found by its new facets")
				}
				if db.Engine() == sqlstore.EngineSQLite {
					for _, fts := range []string{"listing_fts", "listing_facets"} {
						if _, err := db.ExecContext(ctx, "INSERT INTO "+fts+" ("+fts+") VALUES ('integrity-check')"); err != nil {
							t.Errorf("full-text index %s: %v", fts, err)
						}
					}
					rows, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
					if err != nil {
						t.Fatal(err)
					}
					if rows.Next() {
						t.Errorf("foreign keys broken after the rebuild")
					}
					rows.Close()
				}
				_, err := db.ExecContext(ctx, "INSERT INTO listing_regions (org_id, position, region) VALUES (?, 9, 'london')", ccg)
				if err == nil {
					t.Errorf("a region row without a listing was stored: listing_regions lost its foreign key")
				}
			})
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		})
	}
}
