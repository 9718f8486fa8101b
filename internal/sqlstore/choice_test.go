package sqlstore_test

import (
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
			o, l := supplier(name, coh)
			o.Sector, o.Status = sector, status
			lp := &l
			if !listed {
				lp = nil
			}
			_, u := mustRegister(t, s.accountStores, o, lp, "bids@"+coh+".example.org")
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
