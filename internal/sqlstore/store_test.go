package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

func TestPostgresConfigured(t *testing.T) {
	if os.Getenv(sqlstoretest.EnvDatabaseURL) == "" {
		t.Skipf("%s is not set: the store suite ran on SQLite only, PostgreSQL was skipped", sqlstoretest.EnvDatabaseURL)
	}
}

func TestOpen(t *testing.T) {
	t.Run("SQLiteForms", func(t *testing.T) {
		dir := t.TempDir()
		for i, form := range []string{"sqlite:%s/a/one.db", "sqlite://%s/b/two.db", "file:%s/c/three.db"} {
			path := strings.Replace(form, "%s", dir, 1)
			db, err := sqlstore.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open(%q): %v", path, err)
			}
			if db.Engine() != sqlstore.EngineSQLite {
				t.Errorf("Engine() = %q", db.Engine())
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			db.Close()
			file := filepath.Join(dir, string(rune('a'+i)), []string{"one.db", "two.db", "three.db"}[i])
			if _, err := os.Stat(file); err != nil {
				t.Errorf("Open(%q) made no file %s: %v", path, file, err)
			}
		}
	})
	t.Run("UnknownScheme", func(t *testing.T) {
		_, err := sqlstore.Open(t.Context(), "mysql://localhost/csmarket")
		if err == nil || !strings.Contains(err.Error(), "sqlite:PATH") || !strings.Contains(err.Error(), "postgres://") {
			t.Fatalf("Open(mysql://...) = %v, want an error naming the accepted forms", err)
		}
	})
	t.Run("PostgresUnreachable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, err := sqlstore.Open(ctx, "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
		if err == nil {
			t.Fatal("Open succeeded on a closed port")
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	})
}

func TestCreateAndGet(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		o, l := supplier("Bevan Community Trust", "01234567")
		in, inListing := o, l
		if err := s.o.CreateOrganisation(ctx, &o, &l); err != nil {
			t.Fatalf("CreateOrganisation: %v", err)
		}
		wantTime := s.clock.Now().Truncate(time.Microsecond)
		if o.ID == "" || o.Status != market.StatusActive || !o.CreatedAt.Equal(wantTime) || !o.UpdatedAt.Equal(wantTime) {
			t.Fatalf("created organisation %+v: want an ID, status active and times %v", o, wantTime)
		}
		if l.Version != 1 || !l.UpdatedAt.Equal(wantTime) {
			t.Fatalf("created listing version %d at %v, want 1 at %v", l.Version, l.UpdatedAt, wantTime)
		}

		got, err := s.p.GetProvider(ctx, o.ID)
		if err != nil {
			t.Fatalf("GetProvider: %v", err)
		}
		in.ID, in.Status, in.CreatedAt, in.UpdatedAt = o.ID, o.Status, o.CreatedAt, o.UpdatedAt
		inListing.Version, inListing.UpdatedAt = 1, l.UpdatedAt
		if !reflect.DeepEqual(got, market.Provider{Organisation: in, Listing: inListing}) {
			t.Errorf("GetProvider =\n%+v\nwant\n%+v", got, market.Provider{Organisation: in, Listing: inListing})
		}
		if got.Organisation.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt in %v, want UTC", got.Organisation.CreatedAt.Location())
		}
		org, err := s.o.GetOrganisation(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(org, in) {
			t.Errorf("GetOrganisation = %+v, %v; want %+v", org, err, in)
		}

		b := buyer("NHS Walsall CCG", "05Y")
		bIn := b
		if err := s.o.CreateOrganisation(ctx, &b, nil); err != nil {
			t.Fatalf("CreateOrganisation(buyer): %v", err)
		}
		bIn.ID, bIn.CreatedAt, bIn.UpdatedAt = b.ID, b.CreatedAt, b.UpdatedAt
		if got, err := s.o.GetOrganisation(ctx, b.ID); err != nil || !reflect.DeepEqual(got, bIn) {
			t.Errorf("GetOrganisation(buyer) = %+v, %v; want %+v", got, err, bIn)
		}
		if got.Organisation.RunningCostAllowancePerHeadPence != 0 {
			t.Errorf("supplier has an allowance")
		}

		pending, pl := supplier("Pending Partners", "02345678")
		pending.Status = market.StatusPending
		if err := s.o.CreateOrganisation(ctx, &pending, &pl); err != nil {
			t.Fatalf("CreateOrganisation(pending): %v", err)
		}
		for name, id := range map[string]string{"Unknown": "0190f000-0000-7000-8000-000000000000", "Buyer": b.ID, "Pending": pending.ID, "Empty": ""} {
			t.Run("GetProvider"+name, func(t *testing.T) {
				_, err := s.p.GetProvider(ctx, id)
				wantCode(t, err, market.ENOTFOUND)
			})
		}
		_, err = s.o.GetOrganisation(ctx, "no-such-id")
		wantCode(t, err, market.ENOTFOUND)

		for kind, want := range map[market.OrgKind]int{market.KindSupplier: 2, market.KindBuyer: 1, market.KindOperator: 0, "": 3} {
			if n, err := s.o.CountOrganisations(ctx, kind); err != nil || n != want {
				t.Errorf("CountOrganisations(%q) = %d, %v; want %d", kind, n, err, want)
			}
		}
		page, err := s.p.ListProviders(ctx, market.ProviderFilter{PageSize: 20})
		if err != nil || len(page.Items) != 1 || page.Items[0].Organisation.ID != o.ID || page.NextCursor != "" {
			t.Errorf("ListProviders = %+v, %v; want only the active supplier", page, err)
		}
	})
}

