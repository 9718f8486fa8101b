package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestOwnBids lists a supplier's bids across tenders: its own, withdrawn
// ones too, each with its tender's status, and never another supplier's
// or the baseline; anyone but a supplier's user is refused.
func TestOwnBids(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			start := e.clock.Now()
			closing := e.publishedTender(t, w.lead, "Closing soon", 2*time.Minute, 5*time.Minute)
			open := e.publishedTender(t, w.lead, "Open for long", 20*time.Minute, 40*time.Minute)
			mine := e.submitBid(t, w.firm, closing.ID, 41_000_000)
			e.clock.Advance(time.Second)
			withdrawn := e.submitBid(t, w.firm, open.ID, 43_000_000)
			res, b := e.do(t, req{method: http.MethodPost, target: withdrawPath(open.ID, withdrawn.ID), token: w.firm.access})
			want(t, res, b, http.StatusOK)
			theirs := e.submitBid(t, w.nhs, closing.ID, 39_876_543)
			e.clock.set(start.Add(5*time.Minute + time.Second))
			e.relogin(t, &w.firm, &w.nhs, &w.charity, &w.lead)

			list := func(tb testing.TB, a actor, status int) listResponse[ownBidResponse] {
				tb.Helper()
				res, b := e.do(tb, req{method: http.MethodGet, target: "/api/v1/me/bids", token: a.access})
				want(tb, res, b, status)
				if status != http.StatusOK {
					checkReveals(tb, "refused own bids", b, secrets{ids: []string{mine.ID, theirs.ID}, prices: []int64{41_000_000, 39_876_543}})
					return listResponse[ownBidResponse]{}
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					tb.Errorf("own bids with Cache-Control %q", cc)
				}
				if strings.Contains(string(b), "in_house") || strings.Contains(string(b), "45678901") {
					tb.Errorf("own bids reveal the baseline: %s", b)
				}
				return mustDecode[listResponse[ownBidResponse]](tb, b)
			}
			t.Run("Own", func(t *testing.T) {
				got := list(t, w.firm, http.StatusOK).Items
				if len(got) != 2 || got[0].Bid.ID != withdrawn.ID || got[1].Bid.ID != mine.ID {
					t.Fatalf("own bids %+v, want the withdrawn (latest) then the submitted one", got)
				}
				if got[0].Bid.Status != "withdrawn" || got[0].Tender.Status != "open" || got[0].Tender.Title != "Open for long" {
					t.Errorf("withdrawn: %+v", got[0])
				}
				if got[1].Bid.Status != "submitted" || got[1].Tender.Status != "closed" || got[1].Bid.PricePence != 41_000_000 || got[1].Bid.Version != 1 {
					t.Errorf("submitted: %+v", got[1])
				}
			})
			t.Run("AnotherSuppliersOnly", func(t *testing.T) {
				got := list(t, w.nhs, http.StatusOK).Items
				if len(got) != 1 || got[0].Bid.ID != theirs.ID {
					t.Errorf("the CSU's bids %+v", got)
				}
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/me/bids", token: w.charity.access})
				want(t, res, b, http.StatusOK)
				checkReveals(t, "a supplier with no bids", b, secrets{ids: []string{mine.ID, theirs.ID, withdrawn.ID}, prices: []int64{41_000_000, 39_876_543, 43_000_000}})
			})
			t.Run("Refused", func(t *testing.T) {
				list(t, w.lead, http.StatusForbidden)
				list(t, w.operator, http.StatusForbidden)
				list(t, actor{}, http.StatusUnauthorized)
				list(t, actor{access: w.firm.access[:len(w.firm.access)-4] + "AAAA"}, http.StatusUnauthorized)
			})
		})
	}
}
