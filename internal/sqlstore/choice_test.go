package sqlstore_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// TestChoiceFigures counts a small market by hand: who lists, who bids on
// which tender, who wins.
func TestChoiceFigures(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		ms := sqlstore.NewMarketStore(s.db)
		start := s.clock.Now()
		sup := func(name, coh string, sector market.Sector, status market.OrgStatus, listed bool) market.User {
			_, u := mustRegisterSupplier(t, s, name, coh, sector, status, listed)
			return u
		}
		// Listed and active: two NHS, one third sector. Not counted: a
		// pending and a disabled listing, a supplier registered without a
		// listing, whose empty one is in the directory but not yet written
		// (and sup1, sup2, registered the same way).
		a := sup("Alpha CSU", "11000001", market.SectorNHS, market.StatusActive, true)
		b := sup("Beta CSU", "11000002", market.SectorNHS, market.StatusActive, true)
		c := sup("Gamma Trust", "11000003", market.SectorThirdSector, market.StatusActive, true)
		sup("Delta Ltd", "11000004", market.SectorIndependent, market.StatusPending, true)
		e := sup("Epsilon Council", "11000005", market.SectorLocalAuthority, market.StatusActive, false)
		sup("Zeta Ltd", "11000006", market.SectorIndependent, market.StatusDisabled, true)

		t1 := mustPublished(t, s, s.draft("Two sectors"))
		t2 := mustPublished(t, s, s.draft("One bid"))
		t4 := mustPublished(t, s, s.draft("One sector"))
		open := s.draft("Still open")
		open.BidDeadline = open.BidDeadline.Add(30 * 24 * time.Hour)
		t3 := mustPublished(t, s, open)
		mustCreateTender(t, s, s.draft("Draft"))

		a1 := mustSubmit(t, s, t1, a, 40_000_000)
		mustSubmit(t, s, t1, c, 35_000_000)
		withdrawn := mustSubmit(t, s, t1, b, 30_000_000)
		withdrawn.Status = market.BidWithdrawn
		if err := s.ts.WithdrawBid(ctx, &withdrawn, s.event(b, "bid", "bid.withdrawn")); err != nil {
			t.Fatal(err)
		}
		mustSubmit(t, s, t2, b, 20_000_000)
		mustSubmit(t, s, t4, a, 12_000_000)
		b4 := mustSubmit(t, s, t4, b, 11_000_000)
		// Sealed: the open tender's bids count nowhere.
		for _, u := range []market.User{a, c, e} {
			mustSubmit(t, s, t3, u, 1_000_000)
		}

		s.clock.Add(11 * 24 * time.Hour)
		award := func(tender market.Tender, bid market.Bid, confirm bool) {
			tender = mustSave(t, s, tender, "tender.award_decided", func(t *market.Tender) {
				t.AwardedAt, t.AwardBidID, t.AwardReason = s.clock.Now(), bid.ID, "Best."
				t.StandstillEndsAt = s.clock.Now().Add(time.Hour)
			})
			if confirm {
				mustSave(t, s, tender, "tender.awarded", func(t *market.Tender) { t.AwardConfirmedAt = s.clock.Now().Add(time.Hour) })
			}
		}
		award(t1, a1, true)
		award(t4, b4, true)
		award(t2, market.Bid{ID: mustBidOf(t, s, t2.ID)}, false) // in standstill: not a final award

		zero := map[market.Sector]market.SectorFigures{}
		for _, sec := range market.Sectors {
			zero[sec] = market.SectorFigures{}
		}
		for name, c := range map[string]struct {
			at   time.Time
			want market.ChoiceFigures
		}{
			"BeforeDeadlines": {start, market.ChoiceFigures{Sectors: with(zero, map[market.Sector]market.SectorFigures{
				market.SectorNHS:         {Listings: 2},
				market.SectorThirdSector: {Listings: 1},
			})}},
			"AfterDeadlinesBeforeConfirmation": {s.clock.Now(), market.ChoiceFigures{Sectors: with(zero, map[market.Sector]market.SectorFigures{
				market.SectorNHS:         {Listings: 2, Bids: 4},
				market.SectorThirdSector: {Listings: 1, Bids: 1},
			}), TendersWithBids: 3, MultiSectorTenders: 1, SingleBidTenders: 1}},
			"JustBeforeTheDeadline": {t1.BidDeadline.Add(-time.Microsecond), market.ChoiceFigures{Sectors: with(zero, map[market.Sector]market.SectorFigures{
				market.SectorNHS:         {Listings: 2},
				market.SectorThirdSector: {Listings: 1},
			})}},
			"AtTheDeadline": {t1.BidDeadline, market.ChoiceFigures{Sectors: with(zero, map[market.Sector]market.SectorFigures{
				market.SectorNHS:         {Listings: 2, Bids: 4},
				market.SectorThirdSector: {Listings: 1, Bids: 1},
			}), TendersWithBids: 3, MultiSectorTenders: 1, SingleBidTenders: 1}},
			"AfterConfirmation": {s.clock.Now().Add(2 * time.Hour), market.ChoiceFigures{Sectors: with(zero, map[market.Sector]market.SectorFigures{
				market.SectorNHS:         {Listings: 2, Bids: 4, Awards: 2, AwardValuePence: 40_000_000 + 11_000_000},
				market.SectorThirdSector: {Listings: 1, Bids: 1},
			}), TendersWithBids: 3, MultiSectorTenders: 1, SingleBidTenders: 1}},
		} {
			t.Run(name, func(t *testing.T) {
				got, err := ms.ChoiceFigures(ctx, c.at)
				if err != nil || !reflect.DeepEqual(got, c.want) {
					t.Errorf("ChoiceFigures =\n%+v, %v\nwant\n%+v", got, err, c.want)
				}
			})
		}

		t.Run("CancelledAfterAward", func(t *testing.T) {
			cur, err := s.ts.GetTender(ctx, t4.ID)
			if err != nil {
				t.Fatal(err)
			}
			mustSave(t, s, cur, "tender.cancelled", func(t *market.Tender) { t.CancelledAt, t.CancelReason = s.clock.Now(), "Void." })
			got, err := ms.ChoiceFigures(ctx, s.clock.Now().Add(2*time.Hour))
			if err != nil || got.Sectors[market.SectorNHS].Awards != 1 || got.Sectors[market.SectorNHS].AwardValuePence != 40_000_000 {
				t.Errorf("after cancelling an awarded tender: %+v, %v; want one NHS award of 40,000,000", got.Sectors[market.SectorNHS], err)
			}
		})
	})
}