func TestCreateOrganisationConflict(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		first, fl := supplier("First Partners", "01234567")
		if err := s.o.CreateOrganisation(ctx, &first, &fl); err != nil {
			t.Fatal(err)
		}
		second, sl := supplier("Second Partners", "07654321")
		second.Identifiers[1] = first.Identifiers[1] // GB-CHC-1234567, already first's
		err := s.o.CreateOrganisation(ctx, &second, &sl)
		wantCode(t, err, market.ECONFLICT)
		if !strings.Contains(market.ErrorMessage(err), "GB-CHC-1234567") {
			t.Errorf("conflict message %q does not name GB-CHC-1234567", market.ErrorMessage(err))
		}
		if second.ID != "" {
			t.Errorf("a failed create set the ID %q", second.ID)
		}
		if n, _ := s.o.CountOrganisations(ctx, ""); n != 1 {
			t.Errorf("%d organisations after a failed create, want 1", n)
		}
		page, _ := s.p.ListProviders(ctx, market.ProviderFilter{Q: "Second", PageSize: 10})
		if len(page.Items) != 0 {
			t.Errorf("search finds the organisation whose create failed")
		}
		// The identifier that was free is still free.
		third, tl := supplier("Third Partners", "07654321")
		if err := s.o.CreateOrganisation(ctx, &third, &tl); err != nil {
			t.Errorf("identifiers of a failed create are still held: %v", err)
		}
		b := buyer("Listing Buyer", "05Y")
		wantCode(t, s.o.CreateOrganisation(ctx, &b, &tl), market.EINVALID)
	})
}

