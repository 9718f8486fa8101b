package sqlstore_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// TestSearchWindows checks a search matching more listings than one
// window holds against ranking every match in one query, as the directory
// did before windows: the newest sqlstore.SearchWindow matches (that carry
// the filters, whatever their supplier's status) ranked by relevance then
// ID, then the next window of older ones, leaving out suppliers not in
// the directory; every match listed once, in that order, page after page,
// whatever the page size; and a search of fewer matches than a window is
// the whole ranking.
func TestSearchWindows(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		n := sqlstore.SearchWindow*2 + 300
		ps := genProviders(n, 11, 1)
		for i := range ps {
			if i%97 == 0 {
				ps[i].Organisation.Name = "Commissioning " + ps[i].Organisation.Name
			}
			if i%89 == 0 {
				ps[i].Organisation.Status = market.StatusDisabled
			}
		}
		// In batches, so that lid order is the order of the batches.
		for lo := 0; lo < n; lo += 250 {
			mustImport(t, s, ps[lo:min(lo+250, n)])
		}
		tests := map[string]market.ProviderFilter{
			"CommonWord":        {Q: "commissioning", PageSize: 20},
			"CommonWordPage7":   {Q: "commissioning", PageSize: 7},
			"CommonWordPage100": {Q: "commissioning", PageSize: 100},
			"Prefix":            {Q: "clinical comm", PageSize: 50},
			"WithSector":        {Q: "commissioning", Sector: market.SectorNHS, PageSize: 20},
			"WithCapability":    {Q: "groups", Capability: "finance", PageSize: 30},
			"WithRegionSize":    {Q: "commissioning", Region: "london", Size: market.SizeSmall, PageSize: 5},
			"FewerThanAWindow":  {Q: "commissioning", Capability: "finance", Region: "london", PageSize: 10},
		}
		for name, f := range tests {
			t.Run(name, func(t *testing.T) {
				all, err := sqlstore.RankAll(ctx, s.db, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(all) == 0 {
					t.Fatal("the search matches nothing")
				}
				// RankAll is newest first; each window is ranked.
				var want []string
				for lo := 0; lo < len(all); lo += sqlstore.SearchWindow {
					w := slices.Clone(all[lo:min(lo+sqlstore.SearchWindow, len(all))])
					slices.SortFunc(w, func(a, b sqlstore.RankedMatch) int {
						if c := cmp.Compare(b.Score, a.Score); c != 0 {
							return c
						}
						return strings.Compare(a.ID, b.ID)
					})
					for _, m := range w {
						if m.Active {
							want = append(want, m.ID)
						}
					}
				}
				var got []string
				for _, p := range listAll(t, s, f) {
					got = append(got, p.Organisation.ID)
					if !matches(p, f) {
						t.Errorf("%s does not pass the filters", p.Organisation.ID)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("listed %d, want %d in window order; first difference at %d", len(got), len(want), firstDiff(got, want))
				}
				if name == "CommonWord" && len(all) <= sqlstore.SearchWindow {
					t.Errorf("%d matches: the test needs more than a window", len(all))
				}
			})
		}
	})
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSearchFacetsFollowListing checks that a search with a filter follows
// a listing's edits: found under its new capability, region and size, not
// under the old ones.
func TestSearchFacetsFollowListing(t *testing.T) {
	eachEngine(t, func(t *testing.T, s stores) {
		ctx := t.Context()
		mustImport(t, s, genProviders(30, 3, 1))
		o, l := supplier("Quillon Analytics", "09999998")
		l.Capabilities, l.Regions, l.Size = []string{"finance"}, []string{"london"}, market.SizeSmall
		if err := s.o.CreateOrganisation(ctx, &o, &l); err != nil {
			t.Fatal(err)
		}
		found := func(f market.ProviderFilter) bool {
			f.Q = "quillon"
			page, err := s.p.ListProviders(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(page.Items, func(p market.Provider) bool { return p.Organisation.ID == o.ID })
		}
		before := []market.ProviderFilter{{Capability: "finance"}, {Region: "london"}, {Size: market.SizeSmall}, {Sector: o.Sector}}
		after := []market.ProviderFilter{{Capability: "hr_od"}, {Region: "north_west"}, {Size: market.SizeLarge}, {Sector: o.Sector}}
		for _, f := range before {
			if !found(f) {
				t.Errorf("not found with %+v", f)
			}
		}
		l.Capabilities, l.Regions, l.Size = []string{"hr_od"}, []string{"north_west"}, market.SizeLarge
		if _, err := s.p.UpdateListing(ctx, o.ID, l, 1); err != nil {
			t.Fatal(err)
		}
		for _, f := range after {
			if !found(f) {
				t.Errorf("after the edit, not found with %+v", f)
			}
		}
		for _, f := range before[:3] {
			if found(f) {
				t.Errorf("after the edit, still found with %+v", f)
			}
		}
	})
}