func mustBidOf(tb testing.TB, s *tenderStores, tenderID string) string {
	tb.Helper()
	bids, err := s.ts.ListBids(tb.Context(), tenderID, "", false)
	if err != nil || len(bids) != 1 {
		tb.Fatalf("ListBids = %v, %v", bids, err)
	}
	return bids[0].ID
}

func with(base, over map[market.Sector]market.SectorFigures) map[market.Sector]market.SectorFigures {
	m := map[market.Sector]market.SectorFigures{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

// TestChoiceTalliesFollowChanges: the figures' listings and bids are read
// from tallies that triggers keep; after each change a user can make (a
// supplier approved, disabled, enabled again, its empty listing written,
// a bulk import, a tender's deadline moved after bids came in), they
// equal the counts made from scratch.
func TestChoiceTalliesFollowChanges(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		ms := sqlstore.NewMarketStore(s.db)
		ps := sqlstore.NewProviderStore(s.db, s.clock)
		orgs := sqlstore.NewOrganisationStore(s.db, s.clock)
		check := func(step string) {
			t.Helper()
			got, err := ms.ChoiceFigures(ctx, s.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range market.Sectors {
				var want int
				if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM organisations o JOIN listings l ON l.org_id = o.id
					WHERE o.kind = 'supplier' AND o.status = 'active' AND o.sector = ? AND l.size <> ''`, string(sec)).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if got.Sectors[sec].Listings != want {
					t.Errorf("%s: %s listings %d, counted afresh %d", step, sec, got.Sectors[sec].Listings, want)
				}
			}
		}
		check("at the start")
		reg := func(name, coh string, sector market.Sector, status market.OrgStatus, listed bool) market.Organisation {
			o, _ := mustRegisterSupplier(t, s, name, coh, sector, status, listed)
			return o
		}
		pending := reg("Pending CSU", "12000001", market.SectorNHS, market.StatusPending, true)
		empty := reg("Empty Council", "12000002", market.SectorLocalAuthority, market.StatusActive, false)
		active := reg("Active Trust", "12000003", market.SectorThirdSector, market.StatusActive, true)
		check("after registrations")
		for _, step := range []struct {
			id string
			st market.OrgStatus
		}{{pending.ID, market.StatusActive}, {active.ID, market.StatusDisabled}, {active.ID, market.StatusActive}, {empty.ID, market.StatusDisabled}} {
			if _, err := s.u.SetOrganisationStatus(ctx, step.id, step.st); err != nil {
				t.Fatal(err)
			}
			check("after setting " + step.id + " " + string(step.st))
		}
		if _, err := s.u.SetOrganisationStatus(ctx, empty.ID, market.StatusActive); err != nil {
			t.Fatal(err)
		}
		p, err := ps.GetProvider(ctx, empty.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, l := supplier("", "12000002")
		if _, err := ps.UpdateListing(ctx, empty.ID, l, p.Listing.Version); err != nil {
			t.Fatal(err)
		}
		check("after the empty listing was written")
		got, _ := ms.ChoiceFigures(ctx, s.clock.Now())
		if got.Sectors[market.SectorLocalAuthority].Listings != 1 || got.Sectors[market.SectorNHS].Listings != 1 || got.Sectors[market.SectorThirdSector].Listings != 1 {
			t.Errorf("listings %+v, want one each for NHS, local authority and third sector", got.Sectors)
		}
		var imported []market.Provider
		for i := range 3 {
			o, l := supplier(fmt.Sprintf("Imported %d Ltd", i), fmt.Sprintf("150001%02d", i))
			o.Sector, o.Status = market.SectorIndependent, market.StatusActive
			imported = append(imported, market.Provider{Organisation: o, Listing: l})
		}
		if err := orgs.ImportProviders(ctx, imported); err != nil {
			t.Fatal(err)
		}
		check("after an import")

		// A tender whose deadline moves after bids came in: its bids count
		// from the new deadline, not the old.
		tender := mustPublished(t, s, s.draft("Moved deadline"))
		mustSubmit(t, s, tender, s.sup1User, 10_000_000)
		oldDeadline := tender.BidDeadline
		tender = mustSave(t, s, tender, "tender.updated", func(t *market.Tender) { t.BidDeadline = oldDeadline.Add(48 * time.Hour) })
		for _, c := range []struct {
			at   time.Time
			bids int
		}{{oldDeadline, 0}, {tender.BidDeadline.Add(-time.Microsecond), 0}, {tender.BidDeadline, 1}} {
			got, err := ms.ChoiceFigures(ctx, c.at)
			if err != nil || got.TendersWithBids != c.bids {
				t.Errorf("at %s (deadline moved to %s): %d tenders with bids, %v; want %d", c.at, tender.BidDeadline, got.TendersWithBids, err, c.bids)
			}
		}
	})
}

// mustRegisterSupplier registers a supplier of sector and status, with
// its listing when listed (otherwise with the empty one of a new supplier),
// and its first user bids@COH.
func mustRegisterSupplier(tb testing.TB, s *tenderStores, name, coh string, sector market.Sector, status market.OrgStatus, listed bool) (market.Organisation, market.User) {
	tb.Helper()
	o, l := supplier(name, coh)
	o.Sector, o.Status = sector, status
	lp := &l
	if !listed {
		lp = nil
	}
	return mustRegister(tb, s.accountStores, o, lp, "bids@"+coh+".example.org")
}