func TestImportProviders(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		ps := genProviders(1200, 1, 1)
		mustImport(t, s, ps)
		for i, p := range ps {
			if p.Organisation.ID == "" || p.Listing.Version != 1 {
				t.Fatalf("provider %d: ID %q version %d after import", i, p.Organisation.ID, p.Listing.Version)
			}
		}
		got, err := s.p.GetProvider(ctx, ps[777].Organisation.ID)
		if err != nil || !reflect.DeepEqual(got, ps[777]) {
			t.Errorf("GetProvider(imported) = %+v, %v\nwant %+v", got, err, ps[777])
		}
		if n, _ := s.o.CountOrganisations(ctx, market.KindSupplier); n != 1200 {
			t.Errorf("%d suppliers, want 1200", n)
		}

		t.Run("DuplicateInBatch", func(t *testing.T) {
			batch := genProviders(600, 2, 10_000)
			batch[599].Organisation.Identifiers = batch[3].Organisation.Identifiers
			err := s.o.ImportProviders(ctx, batch)
			wantCode(t, err, market.ECONFLICT)
			if !strings.Contains(market.ErrorMessage(err), batch[3].Organisation.Identifiers[0].String()) {
				t.Errorf("message %q does not name the identifier", market.ErrorMessage(err))
			}
			if n, _ := s.o.CountOrganisations(ctx, ""); n != 1200 {
				t.Errorf("%d organisations, want 1200: part of the batch was stored", n)
			}
		})
		t.Run("DuplicateOfStored", func(t *testing.T) {
			batch := genProviders(1100, 3, 20_000)
			batch[1050].Organisation.Identifiers = []market.Identifier{ps[5].Organisation.Identifiers[0]}
			err := s.o.ImportProviders(ctx, batch)
			wantCode(t, err, market.ECONFLICT)
			if !strings.Contains(market.ErrorMessage(err), ps[5].Organisation.Identifiers[0].String()) {
				t.Errorf("message %q does not name the identifier", market.ErrorMessage(err))
			}
			if n, _ := s.o.CountOrganisations(ctx, ""); n != 1200 {
				t.Errorf("%d organisations, want 1200: part of the batch was stored", n)
			}
			if batch[0].Organisation.ID != "" {
				t.Errorf("a failed import set IDs")
			}
			all := listAll(t, s, market.ProviderFilter{PageSize: 100})
			if len(all) != 1200 {
				t.Errorf("directory lists %d, want 1200", len(all))
			}
		})
	})
}

// matches is the reference for what the store's filters select.
func matches(p market.Provider, f market.ProviderFilter) bool {
	return p.Organisation.Status == market.StatusActive &&
		(f.Sector == "" || p.Organisation.Sector == f.Sector) &&
		(f.Size == "" || p.Listing.Size == f.Size) &&
		(f.Capability == "" || slices.Contains(p.Listing.Capabilities, f.Capability)) &&
		(f.Region == "" || slices.Contains(p.Listing.Regions, f.Region))
}

func TestListProvidersFilters(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ps := genProviders(400, 4, 1)
		for i := range ps {
			if i%10 == 0 {
				ps[i].Organisation.Status = market.StatusDisabled
			}
		}
		mustImport(t, s, ps)
		b := buyer("NHS Filter CCG", "05Y")
		if err := s.o.CreateOrganisation(t.Context(), &b, nil); err != nil {
			t.Fatal(err)
		}
		tests := map[string]market.ProviderFilter{
			"All":                       {},
			"Sector":                    {Sector: market.SectorThirdSector},
			"Capability":                {Capability: "risk_stratification"},
			"Region":                    {Region: "north_west"},
			"Size":                      {Size: market.SizeMicro},
			"SectorCapability":          {Sector: market.SectorNHS, Capability: "finance"},
			"SectorRegionSize":          {Sector: market.SectorLocalAuthority, Region: "london", Size: market.SizeLarge},
			"Everything":                {Sector: market.SectorIndependent, Capability: "business_intelligence", Region: "midlands", Size: market.SizeMedium},
			"CapabilityRegion":          {Capability: "contract_management", Region: "south_west"},
			"QWithSector":               {Q: "council", Sector: market.SectorLocalAuthority},
			"QWithCapability":           {Q: "analytics", Capability: "business_intelligence"},
			"QWithCapabilityRegionSize": {Q: "care", Capability: "finance", Region: "london", Size: market.SizeSmall},
		}
		for name, f := range tests {
			t.Run(name, func(t *testing.T) {
				f.PageSize = 13
				got := listAll(t, s, f)
				var want []string
				for _, p := range ps {
					cs := p.Listing.CaseStudies[0]
					text := strings.Join([]string{p.Organisation.Name, p.Listing.Summary, capabilityNames(p), cs.Title, cs.Client, cs.Summary}, " ")
					if matches(p, f) && (f.Q == "" || hasWordPrefix(text, f.Q)) {
						want = append(want, p.Organisation.ID)
					}
				}
				gotIDs := make([]string, len(got))
				for i, p := range got {
					gotIDs[i] = p.Organisation.ID
					if !matches(p, f) {
						t.Errorf("listed %s (%s, %s, %v, %v) does not match", p.Organisation.Name, p.Organisation.Sector, p.Listing.Size, p.Listing.Capabilities, p.Listing.Regions)
					}
				}
				if f.Q == "" {
					if !slices.IsSortedFunc(got, byNameThenID) {
						t.Errorf("not ordered by name then ID")
					}
				}
				slices.Sort(gotIDs)
				slices.Sort(want)
				if len(want) == 0 {
					t.Fatalf("the fixture has no provider for %+v; the case tests nothing", f)
				}
				if !slices.Equal(gotIDs, want) {
					t.Errorf("listed %d providers, want %d", len(gotIDs), len(want))
				}
			})
		}
	})
}

// hasWordPrefix reports whether a word of text starts with prefix, as a
// one-word search matches.
func hasWordPrefix(text, prefix string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r == ' ' || r == '.' || r == ',' }) {
		if strings.HasPrefix(w, strings.ToLower(prefix)) {
			return true
		}
	}
	return false
}

func capabilityNames(p market.Provider) string {
	var names []string
	for _, k := range p.Listing.Capabilities {
		c, _ := market.CapabilityByKey(k)
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}

func byNameThenID(a, b market.Provider) int {
	if c := strings.Compare(strings.ToLower(a.Organisation.Name), strings.ToLower(b.Organisation.Name)); c != 0 {
		return c
	}
	return strings.Compare(a.Organisation.ID, b.Organisation.ID)
}

func TestSearch(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		ps := genProviders(50, 5, 100)
		special, sl := supplier("Zephyr Quillfeather Analytics", "09999999")
		sl.Summary = "Specialists in hyperlocal syndromic surveillance for winter planning."
		sl.Capabilities = []string{"medicines_optimisation"}
		sl.CaseStudies = []market.CaseStudy{{Title: "Polypharmacy reviews", Client: "Tameside CCG", Summary: "Deprescribing in care homes."}}
		mustImport(t, s, ps)
		if err := s.o.CreateOrganisation(ctx, &special, &sl); err != nil {
			t.Fatal(err)
		}
		finds := map[string]string{
			"Name":                "quillfeather",
			"NameCase":            "ZEPHYR",
			"Summary":             "syndromic surveillance",
			"SummaryStemmed":      "surveilled", // Porter and English stemmers agree on "surveil"
			"CapabilityName":      "medicines optimisation",
			"CaseStudyTitle":      "polypharmacy",
			"CaseStudySummary":    "deprescribing",
			"PrefixOfLastWord":    "zephyr quillfea",
			"Punctuated":          `"quillfeather" -- (zephyr)!`,
			"WithStar":            "quill*",
			"MixedWithOperators":  "zephyr AND quillfeather",
			"NEARLikeSyntax":      "NEAR(zephyr quillfeather)",
			"ColumnFilterLike":    "hyperlocal:surveillance",
			"ApostropheInWord":    "quillfeather's",
			"TrailingSpace":       "quillfeather ",
			"CapabilityNameOnly":  "optimisation",
			"NumbersAndUnicodeOK": "zephyr ‘quillfeather’",
		}
		for name, q := range finds {
			t.Run("Finds"+name, func(t *testing.T) {
				page, err := s.p.ListProviders(ctx, market.ProviderFilter{Q: q, PageSize: 100})
				if err != nil {
					t.Fatalf("ListProviders(q=%q): %v", q, err)
				}
				if !slices.ContainsFunc(page.Items, func(p market.Provider) bool { return p.Organisation.ID == special.ID }) {
					t.Errorf("q=%q did not find the provider (%d items)", q, len(page.Items))
				}
			})
		}
		odd := []string{`"`, `""`, `'`, `*`, `-`, `--`, `OR`, `AND`, `NOT`, `NEAR`, `(`, `)`, `:`, `^`, `!`, `&`, `|`,
			`a OR`, `-zephyr`, `"unterminated`, `zephyr"`, `*zephyr`, `the`, `the and or`, `😀`, `中文`, `ﬁ`, `   `,
			`\`, `%`, `_`, `Zéphyr`, `;DROP TABLE listings;--`, `a:b`, `x*y`, "e\u0301", strings.Repeat("word ", 40), `'';`}
		for _, q := range odd {
			t.Run("Odd", func(t *testing.T) {
				for _, f := range []market.ProviderFilter{{Q: q, PageSize: 5}, {Q: q, PageSize: 5, Sector: market.SectorNHS}} {
					page, err := s.p.ListProviders(ctx, f)
					if err != nil {
						t.Fatalf("ListProviders(q=%q): %v", q, err)
					}
					if page.NextCursor != "" {
						f.Cursor = page.NextCursor
						if _, err := s.p.ListProviders(ctx, f); err != nil {
							t.Fatalf("ListProviders(q=%q) second page: %v", q, err)
						}
					}
				}
			})
		}
		t.Run("PunctuationOnlyListsEverything", func(t *testing.T) {
			got := listAll(t, s, market.ProviderFilter{Q: `"*-()`, PageSize: 20})
			if len(got) != 51 {
				t.Errorf("q of punctuation listed %d, want all 51", len(got))
			}
		})
		t.Run("NoMatch", func(t *testing.T) {
			page, err := s.p.ListProviders(ctx, market.ProviderFilter{Q: "xylophonist", PageSize: 20})
			if err != nil || len(page.Items) != 0 || page.NextCursor != "" {
				t.Errorf("ListProviders(no match) = %d items, cursor %q, %v", len(page.Items), page.NextCursor, err)
			}
		})
		t.Run("NameRanksFirst", func(t *testing.T) {
			// Every generated summary ends "... for clinical commissioning groups";
			// one provider has "commissioning" in its name as well.
			page, err := s.p.ListProviders(ctx, market.ProviderFilter{Q: "commissioning", PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) < 2 {
				t.Fatalf("found %d", len(page.Items))
			}
			if !strings.Contains(page.Items[0].Organisation.Name, "Commissioning") {
				t.Errorf("first result %q; a match in the name should rank above one in the summary", page.Items[0].Organisation.Name)
			}
		})
	})
}

func TestPagination(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ps := genProviders(230, 6, 1)
		for i := range ps {
			if i%3 != 0 {
				ps[i].Organisation.Name = "Same Name Partnership"
				ps[i].Listing.Summary = "Identical words in every summary here."
				ps[i].Listing.CaseStudies[0] = market.CaseStudy{Title: "Same", Summary: "Same"}
			}
		}
		mustImport(t, s, ps)
		tests := map[string]market.ProviderFilter{
			"ByName":            {PageSize: 7},
			"ByNamePageOfOne":   {PageSize: 1},
			"ByNameSector":      {PageSize: 9, Sector: market.SectorNHS},
			"ByRelevance":       {PageSize: 7, Q: "partnership"},
			"ByRelevanceTies":   {PageSize: 11, Q: "identical words"},
			"ByRelevanceWide":   {PageSize: 10, Q: "commissioning"},
			"ByRelevanceRegion": {PageSize: 3, Q: "partnership", Region: "london"},
		}
		for name, f := range tests {
			t.Run(name, func(t *testing.T) {
				all := listAll(t, s, f)
				seen := map[string]bool{}
				for _, p := range all {
					if seen[p.Organisation.ID] {
						t.Fatalf("%s listed twice", p.Organisation.ID)
					}
					seen[p.Organisation.ID] = true
				}
				// The same query in one page of everything is the truth.
				want := 0
				for _, p := range ps {
					text := strings.ToLower(p.Organisation.Name + " " + p.Listing.Summary + " " + p.Listing.CaseStudies[0].Title + " " + p.Listing.CaseStudies[0].Summary)
					ok := matches(p, f)
					for _, w := range strings.Fields(strings.ToLower(f.Q)) {
						ok = ok && strings.Contains(text, w)
					}
					if ok {
						want++
					}
				}
				if len(all) != want || want == 0 {
					t.Errorf("paged through %d providers, want %d (and more than none)", len(all), want)
				}
				if f.Q == "" && !slices.IsSortedFunc(all, byNameThenID) {
					t.Errorf("pages not in name, ID order")
				}
			})
		}
	})
}

func TestListProvidersBadCursor(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		mustImport(t, s, genProviders(30, 7, 1))
		ctx := t.Context()
		byName, err := s.p.ListProviders(ctx, market.ProviderFilter{PageSize: 5})
		if err != nil || byName.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, byName.NextCursor)
		}
		byScore, err := s.p.ListProviders(ctx, market.ProviderFilter{Q: "commissioning", PageSize: 5})
		if err != nil || byScore.NextCursor == "" {
			t.Fatalf("first search page: %v, cursor %q", err, byScore.NextCursor)
		}
		tests := map[string]market.ProviderFilter{
			"NotBase64":       {Cursor: "!!!"},
			"NotJSON":         {Cursor: "bm90IGpzb24"},
			"EmptyList":       {Cursor: market.EncodeCursor()},
			"TooFewKeys":      {Cursor: market.EncodeCursor("n", "x")},
			"UnknownKind":     {Cursor: market.EncodeCursor("z", "x", "y")},
			"NameCursorWithQ": {Q: "commissioning", Cursor: byName.NextCursor},
			"ScoreCursorNoQ":  {Cursor: byScore.NextCursor},
			"ScoreNotANumber": {Q: "commissioning", Cursor: market.EncodeCursor("r", "high", "x")},
			"ScoreNaN":        {Q: "commissioning", Cursor: market.EncodeCursor("r", "NaN", "x")},
			"ScoreInfinite":   {Q: "commissioning", Cursor: market.EncodeCursor("r", "+Inf", "x")},
			"TooLong":         {Cursor: strings.Repeat("A", 2000)},
		}
		for name, f := range tests {
			t.Run(name, func(t *testing.T) {
				f.PageSize = 5
				_, err := s.p.ListProviders(ctx, f)
				wantCode(t, err, market.EINVALID)
				fields := market.ErrorFields(err)
				if len(fields) != 1 || fields[0].Field != "cursor" {
					t.Errorf("field errors %+v, want one naming cursor", fields)
				}
			})
		}
	})
}

func TestUpdateListing(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		o, l := supplier("Ribble Valley Partners", "01234567")
		if err := s.o.CreateOrganisation(ctx, &o, &l); err != nil {
			t.Fatal(err)
		}
		mustImport(t, s, genProviders(20, 8, 100))

		s.clock.Add(time.Hour)
		next := l
		next.Summary = "Now doing xenotransplant logistics modelling."
		next.Capabilities = []string{"finance", "business_intelligence"}
		next.Regions = []string{"north_west", "midlands", "london"}
		next.Size = market.SizeMedium
		next.Accreditations = nil
		next.CaseStudies = []market.CaseStudy{}
		next.Contact.Website = ""
		got, err := s.p.UpdateListing(ctx, o.ID, next, 1)
		if err != nil {
			t.Fatalf("UpdateListing: %v", err)
		}
		if got.Listing.Version != 2 || !got.Listing.UpdatedAt.Equal(s.clock.Now().Truncate(time.Microsecond)) {
			t.Errorf("version %d at %v, want 2 at the clock's time", got.Listing.Version, got.Listing.UpdatedAt)
		}
		stored, err := s.p.GetProvider(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(stored, got) {
			t.Errorf("GetProvider after update =\n%+v\nwant what UpdateListing returned\n%+v", stored, got)
		}
		if !slices.Equal(got.Listing.Capabilities, next.Capabilities) || !slices.Equal(got.Listing.Regions, next.Regions) ||
			got.Listing.Summary != next.Summary || len(got.Listing.CaseStudies) != 0 || len(got.Listing.Accreditations) != 0 {
			t.Errorf("stored listing %+v, want %+v", got.Listing, next)
		}
		listed := func(f market.ProviderFilter) bool {
			f.PageSize = 100
			page, err := s.p.ListProviders(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(page.Items, func(p market.Provider) bool { return p.Organisation.ID == o.ID })
		}
		for _, f := range []market.ProviderFilter{{Q: "xenotransplant"}, {Q: "Ribble"}, {Capability: "finance"}, {Region: "north_west"}, {Size: market.SizeMedium}} {
			if !listed(f) {
				t.Errorf("updated listing not found by %+v", f)
			}
		}
		for _, f := range []market.ProviderFilter{{Q: "listening"}, {Q: "engagement"}, {Capability: "service_redesign"}, {Region: "south_east"}, {Size: market.SizeSmall}} {
			if listed(f) {
				t.Errorf("updated listing still found by its old %+v", f)
			}
		}

		t.Run("StaleVersion", func(t *testing.T) {
			_, err := s.p.UpdateListing(ctx, o.ID, l, 1)
			wantCode(t, err, market.EPRECONDITION)
			if p, _ := s.p.GetProvider(ctx, o.ID); p.Listing.Version != 2 || p.Listing.Summary != next.Summary {
				t.Errorf("a stale update changed the listing: %+v", p.Listing)
			}
		})
		t.Run("Unknown", func(t *testing.T) {
			_, err := s.p.UpdateListing(ctx, "0190f000-0000-7000-8000-000000000000", l, 1)
			wantCode(t, err, market.ENOTFOUND)
		})
		t.Run("Buyer", func(t *testing.T) {
			b := buyer("NHS Update CCG", "05Y")
			if err := s.o.CreateOrganisation(ctx, &b, nil); err != nil {
				t.Fatal(err)
			}
			_, err := s.p.UpdateListing(ctx, b.ID, l, 1)
			wantCode(t, err, market.ENOTFOUND)
		})
		t.Run("ConcurrentSameVersion", func(t *testing.T) {
			const writers = 8
			var (
				wg   sync.WaitGroup
				errs = make([]error, writers)
			)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := next
					w.Summary = strings.Repeat("x", i+1)
					_, errs[i] = s.p.UpdateListing(ctx, o.ID, w, 2)
				}()
			}
			wg.Wait()
			wins := countWins(t, errs, market.EPRECONDITION, "update")
			if wins != 1 {
				t.Fatalf("%d concurrent updates of version 2 succeeded, want exactly 1", wins)
			}
			p, _ := s.p.GetProvider(ctx, o.ID)
			if p.Listing.Version != 3 {
				t.Errorf("version %d after the race, want 3", p.Listing.Version)
			}
		})
	})
}

func TestConcurrentWriters(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		const writers, each = 12, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each*2)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					o, l := supplier("Writer Partners", fmt.Sprintf("%02d%06d", w, i))
					o.Identifiers = o.Identifiers[:1]
					if err := s.o.CreateOrganisation(ctx, &o, &l); err != nil {
						errs <- err
						continue
					}
					if _, err := s.p.UpdateListing(ctx, o.ID, l, 1); err != nil {
						errs <- err
					}
					if _, err := s.p.ListProviders(ctx, market.ProviderFilter{Q: "writer", PageSize: 5}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent write: %v", err)
		}
		if n, _ := s.o.CountOrganisations(ctx, market.KindSupplier); n != writers*each {
			t.Errorf("%d suppliers stored, want %d", n, writers*each)
		}
	})
}
